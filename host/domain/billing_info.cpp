// Billing info rules. parse_billing_info() and BillingInfo::missing() share check_values(), so the
// API and every completeness check judge a value the same way.
#include "domain/billing_info.hpp"
#include "domain/utf8.hpp"

#include "domain/reference_data.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace psahost::domain {
namespace {

using Errors = std::vector<FieldError>;
// A check's verdict: the message when the value is not valid, nothing when it is.
using Verdict = std::optional<std::string>;

// Lengths in characters (code points). Names follow the brief's 200; the others leave room for
// what accounting systems accept without letting one field carry a document.
constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxLegalFormChars = 100;
constexpr std::size_t kMaxEmailChars = 254;  // the longest address SMTP can carry (RFC 5321)
constexpr std::size_t kMaxWebsiteChars = 500;
constexpr std::size_t kMaxDebtorCodeChars = 50;
constexpr std::size_t kMaxVatInputChars = 40;  // 30 after spaces, dots and dashes are removed
constexpr std::size_t kMaxVatChars = 30;
constexpr std::size_t kMaxPhoneChars = 30;
constexpr std::size_t kMinPhoneChars = 6;
constexpr std::size_t kMinPhoneDigits = 5;
constexpr std::size_t kMaxStreetChars = 200;
constexpr std::size_t kMaxHouseNumberChars = 20;
constexpr std::size_t kMaxPlaceChars = 100;  // building, city, state
constexpr std::size_t kMaxZipChars = 20;
// Codes and enumerations get their own precise message; this only keeps junk out of them first.
constexpr std::size_t kMaxCodeChars = 64;
// Unknown member names are echoed back as field paths; a name longer than this is cut.
constexpr std::size_t kMaxEchoedName = 64;

constexpr int kMinPaymentTermsDays = 0;
constexpr int kMaxPaymentTermsDays = 365;
constexpr int kMinRoundupMinutes = 1;
constexpr int kMaxRoundupMinutes = 60;

const std::vector<std::string> kMembers = {"business_name",
                                           "legal_form",
                                           "email",
                                           "website",
                                           "debtor_code",
                                           "vat_number",
                                           "address",
                                           "phone",
                                           "currency",
                                           "tax_rate",
                                           "payment_terms_days",
                                           "direct_debit",
                                           "invoice_delivery",
                                           "roundup_minutes"};
// Written by to_json() and computed on every read, so a client may send them back unchanged.
const std::vector<std::string> kReadOnlyMembers = {"complete", "missing"};
const std::vector<std::string> kAddressMembers = {"street", "number", "building", "city",
                                                  "state",  "zip",    "country"};

// The API document's order; errors are reported in it so that a reply reads top to bottom.
const std::vector<std::string> kFieldOrder = {"",
                                              "business_name",
                                              "legal_form",
                                              "email",
                                              "website",
                                              "debtor_code",
                                              "vat_number",
                                              "address",
                                              "address.street",
                                              "address.number",
                                              "address.building",
                                              "address.city",
                                              "address.state",
                                              "address.zip",
                                              "address.country",
                                              "phone",
                                              "currency",
                                              "tax_rate",
                                              "payment_terms_days",
                                              "direct_debit",
                                              "invoice_delivery",
                                              "roundup_minutes"};

// Character classes spelled out: <cctype> depends on the locale, these rules do not.
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_letter(char c) {
  return is_upper(c) || is_lower(c);
}
bool is_alnum(char c) {
  return is_letter(c) || is_digit(c);
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
char to_upper(char c) {
  return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c;
}
void upper_in_place(std::string& s) {
  std::transform(s.begin(), s.end(), s.begin(), to_upper);
}

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// C0 controls, DEL and the C1 controls (U+0080..U+009F, which UTF-8 writes as C2 80..C2 9F).
bool has_control_characters(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < utf8.size()) {
      const auto next = static_cast<unsigned char>(utf8[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

// What every text field must be, before any field's own rule.
Verdict check_text(std::string_view value, std::size_t max_chars) {
  if (!is_valid_utf8(value)) return "must be valid UTF-8";
  if (has_control_characters(value)) {
    return "must not contain control characters such as tabs or line breaks";
  }
  if (const auto n = code_points(value); n > max_chars) {
    return "must be at most " + std::to_string(max_chars) + " characters; got " + std::to_string(n);
  }
  return std::nullopt;
}

Verdict no_shape(std::string&) {
  return std::nullopt;
}

Verdict check_email(std::string& value) {
  const std::string expected =
      "expected an email address like billing@example.com: one '@' with something before it "
      "and a domain with a dot after it, no spaces";
  if (std::any_of(value.begin(), value.end(), is_space)) return expected;
  const auto at = value.find('@');
  if (at == std::string::npos || at == 0 || value.find('@', at + 1) != std::string::npos) {
    return expected;
  }
  const std::string_view domain = std::string_view(value).substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return expected;
  }
  return std::nullopt;
}

bool starts_with_ignoring_case(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    const char c = is_upper(s[i]) ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

Verdict check_website(std::string& value) {
  const std::string expected =
      "expected a web address starting with http:// or https:// and a host name, like "
      "https://example.com";
  std::string_view rest = value;
  if (starts_with_ignoring_case(rest, "https://")) {
    rest.remove_prefix(8);
  } else if (starts_with_ignoring_case(rest, "http://")) {
    rest.remove_prefix(7);
  } else {
    return expected;
  }
  if (std::any_of(value.begin(), value.end(), is_space)) return expected;
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // A user name in a client's web address is a phishing pattern, never a real home page.
  if (authority.find('@') != std::string_view::npos) return expected;
  std::string_view host = authority;
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) {
      return expected;
    }
  }
  // Letters, digits, dots and dashes; bytes of UTF-8 sequences let internationalised names in.
  const bool host_chars_ok = std::all_of(host.begin(), host.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '-' || static_cast<unsigned char>(c) >= 0x80;
  });
  if (host.empty() || !host_chars_ok || host.front() == '.' || host.front() == '-' ||
      host.find("..") != std::string_view::npos) {
    return expected;
  }
  return std::nullopt;
}

Verdict check_phone(std::string& value) {
  const std::string expected =
      "expected a phone number of 6 to 30 characters: digits, spaces and + - ( ), with '+' only "
      "in front and at least 5 digits, like +31 30 123 4567";
  if (value.size() < kMinPhoneChars || value.size() > kMaxPhoneChars) return expected;
  std::size_t digits = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (is_digit(c)) {
      ++digits;
    } else if (c == '+') {
      if (i != 0) return expected;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')') {
      return expected;
    }
  }
  if (digits < kMinPhoneDigits) return expected;
  return std::nullopt;
}

Verdict check_country(std::string& value) {
  if (value.size() == 2 && is_letter(value[0]) && is_letter(value[1])) {
    upper_in_place(value);
    if (is_country(value)) return std::nullopt;
    // The two codes people reach for that ISO does not assign to the country they mean.
    if (value == "UK") {
      return "expected an ISO 3166-1 alpha-2 country code; the United Kingdom is GB";
    }
    if (value == "EL") {
      return "expected an ISO 3166-1 alpha-2 country code; Greece is GR (EL is only its VAT "
             "prefix)";
    }
  }
  return "expected an ISO 3166-1 alpha-2 country code, like \"NL\"";
}

// Postcode shapes of the countries most clients are in; elsewhere a postcode is free text.
// country is the already checked, upper-case address.country, or empty.
Verdict check_zip(std::string& value, std::string_view country) {
  const auto matches = [&value](const std::regex& pattern) {
    return std::regex_match(value, pattern);
  };
  if (country == "NL") {
    static const std::regex pattern(R"([1-9]\d{3} ?[A-Z]{2})");
    upper_in_place(value);
    if (!matches(pattern)) {
      return "expected a Dutch postcode: 4 digits and 2 letters, like 3511AA or 3511 AA";
    }
  } else if (country == "DE" || country == "FR") {
    static const std::regex pattern(R"(\d{5})");
    if (!matches(pattern)) {
      return country == "DE" ? "expected a German postcode of 5 digits, like 10115"
                             : "expected a French postcode of 5 digits, like 75001";
    }
  } else if (country == "BE") {
    static const std::regex pattern(R"([1-9]\d{3})");
    if (!matches(pattern)) return "expected a Belgian postcode of 4 digits, like 1000";
  } else if (country == "US") {
    static const std::regex pattern(R"(\d{5}(-\d{4})?)");
    if (!matches(pattern)) {
      return "expected a US ZIP code of 5 digits or ZIP+4, like 94105 or 94105-1234";
    }
  } else if (country == "GB") {
    // Outward code (area letters, district digit, optional digit or letter), inward code
    // (digit, two letters); GIR 0AA is the one historical exception still in use.
    static const std::regex pattern(R"(GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})");
    upper_in_place(value);
    if (!matches(pattern)) return "expected a UK postcode, like SW1A 1AA or M1 1AE";
  }
  return std::nullopt;
}

Verdict check_currency(std::string& value) {
  const std::string expected = "expected an active ISO 4217 currency code, like \"EUR\"";
  if (value.size() != 3 || !std::all_of(value.begin(), value.end(), is_letter)) return expected;
  upper_in_place(value);
  if (!is_active_currency(value)) return expected;
  if (!currency_exponent(value)) {
    return value +
           " has no minor unit, so amounts cannot be kept in it; expected a currency such as "
           "\"EUR\"";
  }
  return std::nullopt;
}

// Decimal arithmetic on the digits themselves: a tax rate never passes through a double.
Verdict check_tax_rate(std::string& value) {
  const std::string expected =
      "expected a decimal string from \"0\" to \"100\" with at most 4 decimals, like \"21.00\"";
  const auto dot = value.find('.');
  std::string whole = value.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : value.substr(dot + 1);
  const bool shape_ok =
      !whole.empty() && whole.size() <= 3 && std::all_of(whole.begin(), whole.end(), is_digit) &&
      (dot == std::string::npos || (!fraction.empty() && fraction.size() <= 4 &&
                                    std::all_of(fraction.begin(), fraction.end(), is_digit)));
  if (!shape_ok) return expected;
  const int whole_value = std::stoi(whole);  // at most 3 digits, so no overflow
  const bool fraction_zero =
      std::all_of(fraction.begin(), fraction.end(), [](char c) { return c == '0'; });
  if (whole_value > 100 || (whole_value == 100 && !fraction_zero)) {
    return "must be at most 100 (it is a percentage); " + expected;
  }
  if (fraction.size() < 2) fraction.resize(2, '0');
  value = std::to_string(whole_value) + "." + fraction;
  return std::nullopt;
}

Verdict check_invoice_delivery(std::string& value) {
  if (value == "email" || value == "mail") return std::nullopt;
  return "expected \"email\" or \"mail\"";
}

Verdict check_gb_vat(const std::string& vat) {
  if (matches_gb_vat_format(vat)) return std::nullopt;
  return "expected a UK VAT number: GB (or XI for Northern Ireland) and 9 or 12 digits, or "
         "GBGD000 to GBGD499, or GBHA500 to GBHA999, like GB123456789";
}

Verdict check_eu_vat(const std::string& vat, std::string_view member_state) {
  if (matches_eu_vat_format(member_state, vat)) return std::nullopt;
  return "expected a VAT number of " + std::string(member_state) + ": " +
         std::string(eu_vat_format_description(member_state));
}

// country is the already checked, upper-case address.country, or empty.
Verdict check_vat_number(std::string& value, std::string_view country) {
  std::string vat;
  for (const char c : value) {
    if (c != ' ' && c != '.' && c != '-') vat += to_upper(c);
  }
  if (vat.size() < 2 || vat.size() > kMaxVatChars ||
      !std::all_of(vat.begin(), vat.end(), is_alnum)) {
    return "expected 2 to 30 letters and digits with the country prefix, like NL123456789B01 "
           "(spaces, dots and dashes are ignored)";
  }
  value = vat;
  const std::string prefix = vat.substr(0, 2);
  // VIES knows Greece as EL; GR in front is the most common Greek mistake.
  const std::string greek_hint = "Greek VAT numbers start with EL, not GR: expected ";
  if (const auto expected_prefix = eu_vat_prefix(country)) {
    if (prefix == *expected_prefix) return check_eu_vat(vat, country);
    if (country == "GR" && prefix == "GR") {
      return greek_hint + std::string(eu_vat_format_description(country));
    }
    // Here the prefix is two ASCII letters or digits, safe to echo.
    return "the address is in " + std::string(country) + ", so the VAT number must start with " +
           std::string(*expected_prefix) + ", not " + prefix + ": expected " +
           std::string(eu_vat_format_description(country));
  }
  if (country == "GB") return check_gb_vat(vat);
  if (!country.empty()) return std::nullopt;  // outside the EU and UK, tax numbers vary too much
  // No country to judge by: the number's own prefix says which rules apply.
  if (prefix == "GR") return greek_hint + std::string(eu_vat_format_description("GR"));
  if (const auto member_state = eu_vat_country(prefix)) return check_eu_vat(vat, *member_state);
  if (prefix == "GB" || prefix == "XI") return check_gb_vat(vat);
  return std::nullopt;
}

Verdict check_range(std::optional<int> value, int lowest, int highest) {
  if (!value || (*value >= lowest && *value <= highest)) return std::nullopt;
  return "expected an integer from " + std::to_string(lowest) + " to " + std::to_string(highest);
}

// Trims value; when something is left, checks it as text and then with the field's own rule.
// Returns whether the value is usable (an empty value is: absence is completeness's business).
template <typename Shape>
bool check_field(std::string& value, const char* path, std::size_t max_chars, Shape shape,
                 Errors& errors) {
  value = trim(value);
  if (value.empty()) return true;
  Verdict verdict = check_text(value, max_chars);
  if (!verdict) verdict = shape(value);
  if (verdict) {
    errors.push_back({path, std::move(*verdict)});
    return false;
  }
  return true;
}

// Normalises every field of info in place and reports each one that is not valid. Shared by the
// parser and by missing(): this is where "valid" is defined.
Errors check_values(BillingInfo& info) {
  Errors errors;
  auto& address = info.address;
  const bool country_ok =
      check_field(address.country, "address.country", kMaxCodeChars, check_country, errors);
  const std::string country = country_ok ? address.country : std::string();
  const auto with_country = [&country](auto check) {
    return [&country, check](std::string& value) { return check(value, country); };
  };

  check_field(info.business_name, "business_name", kMaxNameChars, no_shape, errors);
  check_field(info.legal_form, "legal_form", kMaxLegalFormChars, no_shape, errors);
  check_field(info.email, "email", kMaxEmailChars, check_email, errors);
  check_field(info.website, "website", kMaxWebsiteChars, check_website, errors);
  check_field(info.debtor_code, "debtor_code", kMaxDebtorCodeChars, no_shape, errors);
  check_field(info.vat_number, "vat_number", kMaxVatInputChars, with_country(check_vat_number),
              errors);
  check_field(address.street, "address.street", kMaxStreetChars, no_shape, errors);
  check_field(address.number, "address.number", kMaxHouseNumberChars, no_shape, errors);
  check_field(address.building, "address.building", kMaxPlaceChars, no_shape, errors);
  check_field(address.city, "address.city", kMaxPlaceChars, no_shape, errors);
  check_field(address.state, "address.state", kMaxPlaceChars, no_shape, errors);
  check_field(address.zip, "address.zip", kMaxZipChars, with_country(check_zip), errors);
  check_field(info.phone, "phone", kMaxPhoneChars, check_phone, errors);
  check_field(info.currency, "currency", kMaxCodeChars, check_currency, errors);
  check_field(info.tax_rate, "tax_rate", kMaxCodeChars, check_tax_rate, errors);
  if (auto v = check_range(info.payment_terms_days, kMinPaymentTermsDays, kMaxPaymentTermsDays)) {
    errors.push_back({"payment_terms_days", std::move(*v)});
  }
  check_field(info.invoice_delivery, "invoice_delivery", kMaxCodeChars, check_invoice_delivery,
              errors);
  if (auto v = check_range(info.roundup_minutes, kMinRoundupMinutes, kMaxRoundupMinutes)) {
    errors.push_back({"roundup_minutes", std::move(*v)});
  }
  return errors;
}

std::size_t field_rank(const std::string& field) {
  const auto it = std::find(kFieldOrder.begin(), kFieldOrder.end(), field);
  return static_cast<std::size_t>(it - kFieldOrder.begin());  // unknown members sort last
}

// What a value is, for messages; strings are not echoed, they may be long or personal.
std::string got(const Json::Value& value) {
  switch (value.type()) {
    case Json::nullValue:
      return "null";
    case Json::booleanValue:
      return value.asBool() ? "true" : "false";
    case Json::intValue:
      return std::to_string(value.asLargestInt());
    case Json::uintValue:
      return std::to_string(value.asLargestUInt());
    case Json::realValue:
      return "a number with a fraction or an exponent";
    case Json::stringValue:
      return "a string";
    case Json::arrayValue:
      return "an array";
    case Json::objectValue:
      return "an object";
  }
  return "an unknown value";
}

std::string echoable_name(const std::string& name) {
  if (name.size() <= kMaxEchoedName) return name;
  std::size_t cut = kMaxEchoedName;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return name.substr(0, cut);
}

void check_members(const Json::Value& object, const std::vector<std::string>& known,
                   const std::string& path_prefix, Errors& errors) {
  for (const auto& name : object.getMemberNames()) {
    if (contains(known, name) || (path_prefix.empty() && contains(kReadOnlyMembers, name))) {
      continue;
    }
    errors.push_back(
        {path_prefix + echoable_name(name), "unknown member; expected one of: " + join(known)});
  }
}

void read_string(const Json::Value& object, const char* name, const std::string& path,
                 std::string& out, Errors& errors) {
  const Json::Value& value = object[name];
  if (value.isNull()) return;
  if (!value.isString()) {
    errors.push_back({path, "expected a string; got " + got(value)});
    return;
  }
  out = value.asString();
}

// JSON integers only: jsoncpp reads 30.0 and 3e1 as doubles, and a count written as a fraction
// is a caller's bug worth reporting rather than rounding.
std::optional<int> read_int(const Json::Value& object, const char* name, int lowest, int highest,
                            Errors& errors) {
  const Json::Value& value = object[name];
  if (value.isNull()) return std::nullopt;
  const std::string expected =
      "expected an integer from " + std::to_string(lowest) + " to " + std::to_string(highest);
  if (value.type() != Json::intValue && value.type() != Json::uintValue) {
    errors.push_back({name, expected + "; got " + got(value)});
    return std::nullopt;
  }
  const bool in_range = value.type() == Json::intValue
                            ? value.asLargestInt() >= lowest && value.asLargestInt() <= highest
                            : value.asLargestUInt() <= static_cast<Json::LargestUInt>(highest);
  if (!in_range) {
    errors.push_back({name, expected + "; got " + got(value)});
    return std::nullopt;
  }
  return static_cast<int>(value.asLargestInt());
}

}  // namespace

