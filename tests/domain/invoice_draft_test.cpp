// Amounts on an invoice (proration, time, tax, each rounded half-up per line) and the drafts a
// client's facts give for a period: upfront vs afterwards, currencies, entities, refusals.
#include "domain/invoice_draft.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <stdexcept>

using namespace psahost::domain;

namespace {

Date d(const char* text) {
  return *parse_date(text);
}

Discount pct(const char* text) {
  return *parse_discount(text);
}

BillingInfo billing(const std::string& currency = "EUR", const std::string& tax = "21.00") {
  BillingInfo b;
  b.business_name = "Contoso Ltd";
  b.email = "billing@contoso.example";
  b.currency = currency;
  b.tax_rate = tax;
  b.payment_terms_days = 14;
  b.invoice_delivery = "email";
  return b;
}

ContractFacts contract(const char* start, const std::string& interval = "monthly",
                       const std::string& timing = "upfront") {
  ContractFacts c;
  c.id = "ctr_1";
  c.reference = "CT-000001";
  c.currency = "EUR";
  c.invoice_interval = interval;
  c.when_to_bill = timing;
  c.start = d(start);
  return c;
}

PartFacts part(const std::string& id, int64_t price, int64_t quantity = 1) {
  PartFacts p;
  p.id = id;
  p.description = "Backup";
  p.quantity = quantity;
  p.price = price;
  return p;
}

// The one outcome of a client with a single billing entity (by value: the list is a temporary).
EntityOutcome only(const std::vector<EntityOutcome>& outcomes) {
  REQUIRE(outcomes.size() == 1);
  return outcomes.front();
}

}  // namespace

TEST_CASE("proration by day rounds half-up once per line", "[billing][amounts]") {
  CHECK(prorated_amount(450, 12, pct("0"), 30, 30) == 5400);
  CHECK(prorated_amount(450, 12, pct("0"), 16, 30) == 2880);
  // 1000 x 1/3 = 333.33 -> 333; 1000 x 2/3 = 666.67 -> 667: rounded per line, not per day.
  CHECK(prorated_amount(1000, 1, pct("0"), 10, 30) == 333);
  CHECK(prorated_amount(1000, 1, pct("0"), 20, 30) == 667);
  // Exactly half rounds up: 1 x 15/30 = 0.5 -> 1.
  CHECK(prorated_amount(1, 1, pct("0"), 15, 30) == 1);
  // The discount is applied before the one rounding: 2000 x 0.9 x 16/30 = 960.
  CHECK(prorated_amount(2000, 1, pct("10"), 16, 30) == 960);
  CHECK(prorated_amount(999, 3, pct("12.5"), 1, 31) == 85);  // 2622.375 / 31 = 84.59
  CHECK(prorated_amount(450, 12, pct("100"), 30, 30) == 0);
  CHECK_THROWS_AS(prorated_amount(450, 1, pct("0"), 31, 30), std::invalid_argument);
  CHECK_THROWS_AS(prorated_amount(-1, 1, pct("0"), 1, 30), std::invalid_argument);
  CHECK_THROWS_AS(prorated_amount(std::numeric_limits<int64_t>::max(), 1'000'000, pct("0"), 30, 30),
                  std::overflow_error);
}

