// Periods, contract intervals by timing and alignment, and the days of a part inside one.
#include "domain/billing_calendar.hpp"

#include <catch2/catch.hpp>

using namespace psahost::domain;

namespace {

Date d(const char* text) {
  const auto date = parse_date(text);
  REQUIRE(date.has_value());
  return *date;
}

Period p(const char* text) {
  const auto period = Period::parse(text);
  REQUIRE(period.has_value());
  return *period;
}

std::string range(const std::optional<Interval>& i) {
  if (!i) return "none";
  return format_date(i->start) + ".." + format_date(i->end);
}

}  // namespace

TEST_CASE("a period is YYYY-MM with a real month and nothing else", "[billing][calendar]") {
  CHECK(p("2026-11").text() == "2026-11");
  CHECK(format_date(p("2026-02").last_day()) == "2026-02-28");
  CHECK(format_date(p("2028-02").last_day()) == "2028-02-29");
  CHECK(p("2026-12").plus_months(1).text() == "2027-01");
  CHECK(p("2026-01").plus_months(-1).text() == "2025-12");
  CHECK(Period::of(d("2026-11-30")).text() == "2026-11");
  for (const char* bad : {"2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01",
                          "abcd-ef", "", "1899-12", "2026-1a"}) {
    CAPTURE(bad);
    CHECK_FALSE(Period::parse(bad).has_value());
  }
}

TEST_CASE("dates must name a real day", "[billing][calendar]") {
  CHECK(parse_date("2028-02-29").has_value());
  CHECK_FALSE(parse_date("2026-02-29").has_value());
  CHECK_FALSE(parse_date("2026-04-31").has_value());
  CHECK_FALSE(parse_date("2026-4-01").has_value());
  CHECK(format_date(d("2026-01-05") + std::chrono::days(30)) == "2026-02-04");
}

TEST_CASE("a monthly upfront contract is billed for the run's own month", "[billing][calendar]") {
  const Date start = d("2026-03-15");
  CHECK(range(billed_interval(start, 1, true, p("2026-11"))) == "2026-11-01..2026-12-01");
  // The month the contract starts in is billed in that month's run (prorated by the caller).
  CHECK(range(billed_interval(start, 1, true, p("2026-03"))) == "2026-03-01..2026-04-01");
  CHECK(range(billed_interval(start, 1, true, p("2026-02"))) == "none");
}

TEST_CASE("an afterwards contract is billed in the run after its interval ended",
          "[billing][calendar]") {
  const Date start = d("2026-03-15");
  // Run 2026-12 bills November; the contract's first month is billed in April's run.
  CHECK(range(billed_interval(start, 1, false, p("2026-12"))) == "2026-11-01..2026-12-01");
  CHECK(range(billed_interval(start, 1, false, p("2026-04"))) == "2026-03-01..2026-04-01");
  CHECK(range(billed_interval(start, 1, false, p("2026-03"))) == "none");
}

TEST_CASE("quarterly and longer intervals align to the contract's start month",
          "[billing][calendar]") {
  const Date start = d("2026-02-10");
  // Upfront: Feb-Apr is billed in February's run only; May-Jul in May's.
  CHECK(range(billed_interval(start, 3, true, p("2026-02"))) == "2026-02-01..2026-05-01");
  CHECK(range(billed_interval(start, 3, true, p("2026-03"))) == "none");
  CHECK(range(billed_interval(start, 3, true, p("2026-04"))) == "none");
  CHECK(range(billed_interval(start, 3, true, p("2026-05"))) == "2026-05-01..2026-08-01");
  // Afterwards: Feb-Apr is billed when it has ended, in May's run.
  CHECK(range(billed_interval(start, 3, false, p("2026-05"))) == "2026-02-01..2026-05-01");
  CHECK(range(billed_interval(start, 3, false, p("2026-02"))) == "none");
  CHECK(range(billed_interval(start, 6, true, p("2026-08"))) == "2026-08-01..2027-02-01");
  CHECK(range(billed_interval(start, 12, true, p("2027-02"))) == "2027-02-01..2028-02-01");
  CHECK(range(billed_interval(start, 12, false, p("2027-02"))) == "2026-02-01..2027-02-01");
  CHECK(range(billed_interval(start, 12, true, p("2026-08"))) == "none");
}

TEST_CASE("a part's days in an interval are the overlap of its dates with it",
          "[billing][calendar]") {
  const Interval november{d("2026-11-01"), d("2026-12-01")};
  CHECK(november.days() == 30);
  CHECK(coverage(november, d("2026-01-01"), std::nullopt)->days == 30);
  const auto late_start = coverage(november, d("2026-11-11"), std::nullopt);
  REQUIRE(late_start);
  CHECK(late_start->days == 20);
  CHECK(format_date(late_start->from) == "2026-11-11");
  CHECK(format_date(late_start->to) == "2026-11-30");
  // The end date is the last day billed.
  CHECK(coverage(november, d("2026-01-01"), d("2026-11-10"))->days == 10);
  CHECK(coverage(november, d("2026-11-05"), d("2026-11-05"))->days == 1);
  CHECK_FALSE(coverage(november, d("2026-12-01"), std::nullopt).has_value());
  CHECK_FALSE(coverage(november, d("2026-01-01"), d("2026-10-31")).has_value());
  CHECK(interval_months("semi_annually") == 6);
  CHECK(interval_months("weekly") == 0);
}
