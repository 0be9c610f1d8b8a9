// What valid and complete billing info is, as parse_billing_info() and BillingInfo decide it,
// plus ticket time rounding and the reference lists behind the rules.
#include "domain/billing_info.hpp"
#include "domain/reference_data.hpp"

#include <json/reader.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using psahost::domain::BillingInfo;
using psahost::domain::BillingInfoParse;
using psahost::domain::parse_billing_info;
using psahost::domain::round_up_minutes;

namespace {

Json::Value json(const std::string& text) {
  Json::CharReaderBuilder builder;
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value value;
  std::string errors;
  if (!reader->parse(text.data(), text.data() + text.size(), &value, &errors)) {
    FAIL("test JSON does not parse: " << errors);
  }
  return value;
}

// The example from the API description: complete, and valid in every field.
Json::Value complete_body() {
  return json(R"({"business_name":"Contoso Ltd","legal_form":"Ltd",
    "email":"billing@contoso.example","website":"https://contoso.example","debtor_code":"D-1001",
    "vat_number":"NL123456789B01","address":{"street":"Main","number":"1","building":"",
    "city":"Utrecht","state":"","zip":"3511AA","country":"NL"},"phone":"+31 30 123 4567",
    "currency":"EUR","tax_rate":"21.00","payment_terms_days":30,"direct_debit":false,
    "invoice_delivery":"email","roundup_minutes":15})");
}

std::vector<std::string> fields_of(const BillingInfoParse& parsed) {
  std::vector<std::string> fields;
  for (const auto& e : parsed.errors) fields.push_back(e.field);
  return fields;
}

std::string messages_of(const BillingInfoParse& parsed) {
  std::string out;
  for (const auto& e : parsed.errors) out += e.field + ": " + e.message + "\n";
  return out;
}

// Sets body[path] where path is "name" or "address.name".
void set(Json::Value& body, const std::string& path, const Json::Value& value) {
  const auto dot = path.find('.');
  if (dot == std::string::npos) {
    body[path] = value;
  } else {
    body[path.substr(0, dot)][path.substr(dot + 1)] = value;
  }
}

void remove(Json::Value& body, const std::string& path) {
  const auto dot = path.find('.');
  if (dot == std::string::npos) {
    body.removeMember(path);
  } else {
    body[path.substr(0, dot)].removeMember(path.substr(dot + 1));
  }
}

// Parses body with only the VAT number and the country changed from the complete example.
BillingInfoParse with_vat(const std::string& vat, const std::string& country) {
  Json::Value body = complete_body();
  body["vat_number"] = vat;
  if (country.empty()) {
    body["address"].removeMember("country");
    body["address"].removeMember("zip");  // the example's zip is a Dutch one
  } else {
    body["address"]["country"] = country;
    body["address"]["zip"] = "";
  }
  return parse_billing_info(body);
}

}  // namespace

TEST_CASE("the API example parses and is complete", "[billing_info]") {
  const auto parsed = parse_billing_info(complete_body());
  INFO(messages_of(parsed));
  REQUIRE(parsed.errors.empty());
  REQUIRE(parsed.info);
  const BillingInfo& info = *parsed.info;
  CHECK(info.business_name == "Contoso Ltd");
  CHECK(info.vat_number == "NL123456789B01");
  CHECK(info.address.country == "NL");
  CHECK(info.currency == "EUR");
  CHECK(info.tax_rate == "21.00");
  CHECK(info.payment_terms_days == 30);
  CHECK(info.roundup_minutes == 15);
  CHECK(info.invoice_delivery == "email");
  CHECK_FALSE(info.direct_debit);
  CHECK(info.is_complete());
  CHECK(info.missing().empty());
}