TEST_CASE("time is billed minutes at the hourly rate, tax per line, both half-up",
          "[billing][amounts]") {
  CHECK(time_amount(15, 9000) == 2250);
  CHECK(time_amount(7, 9000) == 1050);
  CHECK(time_amount(1, 9000) == 150);
  CHECK(time_amount(1, 90) == 2);                // 1.5 -> 2
  CHECK(time_amount(1, 89) == 1);                // 1.483 -> 1
  CHECK(tax_amount(1050, pct("21.00")) == 221);  // 220.5 -> 221
  CHECK(tax_amount(2880, pct("21")) == 605);     // 604.8
  CHECK(tax_amount(100, pct("7.125")) == 7);     // 7.125
  CHECK(tax_amount(1000, pct("0")) == 0);
  CHECK(parse_tax_rate("21.00")->millionths == 210'000);
  CHECK_FALSE(parse_tax_rate("101").has_value());
  Totals t;
  CHECK(t.add(100, 21));
  CHECK(t.total() == 121);
  CHECK_FALSE(t.add(std::numeric_limits<int64_t>::max(), 0));
  CHECK(t.total() == 121);
}

TEST_CASE("an upfront part is billed for the run's month, prorated when it starts inside it",
          "[billing][draft]") {
  ClientFacts facts{"cli_1", billing(), {contract("2026-09-15")}, {}, {}};
  facts.contracts[0].parts = {part("p1", 450, 12)};
  const auto first = only(draft_invoices(facts, *Period::parse("2026-09"), d("2026-12-01")));
  REQUIRE(first.draft);
  REQUIRE(first.draft->lines.size() == 1);
  const auto& line = first.draft->lines[0];
  CHECK(line.amount == 2880);  // 16 of 30 days
  CHECK(line.tax == 605);
  CHECK(line.service->days == 16);
  CHECK(first.draft->totals.net == 2880);
  CHECK(first.draft->totals.total() == 3485);
  CHECK(first.draft->payment_terms_days == 14);
  const auto full = only(draft_invoices(facts, *Period::parse("2026-10"), d("2026-12-01")));
  CHECK(full.draft->lines[0].amount == 5400);
}

TEST_CASE("an afterwards part waits for its interval to end and then bills it",
          "[billing][draft]") {
  ClientFacts facts{"cli_1", billing(), {contract("2026-09-01", "monthly", "afterwards")}, {}, {}};
  facts.contracts[0].parts = {part("p1", 3000)};
  CHECK(only(draft_invoices(facts, *Period::parse("2026-09"), d("2026-12-01"))).reason ==
        "nothing_due");
  const auto october = only(draft_invoices(facts, *Period::parse("2026-11"), d("2026-12-01")));
  REQUIRE(october.draft);
  CHECK(october.draft->lines[0].interval->start == d("2026-10-01"));
  CHECK(october.draft->lines[0].amount == 3000);
  // A run for next month would bill a month that has not ended: the entity is refused whole.
  const auto early = only(draft_invoices(facts, *Period::parse("2027-01"), d("2026-12-01")));
  CHECK_FALSE(early.draft);
  CHECK(early.reason == "interval_not_ended");
}

TEST_CASE("a part ending inside the interval is billed up to its end day", "[billing][draft]") {
  ClientFacts facts{"cli_1", billing(), {contract("2026-01-01")}, {}, {}};
  PartFacts ends = part("p1", 3100);
  ends.end = d("2026-12-10");
  PartFacts trial = part("p2", 500);
  trial.trial = true;
  facts.contracts[0].parts = {ends, trial};
  const auto december = only(draft_invoices(facts, *Period::parse("2026-12"), d("2026-12-01")));
  REQUIRE(december.draft);
  REQUIRE(december.draft->lines.size() == 1);      // the trial part is not billed
  CHECK(december.draft->lines[0].amount == 1000);  // 10 of 31 days
  CHECK(only(draft_invoices(facts, *Period::parse("2027-01"), d("2026-12-01"))).reason ==
        "nothing_due");
}

TEST_CASE("items in another currency than the client's are left off with the reason",
          "[billing][draft]") {
  ContractFacts usd = contract("2026-01-01");
  usd.currency = "USD";
  usd.parts = {part("p1", 1000)};
  ClientFacts facts{"cli_1", billing(), {usd}, {}, {}};
  facts.time = {{"te_1", "tkt_1", "Printer offline", "alice", "2026-11-03", "EUR", 15, 9000},
                {"te_2", "tkt_1", "Printer offline", "bob", "2026-11-04", "USD", 30, 9000}};
  facts.sales = {{"si_1", "Router", "EUR", "2026-11-05", 2, 12900}};
  const auto outcomes = draft_invoices(facts, *Period::parse("2026-11"), d("2026-12-01"));
  REQUIRE(outcomes.size() == 1);
  const auto& e = outcomes[0];
  REQUIRE(e.draft);
  REQUIRE(e.draft->lines.size() == 2);
  CHECK(e.draft->lines[0].kind == "sales_item");
  CHECK(e.draft->lines[0].amount == 25800);
  CHECK(e.draft->lines[1].kind == "time_entry");
  CHECK(e.draft->lines[1].amount == 2250);
  REQUIRE(e.left_off.size() == 2);
  CHECK(e.left_off[0].id == "p1");
  CHECK(e.left_off[0].reason == "currency_mismatch");
  CHECK(e.left_off[1].id == "te_2");
}

TEST_CASE("each billing entity gets its own draft, time and sales items go with the default",
          "[billing][draft]") {
  ContractFacts a = contract("2026-01-01");
  a.parts = {part("p1", 1000)};
  ContractFacts b = contract("2026-01-01");
  b.id = "ctr_2";
  b.billing_entity = "Contoso Cloud BV";
  b.parts = {part("p2", 2000)};
  ClientFacts facts{"cli_1", billing(), {a, b}, {}, {}};
  facts.time = {{"te_1", "tkt_1", "Printer", "alice", "2026-11-03", "EUR", 60, 6000}};
  const auto outcomes = draft_invoices(facts, *Period::parse("2026-11"), d("2026-12-01"));
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].billing_entity.empty());
  CHECK(outcomes[0].draft->totals.net == 7000);
  CHECK(outcomes[1].billing_entity == "Contoso Cloud BV");
  CHECK(outcomes[1].draft->totals.net == 2000);
}

TEST_CASE("an unpriced part refuses the entity's invoice rather than issuing it without",
          "[billing][draft]") {
  ClientFacts facts{"cli_1", billing(), {contract("2026-01-01")}, {}, {}};
  PartFacts unpriced = part("p2", 0);
  unpriced.price.reset();
  facts.contracts[0].parts = {part("p1", 1000), unpriced};
  const auto e = only(draft_invoices(facts, *Period::parse("2026-11"), d("2026-12-01")));
  CHECK_FALSE(e.draft);
  CHECK(e.reason == "unpriced_part");
}

TEST_CASE("a client with nothing due gets one nothing_due outcome", "[billing][draft]") {
  ClientFacts facts{"cli_1", billing(), {}, {}, {}};
  const auto e = only(draft_invoices(facts, *Period::parse("2026-11"), d("2026-12-01")));
  CHECK(e.reason == "nothing_due");
  CHECK(e.billing_entity.empty());
}