bool BillingInfo::is_complete() const {
  return missing().empty();
}

std::vector<std::string> BillingInfo::missing() const {
  BillingInfo normalised = *this;
  const Errors errors = check_values(normalised);
  const auto invalid = [&errors](std::string_view field) {
    return std::any_of(errors.begin(), errors.end(),
                       [field](const FieldError& e) { return e.field == field; });
  };
  const auto& a = normalised.address;
  const std::vector<std::pair<const char*, bool>> required = {
      {"business_name", normalised.business_name.empty()},
      {"email", normalised.email.empty()},
      {"vat_number", false},  // optional, but a given one must be valid
      {"address.street", a.street.empty()},
      {"address.city", a.city.empty()},
      {"address.zip", a.zip.empty()},
      {"address.country", a.country.empty()},
      {"currency", normalised.currency.empty()},
      {"tax_rate", normalised.tax_rate.empty()},
      {"payment_terms_days", !normalised.payment_terms_days.has_value()},
      {"invoice_delivery", normalised.invoice_delivery.empty()},
      {"roundup_minutes", false},  // has a default; only a broken value fails
  };
  std::vector<std::string> out;
  for (const auto& [field, absent] : required) {
    if (absent || invalid(field)) out.emplace_back(field);
  }
  return out;
}

Json::Value BillingInfo::to_json() const {
  Json::Value out(Json::objectValue);
  out["business_name"] = business_name;
  out["legal_form"] = legal_form;
  out["email"] = email;
  out["website"] = website;
  out["debtor_code"] = debtor_code;
  out["vat_number"] = vat_number;
  Json::Value a(Json::objectValue);
  a["street"] = address.street;
  a["number"] = address.number;
  a["building"] = address.building;
  a["city"] = address.city;
  a["state"] = address.state;
  a["zip"] = address.zip;
  a["country"] = address.country;
  out["address"] = std::move(a);
  out["phone"] = phone;
  out["currency"] = currency;
  out["tax_rate"] = tax_rate;
  out["payment_terms_days"] =
      payment_terms_days ? Json::Value(*payment_terms_days) : Json::Value(Json::nullValue);
  out["direct_debit"] = direct_debit;
  out["invoice_delivery"] = invoice_delivery;
  out["roundup_minutes"] = roundup_minutes;
  const auto gaps = missing();
  out["complete"] = gaps.empty();
  Json::Value list(Json::arrayValue);
  for (const auto& field : gaps) list.append(field);
  out["missing"] = std::move(list);
  return out;
}

