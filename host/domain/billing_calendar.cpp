#include "domain/billing_calendar.hpp"

#include <algorithm>
#include <cstdio>

namespace psahost::domain {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

}  // namespace

std::optional<Date> parse_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  if (!digits(t.substr(0, 4)) || !digits(t.substr(5, 2)) || !digits(t.substr(8, 2))) {
    return std::nullopt;
  }
  const int y = number(t.substr(0, 4));
  if (y < 1900) return std::nullopt;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(number(t.substr(5, 2)))),
                           day(static_cast<unsigned>(number(t.substr(8, 2))))};
  if (!ymd.ok()) return std::nullopt;
  return Date(ymd);
}

std::string format_date(Date date) {
  const year_month_day ymd(date);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

Date today_utc() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

std::optional<Period> Period::parse(std::string_view t) {
  if (t.size() != 7 || t[4] != '-' || !digits(t.substr(0, 4)) || !digits(t.substr(5, 2))) {
    return std::nullopt;
  }
  const Period p{number(t.substr(0, 4)), number(t.substr(5, 2))};
  if (p.year < 1900 || p.month < 1 || p.month > 12) return std::nullopt;
  return p;
}

Period Period::of(Date date) {
  const year_month_day ymd(date);
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month()))};
}

std::string Period::text() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  return buf;
}

Date Period::first_day() const {
  return Date(year_month_day{std::chrono::year(year),
                             std::chrono::month(static_cast<unsigned>(month)),
                             std::chrono::day(1)});
}

Date Period::last_day() const {
  return plus_months(1).first_day() - std::chrono::days(1);
}

Period Period::plus_months(int months) const {
  const int i = index() + months;
  return {i / 12, i % 12 + 1};
}

int interval_months(std::string_view interval) {
  if (interval == "monthly") return 1;
  if (interval == "quarterly") return 3;
  if (interval == "semi_annually") return 6;
  if (interval == "yearly") return 12;
  return 0;
}

std::optional<Interval> billed_interval(Date contract_start, int months, bool upfront,
                                        Period period) {
  if (months <= 0) return std::nullopt;
  const Period anchor = Period::of(contract_start);
  // Upfront: the interval starting in this period; afterwards: the one that ended just before.
  const Period first = upfront ? period : period.plus_months(-months);
  const int offset = first.index() - anchor.index();
  if (offset < 0 || offset % months != 0) return std::nullopt;
  return Interval{first.first_day(), first.plus_months(months).first_day()};
}

std::optional<Coverage> coverage(const Interval& interval, Date from, std::optional<Date> to) {
  const Date start = std::max(interval.start, from);
  const Date last =
      to ? std::min(interval.end - std::chrono::days(1), *to) : interval.end - std::chrono::days(1);
  if (last < start) return std::nullopt;
  return Coverage{start, last, (last - start).count() + 1};
}

}  // namespace psahost::domain