TEST_CASE("each required field left out is named by missing and makes billing info incomplete",
          "[billing_info]") {
  const std::vector<std::string> required = {
      "business_name",   "email",    "address.street", "address.city",       "address.zip",
      "address.country", "currency", "tax_rate",       "payment_terms_days", "invoice_delivery"};
  for (const auto& field : required) {
    SECTION(field) {
      Json::Value body = complete_body();
      remove(body, field);
      const auto parsed = parse_billing_info(body);
      INFO(messages_of(parsed));
      REQUIRE(parsed.info);  // partial billing info is allowed
      CHECK_FALSE(parsed.info->is_complete());
      CHECK(parsed.info->missing() == std::vector<std::string>{field});
    }
  }
}

TEST_CASE("fields that are not required may be left out of complete billing info",
          "[billing_info]") {
  Json::Value body = complete_body();
  for (const char* field : {"legal_form", "website", "debtor_code", "vat_number", "phone",
                            "direct_debit", "roundup_minutes"}) {
    body.removeMember(field);
  }
  body["address"].removeMember("number");
  body["address"].removeMember("building");
  body["address"].removeMember("state");
  const auto parsed = parse_billing_info(body);
  INFO(messages_of(parsed));
  REQUIRE(parsed.info);
  CHECK(parsed.info->is_complete());
  CHECK(parsed.info->roundup_minutes == 10);
  CHECK_FALSE(parsed.info->direct_debit);
}

TEST_CASE("an empty body is valid billing info that misses every required field in order",
          "[billing_info]") {
  const auto parsed = parse_billing_info(Json::Value(Json::objectValue));
  REQUIRE(parsed.info);
  CHECK(parsed.info->missing() ==
        std::vector<std::string>{"business_name", "email", "address.street", "address.city",
                                 "address.zip", "address.country", "currency", "tax_rate",
                                 "payment_terms_days", "invoice_delivery"});
}

TEST_CASE("null and blank members count as absent", "[billing_info]") {
  Json::Value body = complete_body();
  body["email"] = Json::Value(Json::nullValue);
  body["address"]["city"] = "   ";
  body["payment_terms_days"] = Json::Value(Json::nullValue);
  const auto parsed = parse_billing_info(body);
  INFO(messages_of(parsed));
  REQUIRE(parsed.info);
  CHECK(parsed.info->missing() ==
        std::vector<std::string>{"email", "address.city", "payment_terms_days"});
}

TEST_CASE("each invalid field is reported under its exact path and nothing is returned",
          "[billing_info]") {
  struct Case {
    std::string field;
    Json::Value value;
  };
  const std::vector<Case> cases = {
      {"business_name", std::string(201, 'x')},
      {"business_name", "Contoso\nLtd"},
      {"business_name", std::string("Contoso \xC3\x28")},  // broken UTF-8
      {"business_name", 42},
      {"legal_form", std::string(101, 'x')},
      {"email", "billing.contoso.example"},
      {"email", "billing@@contoso.example"},
      {"email", "@contoso.example"},
      {"email", "billing@localhost"},
      {"email", "bill ing@contoso.example"},
      {"website", "contoso.example"},
      {"website", "ftp://contoso.example"},
      {"website", "https://"},
      {"website", "https://user@contoso.example"},
      {"debtor_code", std::string(51, 'D')},
      {"vat_number", "NL123"},
      {"vat_number", "NL12345678*B01"},
      {"address", "Main 1, Utrecht"},
      {"address.street", std::string(201, 's')},
      {"address.city", Json::Value(Json::arrayValue)},
      {"address.zip", "351AA"},
      {"address.country", "Netherlands"},
      {"address.country", "XX"},
      {"address.country", "UK"},
      {"phone", "call me"},
      {"phone", "12345"},
      {"phone", "31+ 30 123 4567"},
      {"phone", "+31 (30) 123 4567 ext. 12"},
      {"currency", "EURO"},
      {"currency", "ABC"},
      {"currency", "XAU"},
      {"currency", "HRK"},
      {"tax_rate", "21,00"},
      {"tax_rate", "100.01"},
      {"tax_rate", "101"},
      {"tax_rate", "21.00001"},
      {"tax_rate", ".5"},
      {"tax_rate", "21."},
      {"tax_rate", "-1"},
      {"payment_terms_days", -1},
      {"payment_terms_days", 366},
      {"payment_terms_days", 30.5},
      {"payment_terms_days", 30.0},
      {"payment_terms_days", "30"},
      {"direct_debit", "yes"},
      {"direct_debit", 1},
      {"invoice_delivery", "post"},
      {"invoice_delivery", "Email"},
      {"roundup_minutes", 0},
      {"roundup_minutes", 61},
      {"roundup_minutes", "15"},
  };
  for (const auto& c : cases) {
    Json::Value body = complete_body();
    set(body, c.field, c.value);
    const auto parsed = parse_billing_info(body);
    INFO(c.field << " = " << c.value.toStyledString() << messages_of(parsed));
    CHECK(fields_of(parsed) == std::vector<std::string>{c.field});
    CHECK_FALSE(parsed.info);
    for (const auto& e : parsed.errors) CHECK_FALSE(e.message.empty());
  }
}

