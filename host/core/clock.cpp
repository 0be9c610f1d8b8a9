#include "core/clock.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace psahost {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::system_clock::to_time_t(t);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string today() {
  return now_rfc3339().substr(0, 10);
}

std::string now_rfc3339() {
  return rfc3339(std::chrono::system_clock::now());
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20 || text.back() != 'Z') return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t n, int& out) {
    const char* begin = text.data() + at;
    auto [end, error] = std::from_chars(begin, begin + n, out);
    return error == std::errc() && end == begin + n;
  };
  int y, mo, d, h, mi, s;
  if (!number(0, 4, y) || text[4] != '-' || !number(5, 2, mo) || text[7] != '-' ||
      !number(8, 2, d) || text[10] != 'T' || !number(11, 2, h) || text[13] != ':' ||
      !number(14, 2, mi) || text[16] != ':' || !number(17, 2, s)) {
    return std::nullopt;
  }
  int ms = 0;
  if (text.size() > 20) {
    if (text[19] != '.' || text.size() != 24 || !number(20, 3, ms)) return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(mo),
                                         std::chrono::day(d)};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s) + std::chrono::milliseconds(ms);
}

}  // namespace psahost
