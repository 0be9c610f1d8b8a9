// The accounting connectors' money and wire helpers: minor units written exactly in the
// currency's major unit, lines whose quantity x price is their amount, bodies whose decimals
// are numbers that no copied text can forge, and countries named as ISO codes.
#include "amounts.hpp"
#include "wire.hpp"

#include <catch2/catch.hpp>

#include <climits>

using namespace connectors;

namespace {

Json::Value line(const std::string& kind, int64_t quantity, int64_t price, int64_t amount,
                 const std::string& discount = "0.00") {
  Json::Value l;
  l["kind"] = kind;
  l["description"] = "Backup";
  l["quantity"] = static_cast<Json::Int64>(quantity);
  l["unit_price"] = static_cast<Json::Int64>(price);
  l["amount"] = static_cast<Json::Int64>(amount);
  l["discount"] = discount;
  return l;
}

}  // namespace

TEST_CASE("minor units are written exactly in the currency's major unit", "[connectors]") {
  CHECK(major_units(12900, "EUR") == "129.00");
  CHECK(major_units(5, "EUR") == "0.05");
  CHECK(major_units(-5, "USD") == "-0.05");
  CHECK(major_units(0, "EUR") == "0.00");
  CHECK(major_units(12900, "JPY") == "12900");
  CHECK(major_units(1234, "KWD") == "1.234");
  CHECK(major_units(7, "CLF") == "0.0007");
  CHECK(major_units(INT64_MIN, "EUR") == "-92233720368547758.08");
  CHECK(major_units(INT64_MAX, "EUR") == "92233720368547758.07");
}

TEST_CASE("an amount a system answered with is read back as the minor units it stands for",
          "[connectors]") {
  CHECK(minor_units(Json::Value(147.02), "EUR") == 14702);
  CHECK(minor_units(Json::Value(149.34999999999999), "EUR") == 14935);
  CHECK(minor_units(Json::Value(12900), "JPY") == 12900);
  CHECK(minor_units(Json::Value(3), "EUR") == 300);
  CHECK(minor_units(Json::Value("1.234"), "KWD") == 1234);
  CHECK_FALSE(minor_units(Json::Value("12,90"), "EUR"));
  CHECK_FALSE(minor_units(Json::Value(), "EUR"));
}

TEST_CASE("a line is sent as a quantity and price that multiply to its amount, or as one of it",
          "[connectors]") {
  const auto units = line_figures(line("contract_part", 12, 450, 5400), "EUR");
  CHECK(units.quantity == "12");
  CHECK(units.unit_amount == "4.50");
  CHECK(units.amount == "54.00");
  CHECK_FALSE(units.as_one);

  // 45 minutes at 90.00 an hour are 0.75 h: exact.
  const auto hours = line_figures(line("time_entry", 45, 9000, 6750), "EUR");
  CHECK(hours.quantity == "0.7500");
  CHECK(hours.unit_amount == "90.00");
  CHECK_FALSE(hours.as_one);

  // 10 minutes are no exact number of hours; a discount or a prorated part does not multiply.
  for (const auto& l :
       {line("time_entry", 10, 9000, 1500), line("contract_part", 12, 450, 4860, "10.00"),
        line("contract_part", 12, 450, 2613)}) {
    const auto f = line_figures(l, "EUR");
    CHECK(f.as_one);
    CHECK(f.quantity == "1");
    CHECK(f.unit_amount == f.amount);
    CHECK(line_description(l, f, "EUR") != "Backup");
  }
  const auto discounted = line("contract_part", 12, 450, 4860, "10.00");
  CHECK(line_description(discounted, line_figures(discounted, "EUR"), "EUR") ==
        "Backup (12 x 4.50, 10.00% off)");
  const auto minutes = line("time_entry", 10, 9000, 1500);
  CHECK(line_description(minutes, line_figures(minutes, "EUR"), "EUR") ==
        "Backup (10 min at 90.00/h)");
  // A quantity and price whose product does not fit are not multiplied.
  CHECK(line_figures(line("manual", INT64_MAX / 2, 3, 1), "EUR").as_one);
}

TEST_CASE("decimals are numbers in a body and copied text cannot pass for one", "[connectors]") {
  Json::Value body;
  body["Amount"] = decimal("54.00");
  body["Description"] = clean(std::string("\x01") + "decimal:99 and a\ttab");
  CHECK(json_body(body) == R"({"Amount":54.00,"Description":"decimal:99 and atab"})");
  // Only a decimal is written raw; anything else marked stays a string.
  Json::Value odd;
  odd["x"] = decimal("1e5");
  CHECK(json_body(odd).find(R"("x":")") != std::string::npos);
}

TEST_CASE("an address's country becomes an ISO 3166 code, or nothing when unknown",
          "[connectors]") {
  CHECK(country_code("nl") == "NL");
  CHECK(country_code("Netherlands") == "NL");
  CHECK(country_code(" United States ") == "US");
  CHECK(country_code("USA") == "US");
  CHECK(country_code("U.K.") == "GB");
  CHECK(country_code("Atlantis") == "");
  CHECK(url_encode("Name==\"A&B\"") == "Name%3D%3D%22A%26B%22");
  CHECK(is_record_id("00000000-0000-4000-8000-000000000001"));
  CHECK_FALSE(is_record_id("../Organisation"));
  CHECK_FALSE(is_record_id("1?x=2"));
}