TEST_CASE("all invalid fields are reported at once in document order", "[billing_info]") {
  Json::Value body = complete_body();
  body["roundup_minutes"] = 0;
  body["email"] = "nope";
  body["address"]["country"] = "ZZ";
  body["currency"] = "eu";
  body["tax_rate"] = 21;
  const auto parsed = parse_billing_info(body);
  CHECK_FALSE(parsed.info);
  CHECK(fields_of(parsed) == std::vector<std::string>{"email", "address.country", "currency",
                                                      "tax_rate", "roundup_minutes"});
}

TEST_CASE("unknown members are refused to catch typos", "[billing_info]") {
  Json::Value body = complete_body();
  body["busines_name"] = "Contoso";
  body["address"]["postcode"] = "3511AA";
  const auto parsed = parse_billing_info(body);
  CHECK_FALSE(parsed.info);
  CHECK(fields_of(parsed) == std::vector<std::string>{"busines_name", "address.postcode"});
  CHECK_THAT(parsed.errors[0].message, Catch::Contains("business_name"));
}

TEST_CASE("a body that is not an object is refused as a whole", "[billing_info]") {
  for (const auto& body : {Json::Value("x"), Json::Value(Json::arrayValue), Json::Value()}) {
    const auto parsed = parse_billing_info(body);
    CHECK_FALSE(parsed.info);
    CHECK(fields_of(parsed) == std::vector<std::string>{""});
  }
}

TEST_CASE("a tax rate sent as a JSON number is refused with a hint to send a string",
          "[billing_info]") {
  for (const auto& rate : {Json::Value(21.0), Json::Value(21), Json::Value(21.5)}) {
    Json::Value body = complete_body();
    body["tax_rate"] = rate;
    const auto parsed = parse_billing_info(body);
    CHECK_FALSE(parsed.info);
    REQUIRE(fields_of(parsed) == std::vector<std::string>{"tax_rate"});
    CHECK_THAT(parsed.errors[0].message, Catch::Contains("\"21.00\"") && Catch::Contains("string"));
  }
}

TEST_CASE("tax rates are normalised to at least two decimals as given", "[billing_info]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"21", "21.00"}, {"21.5", "21.50"},   {"21.00", "21.00"},       {"7.125", "7.125"},
      {"0", "0.00"},   {"100", "100.00"},   {"100.0000", "100.0000"}, {"009.5", "9.50"},
      {" 6 ", "6.00"}, {"0.0001", "0.0001"}};
  for (const auto& [given, stored] : table) {
    Json::Value body = complete_body();
    body["tax_rate"] = given;
    const auto parsed = parse_billing_info(body);
    INFO(given << "\n" << messages_of(parsed));
    REQUIRE(parsed.info);
    CHECK(parsed.info->tax_rate == stored);
  }
}

