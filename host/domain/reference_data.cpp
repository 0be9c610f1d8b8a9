// Reference lists, kept as sorted constant tables so lookups are binary searches with no set-up.
// Update them when ISO or the EU changes something; each table says where it comes from.
#include "domain/reference_data.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <regex>
#include <string>
#include <vector>

namespace psahost::domain {
namespace {

// ISO 3166-1 alpha-2, the 249 officially assigned codes (as in Debian's iso-codes 4.15;
// the list has not changed since South Sudan was added in 2011).
constexpr std::array<std::string_view, 249> kCountries = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"};
static_assert(std::is_sorted(kCountries.begin(), kCountries.end()));

constexpr std::array<std::string_view, 27> kEuMembers = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"};
static_assert(std::is_sorted(kEuMembers.begin(), kEuMembers.end()));

struct Currency {
  std::string_view code;
  int exponent;  // kNoMinorUnit where ISO 4217 says "N.A."
};
constexpr int kNoMinorUnit = -1;

// ISO 4217 list A.1 with its minor units, as amended up to 2026: HRK (Croatia, 2023) and BGN
// (Bulgaria, 2026) went to the euro, SLL was redenominated as SLE, ZWL replaced by ZWG (2024)
// and ANG by XCG (2025), so those old codes are gone and an invoice cannot be written in them.
constexpr std::array<Currency, 178> kCurrencies = {{
    {"AED", 2},
    {"AFN", 2},
    {"ALL", 2},
    {"AMD", 2},
    {"AOA", 2},
    {"ARS", 2},
    {"AUD", 2},
    {"AWG", 2},
    {"AZN", 2},
    {"BAM", 2},
    {"BBD", 2},
    {"BDT", 2},
    {"BHD", 3},
    {"BIF", 0},
    {"BMD", 2},
    {"BND", 2},
    {"BOB", 2},
    {"BOV", 2},
    {"BRL", 2},
    {"BSD", 2},
    {"BTN", 2},
    {"BWP", 2},
    {"BYN", 2},
    {"BZD", 2},
    {"CAD", 2},
    {"CDF", 2},
    {"CHE", 2},
    {"CHF", 2},
    {"CHW", 2},
    {"CLF", 4},
    {"CLP", 0},
    {"CNY", 2},
    {"COP", 2},
    {"COU", 2},
    {"CRC", 2},
    {"CUC", 2},
    {"CUP", 2},
    {"CVE", 2},
    {"CZK", 2},
    {"DJF", 0},
    {"DKK", 2},
    {"DOP", 2},
    {"DZD", 2},
    {"EGP", 2},
    {"ERN", 2},
    {"ETB", 2},
    {"EUR", 2},
    {"FJD", 2},
    {"FKP", 2},
    {"GBP", 2},
    {"GEL", 2},
    {"GHS", 2},
    {"GIP", 2},
    {"GMD", 2},
    {"GNF", 0},
    {"GTQ", 2},
    {"GYD", 2},
    {"HKD", 2},
    {"HNL", 2},
    {"HTG", 2},
    {"HUF", 2},
    {"IDR", 2},
    {"ILS", 2},
    {"INR", 2},
    {"IQD", 3},
    {"IRR", 2},
    {"ISK", 0},
    {"JMD", 2},
    {"JOD", 3},
    {"JPY", 0},
    {"KES", 2},
    {"KGS", 2},
    {"KHR", 2},
    {"KMF", 0},
    {"KPW", 2},
    {"KRW", 0},
    {"KWD", 3},
    {"KYD", 2},
    {"KZT", 2},
    {"LAK", 2},
    {"LBP", 2},
    {"LKR", 2},
    {"LRD", 2},
    {"LSL", 2},
    {"LYD", 3},
    {"MAD", 2},
    {"MDL", 2},
    {"MGA", 2},
    {"MKD", 2},
    {"MMK", 2},
    {"MNT", 2},
    {"MOP", 2},
    {"MRU", 2},
    {"MUR", 2},
    {"MVR", 2},
    {"MWK", 2},
    {"MXN", 2},
    {"MXV", 2},
    {"MYR", 2},
    {"MZN", 2},
    {"NAD", 2},
    {"NGN", 2},
    {"NIO", 2},
    {"NOK", 2},
    {"NPR", 2},
    {"NZD", 2},
    {"OMR", 3},
    {"PAB", 2},
    {"PEN", 2},
    {"PGK", 2},
    {"PHP", 2},
    {"PKR", 2},
    {"PLN", 2},
    {"PYG", 0},
    {"QAR", 2},
    {"RON", 2},
    {"RSD", 2},
    {"RUB", 2},
    {"RWF", 0},
    {"SAR", 2},
    {"SBD", 2},
    {"SCR", 2},
    {"SDG", 2},
    {"SEK", 2},
    {"SGD", 2},
    {"SHP", 2},
    {"SLE", 2},
    {"SOS", 2},
    {"SRD", 2},
    {"SSP", 2},
    {"STN", 2},
    {"SVC", 2},
    {"SYP", 2},
    {"SZL", 2},
    {"THB", 2},
    {"TJS", 2},
    {"TMT", 2},
    {"TND", 3},
    {"TOP", 2},
    {"TRY", 2},
    {"TTD", 2},
    {"TWD", 2},
    {"TZS", 2},
    {"UAH", 2},
    {"UGX", 0},
    {"USD", 2},
    {"USN", 2},
    {"UYI", 0},
    {"UYU", 2},
    {"UYW", 4},
    {"UZS", 2},
    {"VED", 2},
    {"VES", 2},
    {"VND", 0},
    {"VUV", 0},
    {"WST", 2},
    {"XAF", 0},
    {"XAG", kNoMinorUnit},
    {"XAU", kNoMinorUnit},
    {"XBA", kNoMinorUnit},
    {"XBB", kNoMinorUnit},
    {"XBC", kNoMinorUnit},
    {"XBD", kNoMinorUnit},
    {"XCD", 2},
    {"XCG", 2},
    {"XDR", kNoMinorUnit},
    {"XOF", 0},
    {"XPD", kNoMinorUnit},
    {"XPF", 0},
    {"XPT", kNoMinorUnit},
    {"XSU", kNoMinorUnit},
    {"XTS", kNoMinorUnit},
    {"XUA", kNoMinorUnit},
    {"XXX", kNoMinorUnit},
    {"YER", 2},
    {"ZAR", 2},
    {"ZMW", 2},
    {"ZWG", 2},
}};
static_assert(std::is_sorted(kCurrencies.begin(), kCurrencies.end(),
                             [](const Currency& a, const Currency& b) { return a.code < b.code; }));

constexpr auto kCurrencyCodes = [] {
  std::array<std::string_view, kCurrencies.size()> codes{};
  for (std::size_t i = 0; i < kCurrencies.size(); ++i) codes[i] = kCurrencies[i].code;
  return codes;
}();

struct VatFormat {
  std::string_view country;      // ISO 3166-1
  std::string_view prefix;       // what VIES expects in front of the number
  std::string_view pattern;      // ECMAScript regex over the whole normalised number
  std::string_view description;  // for messages
};

// The member states' VAT number shapes as VIES lists them ("VAT identification number
// structure"), narrowed where the national rules are stricter than VIES's table and well
// documented (python-stdnum's per-country modules): Belgian numbers start with 0 or 1, Spanish
// ones are never all digits, French keys skip I and O, Irish 9th characters are A-I or W,
// Romanian numbers have no leading zero and Swedish ones end in 01.
constexpr std::array<VatFormat, 27> kEuVatFormats = {{
    {"AT", "AT", R"(ATU\d{8})", "ATU and 8 digits, like ATU12345678"},
    {"BE", "BE", R"(BE[01]\d{9})", "BE and 10 digits starting with 0 or 1, like BE0123456789"},
    {"BG", "BG", R"(BG\d{9,10})", "BG and 9 or 10 digits, like BG123456789"},
    {"CY", "CY", R"(CY\d{8}[A-Z])", "CY, 8 digits and a letter, like CY12345678L"},
    {"CZ", "CZ", R"(CZ\d{8,10})", "CZ and 8 to 10 digits, like CZ12345678"},
    {"DE", "DE", R"(DE\d{9})", "DE and 9 digits, like DE123456789"},
    {"DK", "DK", R"(DK\d{8})", "DK and 8 digits, like DK12345678"},
    {"EE", "EE", R"(EE\d{9})", "EE and 9 digits, like EE123456789"},
    {"ES", "ES", R"(ES(?:[A-Z]\d{7}[0-9A-Z]|\d{8}[A-Z]))",
     "ES and 9 characters: a letter or digit, 7 digits, a letter or digit, not all digits, "
     "like ESX1234567L"},
    {"FI", "FI", R"(FI\d{8})", "FI and 8 digits, like FI12345678"},
    {"FR", "FR", R"(FR[0-9A-HJ-NP-Z]{2}\d{9})",
     "FR, 2 letters or digits (not I or O) and 9 digits, like FR40303265045"},
    {"GR", "EL", R"(EL\d{9})", "EL (not GR) and 9 digits, like EL123456789"},
    {"HR", "HR", R"(HR\d{11})", "HR and 11 digits, like HR12345678901"},
    {"HU", "HU", R"(HU\d{8})", "HU and 8 digits, like HU12345678"},
    {"IE", "IE", R"(IE(?:\d{7}[A-W][A-IW]?|\d[A-Z]\d{5}[A-W]))",
     "IE, 7 digits and 1 or 2 letters (old style: a digit, a letter, 5 digits, a letter), "
     "like IE1234567T"},
    {"IT", "IT", R"(IT\d{11})", "IT and 11 digits, like IT12345678901"},
    {"LT", "LT", R"(LT(?:\d{9}|\d{12}))", "LT and 9 or 12 digits, like LT123456789"},
    {"LU", "LU", R"(LU\d{8})", "LU and 8 digits, like LU12345678"},
    {"LV", "LV", R"(LV\d{11})", "LV and 11 digits, like LV12345678901"},
    {"MT", "MT", R"(MT\d{8})", "MT and 8 digits, like MT12345678"},
    {"NL", "NL", R"(NL\d{9}B\d{2})", "NL, 9 digits, B and 2 digits, like NL123456789B01"},
    {"PL", "PL", R"(PL\d{10})", "PL and 10 digits, like PL1234567890"},
    {"PT", "PT", R"(PT\d{9})", "PT and 9 digits, like PT123456789"},
    {"RO", "RO", R"(RO[1-9]\d{1,9})", "RO and 2 to 10 digits not starting with 0, like RO1234567"},
    {"SE", "SE", R"(SE\d{10}01)", "SE and 12 digits ending in 01, like SE123456789701"},
    {"SI", "SI", R"(SI\d{8})", "SI and 8 digits, like SI12345678"},
    {"SK", "SK", R"(SK\d{10})", "SK and 10 digits, like SK1234567890"},
}};
static_assert(std::is_sorted(kEuVatFormats.begin(), kEuVatFormats.end(),
                             [](const VatFormat& a, const VatFormat& b) {
                               return a.country < b.country;
                             }));

// No VAT number of any shape here is longer; checking the length first also keeps std::regex,
// which recurses per character, away from long input.
constexpr std::size_t kMaxVatChars = 30;

bool contains(std::span<const std::string_view> sorted, std::string_view code) {
  return std::binary_search(sorted.begin(), sorted.end(), code);
}

const VatFormat* find_eu_vat_format(std::string_view country) {
  const auto it =
      std::lower_bound(kEuVatFormats.begin(), kEuVatFormats.end(), country,
                       [](const VatFormat& f, std::string_view c) { return f.country < c; });
  if (it == kEuVatFormats.end() || it->country != country) return nullptr;
  return &*it;
}

// Compiled once, on first use, and never changed afterwards; matching a const std::regex from
// several threads at once is safe.
const std::vector<std::regex>& eu_vat_regexes() {
  static const std::vector<std::regex> compiled = [] {
    std::vector<std::regex> out;
    out.reserve(kEuVatFormats.size());
    for (const auto& format : kEuVatFormats) {
      out.emplace_back(std::string(format.pattern), std::regex::ECMAScript);
    }
    return out;
  }();
  return compiled;
}

}  // namespace

bool is_country(std::string_view alpha2) {
  return contains(kCountries, alpha2);
}

bool is_eu_member(std::string_view alpha2) {
  return contains(kEuMembers, alpha2);
}

std::span<const std::string_view> active_currency_codes() {
  return kCurrencyCodes;
}

bool is_active_currency(std::string_view code) {
  return contains(kCurrencyCodes, code);
}

std::optional<int> currency_exponent(std::string_view code) {
  const auto it =
      std::lower_bound(kCurrencies.begin(), kCurrencies.end(), code,
                       [](const Currency& c, std::string_view v) { return c.code < v; });
  if (it == kCurrencies.end() || it->code != code || it->exponent == kNoMinorUnit) {
    return std::nullopt;
  }
  return it->exponent;
}

std::optional<std::string_view> eu_vat_prefix(std::string_view country) {
  const VatFormat* format = find_eu_vat_format(country);
  if (format == nullptr) return std::nullopt;
  return format->prefix;
}

std::optional<std::string_view> eu_vat_country(std::string_view prefix) {
  for (const auto& format : kEuVatFormats) {
    if (format.prefix == prefix) return format.country;
  }
  return std::nullopt;
}

bool matches_eu_vat_format(std::string_view country, std::string_view vat) {
  const VatFormat* format = find_eu_vat_format(country);
  if (format == nullptr || vat.size() > kMaxVatChars) return false;
  const auto index = static_cast<std::size_t>(format - kEuVatFormats.data());
  return std::regex_match(vat.begin(), vat.end(), eu_vat_regexes()[index]);
}

std::string_view eu_vat_format_description(std::string_view country) {
  const VatFormat* format = find_eu_vat_format(country);
  return format == nullptr ? std::string_view{} : format->description;
}

bool matches_gb_vat_format(std::string_view vat) {
  if (vat.size() > kMaxVatChars) return false;
  // Ranges as HMRC assigns them: GD below 500, HA from 500 (python-stdnum's gb.vat).
  static const std::regex pattern(R"((?:GB|XI)(?:\d{9}|\d{12}|GD[0-4]\d{2}|HA[5-9]\d{2}))");
  return std::regex_match(vat.begin(), vat.end(), pattern);
}

}  // namespace psahost::domain