BillingInfoParse parse_billing_info(const Json::Value& body) {
  BillingInfoParse result;
  Errors& errors = result.errors;
  if (!body.isObject()) {
    errors.push_back({"", "expected a JSON object; got " + got(body)});
    return result;
  }
  check_members(body, kMembers, "", errors);

  BillingInfo info;
  read_string(body, "business_name", "business_name", info.business_name, errors);
  read_string(body, "legal_form", "legal_form", info.legal_form, errors);
  read_string(body, "email", "email", info.email, errors);
  read_string(body, "website", "website", info.website, errors);
  read_string(body, "debtor_code", "debtor_code", info.debtor_code, errors);
  read_string(body, "vat_number", "vat_number", info.vat_number, errors);
  read_string(body, "phone", "phone", info.phone, errors);
  read_string(body, "currency", "currency", info.currency, errors);
  read_string(body, "invoice_delivery", "invoice_delivery", info.invoice_delivery, errors);

  if (const Json::Value& address = body["address"]; !address.isNull()) {
    if (!address.isObject()) {
      errors.push_back({"address", "expected an object with " + join(kAddressMembers) + "; got " +
                                       got(address)});
    } else {
      check_members(address, kAddressMembers, "address.", errors);
      auto& a = info.address;
      read_string(address, "street", "address.street", a.street, errors);
      read_string(address, "number", "address.number", a.number, errors);
      read_string(address, "building", "address.building", a.building, errors);
      read_string(address, "city", "address.city", a.city, errors);
      read_string(address, "state", "address.state", a.state, errors);
      read_string(address, "zip", "address.zip", a.zip, errors);
      read_string(address, "country", "address.country", a.country, errors);
    }
  }

  // Said separately because sending 21.0 is the natural mistake: a JSON number is read as binary
  // floating point, which cannot hold most decimal rates exactly.
  if (const Json::Value& rate = body["tax_rate"]; rate.type() == Json::intValue ||
                                                  rate.type() == Json::uintValue ||
                                                  rate.type() == Json::realValue) {
    errors.push_back({"tax_rate",
                      "expected a decimal string like \"21.00\"; send the rate as a JSON string, "
                      "not a number, so that it is kept exactly"});
  } else {
    read_string(body, "tax_rate", "tax_rate", info.tax_rate, errors);
  }

  info.payment_terms_days =
      read_int(body, "payment_terms_days", kMinPaymentTermsDays, kMaxPaymentTermsDays, errors);
  if (const auto roundup =
          read_int(body, "roundup_minutes", kMinRoundupMinutes, kMaxRoundupMinutes, errors)) {
    info.roundup_minutes = *roundup;
  }
  if (const Json::Value& debit = body["direct_debit"]; !debit.isNull()) {
    if (debit.isBool()) {
      info.direct_debit = debit.asBool();
    } else {
      errors.push_back({"direct_debit", "expected a boolean (true or false); got " + got(debit)});
    }
  }

  // Fields that failed to read were left empty, so they are not reported a second time here.
  auto value_errors = check_values(info);
  errors.insert(errors.end(), std::make_move_iterator(value_errors.begin()),
                std::make_move_iterator(value_errors.end()));
  std::stable_sort(errors.begin(), errors.end(), [](const FieldError& a, const FieldError& b) {
    return field_rank(a.field) < field_rank(b.field);
  });
  if (errors.empty()) result.info = std::move(info);
  return result;
}

int round_up_minutes(int minutes, int roundup) {
  if (minutes < 1 || roundup < 1) {
    throw std::invalid_argument("round_up_minutes: minutes and roundup must both be at least 1");
  }
  const int rest = minutes % roundup;
  if (rest == 0) return minutes;
  const int gap = roundup - rest;
  if (minutes > std::numeric_limits<int>::max() - gap) {
    throw std::overflow_error("round_up_minutes: the rounded time does not fit in an int");
  }
  return minutes + gap;
}

}  // namespace psahost::domain