TEST_CASE("strings are trimmed and codes are normalised to upper case", "[billing_info]") {
  Json::Value body = complete_body();
  body["business_name"] = "  Contoso Ltd\t";
  body["currency"] = "eur";
  body["address"]["country"] = "nl";
  body["address"]["zip"] = "3511 aa";
  body["vat_number"] = "nl 1234.56789-b01";
  const auto parsed = parse_billing_info(body);
  INFO(messages_of(parsed));
  REQUIRE(parsed.info);
  CHECK(parsed.info->business_name == "Contoso Ltd");
  CHECK(parsed.info->currency == "EUR");
  CHECK(parsed.info->address.country == "NL");
  CHECK(parsed.info->address.zip == "3511 AA");
  CHECK(parsed.info->vat_number == "NL123456789B01");
}

TEST_CASE("names of up to 200 characters are accepted and counted in characters",
          "[billing_info]") {
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xC3\xA9";  // é, two bytes each
  Json::Value body = complete_body();
  body["business_name"] = name;
  const auto parsed = parse_billing_info(body);
  INFO(messages_of(parsed));
  CHECK(parsed.info);
}

TEST_CASE("postcodes are checked against the address country's shape", "[billing_info]") {
  struct Case {
    std::string country, zip;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"NL", "3511AA", true},   {"NL", "3511 AA", true},   {"NL", "0511AA", false},
      {"NL", "35111", false},   {"DE", "10115", true},     {"DE", "1011", false},
      {"FR", "75001", true},    {"FR", "7500A", false},    {"BE", "1000", true},
      {"BE", "10000", false},   {"US", "94105", true},     {"US", "94105-1234", true},
      {"US", "9410", false},    {"US", "94105-12", false}, {"GB", "SW1A 1AA", true},
      {"GB", "M1 1AE", true},   {"GB", "ec1a1bb", true},   {"GB", "GIR 0AA", true},
      {"GB", "12345", false},   {"GB", "SW1A", false},     {"CH", "8001", true},
      {"JP", "100-0001", true}, {"IE", "D02 X285", true},
  };
  for (const auto& c : cases) {
    Json::Value body = complete_body();
    body.removeMember("vat_number");
    body["address"]["country"] = c.country;
    body["address"]["zip"] = c.zip;
    const auto parsed = parse_billing_info(body);
    INFO(c.country << " " << c.zip << "\n" << messages_of(parsed));
    if (c.valid) {
      CHECK(parsed.info);
    } else {
      CHECK(fields_of(parsed) == std::vector<std::string>{"address.zip"});
    }
  }
}

TEST_CASE("a postcode is free text when the country is unknown or not given", "[billing_info]") {
  Json::Value body = complete_body();
  body.removeMember("vat_number");
  body["address"].removeMember("country");
  body["address"]["zip"] = "anything 123";
  const auto parsed = parse_billing_info(body);
  REQUIRE(parsed.info);
  CHECK(parsed.info->missing() == std::vector<std::string>{"address.country"});
}

