// The calendar of billing: periods ("YYYY-MM"), the contract interval a run for a period bills,
// and the days of a part that fall inside that interval. UTC calendar days, no time of day.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace psahost::domain {

using Date = std::chrono::sys_days;

// YYYY-MM-DD naming a real day, years 1900..9999.
std::optional<Date> parse_date(std::string_view text);
std::string format_date(Date date);
Date today_utc();

// A billing period is a calendar month. A run for a period bills what is due on its first day
// (see billed_interval) and the approved time and sales items dated up to its last day.
struct Period {
  int year = 0;
  int month = 0;  // 1..12

  // "YYYY-MM" with a month 01..12 and a year 1900..9999; nothing otherwise.
  static std::optional<Period> parse(std::string_view text);
  static Period of(Date date);

  std::string text() const;
  Date first_day() const;
  Date last_day() const;
  Period plus_months(int months) const;
  int index() const { return year * 12 + month - 1; }  // months since year 0
  auto operator<=>(const Period&) const = default;
};

// Months in a contract's invoice interval: monthly 1, quarterly 3, semi_annually 6, yearly 12;
// 0 for anything else.
int interval_months(std::string_view invoice_interval);

// [start, end): end is the first day after the interval.
struct Interval {
  Date start;
  Date end;
  int64_t days() const { return (end - start).count(); }
};

// The interval of a contract that the run for period bills, if any.
//
// Intervals are whole months aligned to the month the contract starts in: a quarterly contract
// starting on 2026-02-10 has the intervals Feb-Apr, May-Jul, ... (the first one prorated from the
// 10th by the caller), not calendar quarters. An interval is billed in exactly one run:
// - upfront: the run for the month the interval starts in ("2026-11" bills November for a monthly
//   contract, Nov-Jan for a quarterly one whose intervals start in November);
// - afterwards: the run for the month right after the interval ended ("2026-12" bills November
//   for a monthly contract), that is on the first day after its last day.
// Nothing when no interval starts (upfront) or ends (afterwards) there, or when that interval
// lies before the contract's start month.
std::optional<Interval> billed_interval(Date contract_start, int months, bool upfront,
                                        Period period);

// The days of interval on which something in force from `from` to `to` (inclusive; nullopt =
// without end) is billed: their overlap. Nothing when they do not overlap.
struct Coverage {
  Date from;
  Date to;  // inclusive
  int64_t days = 0;
};
std::optional<Coverage> coverage(const Interval& interval, Date from, std::optional<Date> to);

}  // namespace psahost::domain
