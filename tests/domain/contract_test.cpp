// Contract values without a store: the discount kept exactly, net amounts rounded half-up in
// integer minor units, and which wizard steps a draft still shows.
#include "domain/contract.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>

using psahost::domain::Discount;
using psahost::domain::DraftState;
using psahost::domain::is_email;
using psahost::domain::net_amount;
using psahost::domain::parse_discount;
using psahost::domain::remaining_steps;

TEST_CASE("a discount is a decimal string from 0 to 100 kept exactly", "[contracts][domain]") {
  CHECK(parse_discount("0")->millionths == 0);
  CHECK(parse_discount("0")->text == "0.00");
  CHECK(parse_discount("12.5")->millionths == 125'000);
  CHECK(parse_discount("12.5")->text == "12.50");
  CHECK(parse_discount("7.125")->text == "7.125");
  CHECK(parse_discount("33.3333")->millionths == 333'333);
  CHECK(parse_discount("007")->text == "7.00");
  CHECK(parse_discount("100")->millionths == 1'000'000);
  CHECK(parse_discount("100.0000")->text == "100.00");
  for (const char* bad : {"", "-1", "100.01", "101", "1000", "12.", ".5", "12.34567", "1e2", "12,5",
                          " 5", "5 ", "+5", "abc"}) {
    INFO(bad);
    CHECK_FALSE(parse_discount(bad).has_value());
  }
}

TEST_CASE("a part's net amount is rounded half-up in whole minor units", "[contracts][domain]") {
  const auto d = [](const char* text) { return *parse_discount(text); };
  CHECK(net_amount(450, 12, d("0")) == 5400);
  CHECK(net_amount(999, 3, d("12.5")) == 2622);  // 2622.375
  CHECK(net_amount(5, 1, d("50")) == 3);         // 2.5
  CHECK(net_amount(3, 1, d("50")) == 2);         // 1.5
  CHECK(net_amount(1, 1, d("50.0001")) == 0);    // 0.499999
  CHECK(net_amount(100, 7, d("100")) == 0);
  CHECK(net_amount(0, 1'000'000, d("10")) == 0);
  // The largest part the API accepts does not overflow on the way.
  CHECK(net_amount(1'000'000'000'000, 1'000'000, d("0.0001")) == 999'999'000'000'000'000);
  CHECK_THROWS_AS(net_amount(-1, 1, d("0")), std::invalid_argument);
  CHECK_THROWS_AS(net_amount(1, -1, d("0")), std::invalid_argument);
}

TEST_CASE("contact emails get a practical shape check", "[contracts][domain]") {
  CHECK(is_email("billing@contoso.example"));
  CHECK(is_email("a.b+c@sub.example.nl"));
  for (const char* bad : {"", "nobody", "@example.com", "a@b", "a@.com", "a@com.", "a b@c.com",
                          "a@@c.com", "a@b@c.com"}) {
    INFO(bad);
    CHECK_FALSE(is_email(bad));
  }
}

TEST_CASE("a draft lists the wizard steps it still needs in order", "[contracts][domain]") {
  DraftState done{true, true, true, true, 3, 0};
  CHECK(remaining_steps(done).empty());

  DraftState fresh{true, true, false, false, 2, 1};
  CHECK(remaining_steps(fresh) ==
        std::vector<std::string>{"contract_info", "billing_info", "parts"});

  DraftState no_parts = done;
  no_parts.parts = 0;
  CHECK(remaining_steps(no_parts) == std::vector<std::string>{"parts"});

  DraftState unnamed = done;
  unnamed.has_name = false;
  CHECK(remaining_steps(unnamed) == std::vector<std::string>{"contract_info"});

  DraftState billing = done;
  billing.billing_complete = false;
  CHECK(remaining_steps(billing) == std::vector<std::string>{"billing_info"});
}