TEST_CASE("EU VAT numbers are checked against the address country's format", "[billing_info]") {
  struct Case {
    std::string country, vat;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"NL", "NL123456789B01", true},  {"NL", "NL123456789B1", false},
      {"NL", "NL123456789C01", false}, {"DE", "DE123456789", true},
      {"DE", "DE12345678", false},     {"BE", "BE0123456789", true},
      {"BE", "BE1123456789", true},    {"BE", "BE2123456789", false},
      {"BE", "BE123456789", false},    {"FR", "FR40303265045", true},
      {"FR", "FRK7399859412", true},   {"FR", "FRIO334175221", false},
      {"FR", "FR4030326504", false},   {"AT", "ATU12345678", true},
      {"AT", "AT12345678", false},     {"ES", "ESX1234567L", true},
      {"ES", "ES12345678Z", true},     {"ES", "ESB12345678", true},
      {"ES", "ES123456789", false},    {"IT", "IT12345678901", true},
      {"IT", "IT1234567890", false},   {"GR", "EL123456789", true},
      {"GR", "EL12345678", false},     {"GR", "GR123456789", false},
      {"IE", "IE1234567T", true},      {"IE", "IE1234567TW", true},
      {"IE", "IE8D79739I", true},      {"IE", "IE12345678", false},
      {"PL", "PL1234567890", true},    {"PL", "PL123456789", false},
      {"SE", "SE123456789701", true},  {"SE", "SE123456789702", false},
      {"RO", "RO18547290", true},      {"RO", "RO01234567", false},
      {"CY", "CY10259033P", true},     {"CY", "CY102590331", false},
      {"LT", "LT123456789", true},     {"LT", "LT123456789012", true},
      {"LT", "LT1234567890", false},   {"CZ", "CZ12345678", true},
      {"CZ", "CZ1234567890", true},    {"CZ", "CZ1234567", false},
      {"DK", "DK12345678", true},      {"FI", "FI12345678", true},
      {"HR", "HR12345678901", true},   {"HU", "HU12345678", true},
      {"LU", "LU12345678", true},      {"LV", "LV12345678901", true},
      {"MT", "MT12345678", true},      {"PT", "PT123456789", true},
      {"SI", "SI12345678", true},      {"SK", "SK1234567890", true},
      {"BG", "BG123456789", true},     {"BG", "BG1234567890", true},
      {"EE", "EE123456789", true},     {"EE", "EE12345678", false},
  };
  for (const auto& c : cases) {
    const auto parsed = with_vat(c.vat, c.country);
    INFO(c.country << " " << c.vat << "\n" << messages_of(parsed));
    if (c.valid) {
      CHECK(parsed.info);
    } else {
      CHECK(fields_of(parsed) == std::vector<std::string>{"vat_number"});
    }
  }
}

TEST_CASE("every EU member state has a VAT format", "[billing_info]") {
  for (const char* country :
       {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}) {
    INFO(country);
    CHECK(psahost::domain::is_eu_member(country));
    CHECK_FALSE(psahost::domain::eu_vat_format_description(country).empty());
    REQUIRE(psahost::domain::eu_vat_prefix(country));
    CHECK(psahost::domain::eu_vat_country(*psahost::domain::eu_vat_prefix(country)) == country);
  }
  CHECK(psahost::domain::eu_vat_prefix("GR") == "EL");
  CHECK_FALSE(psahost::domain::eu_vat_prefix("GB"));
  CHECK_FALSE(psahost::domain::is_eu_member("GB"));
  CHECK_FALSE(psahost::domain::is_eu_member("CH"));
}

TEST_CASE("VAT numbers given with spaces dots dashes or in lower case are normalised",
          "[billing_info]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"nl123456789b01", "NL123456789B01"}, {"NL 1234 56 789 B01", "NL123456789B01"},
      {"DE 123.456.789", "DE123456789"},    {"BE 0123.456.789", "BE0123456789"},
      {"el-123-456-789", "EL123456789"},    {"  ATU 1234 5678 ", "ATU12345678"}};
  for (const auto& [given, stored] : table) {
    const std::string country =
        stored.substr(0, 2) == "EL" ? std::string("GR") : stored.substr(0, 2);
    const auto parsed = with_vat(given, country);
    INFO(given << "\n" << messages_of(parsed));
    REQUIRE(parsed.info);
    CHECK(parsed.info->vat_number == stored);
  }
}

TEST_CASE("a VAT number of another country than the EU address is refused as vat_number",
          "[billing_info]") {
  const auto parsed = with_vat("DE123456789", "NL");
  CHECK_FALSE(parsed.info);
  REQUIRE(fields_of(parsed) == std::vector<std::string>{"vat_number"});
  CHECK_THAT(parsed.errors[0].message, Catch::Contains("NL") && Catch::Contains("DE"));

  const auto greek = with_vat("GR123456789", "GR");
  REQUIRE(fields_of(greek) == std::vector<std::string>{"vat_number"});
  CHECK_THAT(greek.errors[0].message, Catch::Contains("EL"));

  CHECK(fields_of(with_vat("123456789B01", "NL")) == std::vector<std::string>{"vat_number"});
}

TEST_CASE("without a country a VAT number is judged by its own prefix", "[billing_info]") {
  CHECK(with_vat("NL123456789B01", "").info);
  CHECK(with_vat("EL123456789", "").info);
  CHECK(with_vat("GB123456789", "").info);
  CHECK(with_vat("CHE123456789", "").info);  // not an EU or UK prefix: free form
  CHECK(fields_of(with_vat("NL12345", "")) == std::vector<std::string>{"vat_number"});
  CHECK(fields_of(with_vat("DE1234567890", "")) == std::vector<std::string>{"vat_number"});
  CHECK(fields_of(with_vat("GR123456789", "")) == std::vector<std::string>{"vat_number"});
  CHECK(fields_of(with_vat("GB1234", "")) == std::vector<std::string>{"vat_number"});
}

TEST_CASE("UK VAT numbers follow the GB formats and other countries are free form",
          "[billing_info]") {
  for (const char* vat :
       {"GB123456789", "GB123456789012", "GBGD001", "GBHA599", "XI123456789", "GB 123 4567 89"}) {
    INFO(vat);
    CHECK(with_vat(vat, "GB").info);
  }
  for (const char* vat :
       {"GB12345678", "GB1234567890", "GBGD500", "GBHA499", "DE123456789", "123456789"}) {
    INFO(vat);
    CHECK(fields_of(with_vat(vat, "GB")) == std::vector<std::string>{"vat_number"});
  }
  CHECK(with_vat("CHE-123.456.789 MWST", "CH").info);
  CHECK(with_vat("12-3456789", "US").info);
  CHECK(fields_of(with_vat("1", "US")) == std::vector<std::string>{"vat_number"});
  CHECK(fields_of(with_vat(std::string(31, '1'), "US")) == std::vector<std::string>{"vat_number"});
  CHECK(fields_of(with_vat("12/3456789", "US")) == std::vector<std::string>{"vat_number"});
}

TEST_CASE("a VAT number is not required for complete billing info", "[billing_info]") {
  Json::Value body = complete_body();
  body.removeMember("vat_number");
  const auto parsed = parse_billing_info(body);
  REQUIRE(parsed.info);
  CHECK(parsed.info->is_complete());
}

TEST_CASE("billing info built in code is judged by the same rules as parsed input",
          "[billing_info]") {
  auto parsed = parse_billing_info(complete_body());
  REQUIRE(parsed.info);
  BillingInfo info = *parsed.info;
  info.vat_number = "DE123456789";  // does not match the NL address
  info.address.zip = "12345";       // not a Dutch postcode
  info.currency = "XYZ";
  info.payment_terms_days = 400;
  info.roundup_minutes = 0;
  CHECK_FALSE(info.is_complete());
  CHECK(info.missing() == std::vector<std::string>{"vat_number", "address.zip", "currency",
                                                   "payment_terms_days", "roundup_minutes"});
  // An invalid optional field that completeness does not depend on does not count.
  BillingInfo other = *parsed.info;
  other.website = "not a url";
  CHECK(other.is_complete());
}

TEST_CASE("to_json writes the API shape with complete and missing", "[billing_info]") {
  Json::Value body = complete_body();
  body.removeMember("payment_terms_days");
  const auto parsed = parse_billing_info(body);
  REQUIRE(parsed.info);
  const Json::Value out = parsed.info->to_json();
  CHECK(out["business_name"].asString() == "Contoso Ltd");
  CHECK(out["address"]["zip"].asString() == "3511AA");
  CHECK(out["address"]["building"].asString().empty());
  CHECK(out["tax_rate"].isString());
  CHECK(out["payment_terms_days"].isNull());
  CHECK(out["roundup_minutes"].asInt() == 15);
  CHECK(out["direct_debit"].isBool());
  CHECK_FALSE(out["complete"].asBool());
  REQUIRE(out["missing"].isArray());
  REQUIRE(out["missing"].size() == 1);
  CHECK(out["missing"][0].asString() == "payment_terms_days");
}

TEST_CASE("to_json round-trips through parse_billing_info", "[billing_info]") {
  Json::Value body = complete_body();
  body["tax_rate"] = "7.125";
  body["direct_debit"] = true;
  body["vat_number"] = "nl 123456789 b01";
  for (const auto& start : {body, Json::Value(Json::objectValue)}) {
    const auto first = parse_billing_info(start);
    REQUIRE(first.info);
    const Json::Value written = first.info->to_json();
    const auto second = parse_billing_info(written);
    INFO(written.toStyledString() << messages_of(second));
    REQUIRE(second.info);
    CHECK(second.info->to_json() == written);
  }
}

TEST_CASE("approved ticket time is rounded up to a multiple of the roundup", "[billing_info]") {
  struct Case {
    int roundup, minutes, billed;
  };
  const std::vector<Case> table = {
      {15, 7, 15},  {15, 21, 30}, {15, 36, 45}, {15, 45, 45},  {10, 1, 10},
      {10, 10, 10}, {10, 11, 20}, {1, 7, 7},    {60, 61, 120}, {60, 60, 60},
  };
  for (const auto& c : table) {
    INFO("roundup " << c.roundup << " minutes " << c.minutes);
    CHECK(round_up_minutes(c.minutes, c.roundup) == c.billed);
  }
}

TEST_CASE("time rounding refuses values outside its contract", "[billing_info]") {
  CHECK_THROWS_AS(round_up_minutes(0, 15), std::invalid_argument);
  CHECK_THROWS_AS(round_up_minutes(7, 0), std::invalid_argument);
  CHECK_THROWS_AS(round_up_minutes(-5, 10), std::invalid_argument);
  CHECK_THROWS_AS(round_up_minutes(std::numeric_limits<int>::max(), 60), std::overflow_error);
  CHECK(round_up_minutes(std::numeric_limits<int>::max(), 1) == std::numeric_limits<int>::max());
}

TEST_CASE("currency exponents follow ISO 4217 minor units", "[billing_info]") {
  using psahost::domain::currency_exponent;
  CHECK(currency_exponent("EUR") == 2);
  CHECK(currency_exponent("USD") == 2);
  CHECK(currency_exponent("GBP") == 2);
  CHECK(currency_exponent("JPY") == 0);
  CHECK(currency_exponent("KRW") == 0);
  CHECK(currency_exponent("ISK") == 0);
  CHECK(currency_exponent("KWD") == 3);
  CHECK(currency_exponent("BHD") == 3);
  CHECK(currency_exponent("TND") == 3);
  CHECK(currency_exponent("CLF") == 4);
  CHECK_FALSE(currency_exponent("XAU"));  // gold has no minor unit
  CHECK_FALSE(currency_exponent("XXX"));
  CHECK_FALSE(currency_exponent("eur"));  // lookups take normalised codes
  CHECK_FALSE(currency_exponent("HRK"));  // withdrawn when Croatia adopted the euro
  CHECK_FALSE(currency_exponent(""));
}

TEST_CASE("the reference lists are sorted and hold the expected codes", "[billing_info]") {
  const auto codes = psahost::domain::active_currency_codes();
  CHECK(std::is_sorted(codes.begin(), codes.end()));
  CHECK(std::binary_search(codes.begin(), codes.end(), "EUR"));
  CHECK(std::binary_search(codes.begin(), codes.end(), "XAU"));
  CHECK(psahost::domain::is_active_currency("CHF"));
  CHECK_FALSE(psahost::domain::is_active_currency("DEM"));
  CHECK(psahost::domain::is_country("NL"));
  CHECK(psahost::domain::is_country("GR"));
  CHECK(psahost::domain::is_country("SS"));
  CHECK_FALSE(psahost::domain::is_country("UK"));
  CHECK_FALSE(psahost::domain::is_country("EL"));
  CHECK_FALSE(psahost::domain::is_country("nl"));
}
