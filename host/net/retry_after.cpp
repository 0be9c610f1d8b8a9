// parse_retry_after (declared in https_client.hpp): kept out of the Beast translation unit.
#include "net/https_client.hpp"

#include <array>
#include <cstdint>

namespace psahost::net {
namespace {

using namespace std::chrono;

// RFC 9111 1.2.2: a delta-seconds too large to represent is taken as 2^31.
constexpr int64_t kMaxDelta = int64_t{1} << 31;

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A left-to-right reader over the exact grammar of RFC 9110 5.6.7: every step either consumes
// what it expects or fails, and a failed reader stays failed.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && s_.empty(); }

  void literal(std::string_view text) {
    if (!ok_ || s_.substr(0, text.size()) != text) return fail();
    s_.remove_prefix(text.size());
  }

  template <std::size_t N>
  int one_of(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; ok_ && i < N; ++i) {
      if (s_.substr(0, names[i].size()) == names[i]) {
        s_.remove_prefix(names[i].size());
        return static_cast<int>(i);
      }
    }
    fail();
    return 0;
  }

  int digits(std::size_t n) {
    int value = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!ok_ || s_.empty() || s_.front() < '0' || s_.front() > '9') {
        fail();
        return 0;
      }
      value = value * 10 + (s_.front() - '0');
      s_.remove_prefix(1);
    }
    return value;
  }

  // asctime's day: 2DIGIT or SP DIGIT.
  int padded_day() {
    if (ok_ && !s_.empty() && s_.front() == ' ') {
      s_.remove_prefix(1);
      return digits(1);
    }
    return digits(2);
  }

  seconds time_of_day() {
    const int h = digits(2);
    literal(":");
    const int m = digits(2);
    literal(":");
    const int s = digits(2);
    if (h > 23 || m > 59 || s > 60) fail();  // 60: a leap second
    return hours(h) + minutes(m) + seconds(s);
  }

 private:
  void fail() { ok_ = false; }
  std::string_view s_;
  bool ok_ = true;
};

std::optional<sys_seconds> at(int y, int month_index, int d, seconds time) {
  const year_month_day date{year(y), month(static_cast<unsigned>(month_index + 1)),
                            day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  return sys_days(date) + time;
}

// IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
std::optional<sys_seconds> imf_fixdate(std::string_view s) {
  Reader r(s);
  r.one_of(kDays);
  r.literal(", ");
  const int d = r.digits(2);
  r.literal(" ");
  const int mon = r.one_of(kMonths);
  r.literal(" ");
  const int y = r.digits(4);
  r.literal(" ");
  const seconds t = r.time_of_day();
  r.literal(" GMT");
  if (!r.at_end()) return std::nullopt;
  return at(y, mon, d, t);
}

// rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT. A two-digit year more than 50 years ahead
// is the most recent past year with those digits (RFC 9110 5.6.7).
std::optional<sys_seconds> rfc850_date(std::string_view s, system_clock::time_point now) {
  Reader r(s);
  r.one_of(kLongDays);
  r.literal(", ");
  const int d = r.digits(2);
  r.literal("-");
  const int mon = r.one_of(kMonths);
  r.literal("-");
  const int yy = r.digits(2);
  r.literal(" ");
  const seconds t = r.time_of_day();
  r.literal(" GMT");
  if (!r.at_end()) return std::nullopt;
  const int this_year = static_cast<int>(year_month_day(floor<days>(now)).year());
  int y = this_year - this_year % 100 + yy;
  if (y > this_year + 50) y -= 100;
  return at(y, mon, d, t);
}

// asctime-date: Sun Nov  6 08:49:37 1994
std::optional<sys_seconds> asctime_date(std::string_view s) {
  Reader r(s);
  r.one_of(kDays);
  r.literal(" ");
  const int mon = r.one_of(kMonths);
  r.literal(" ");
  const int d = r.padded_day();
  r.literal(" ");
  const seconds t = r.time_of_day();
  r.literal(" ");
  const int y = r.digits(4);
  if (!r.at_end()) return std::nullopt;
  return at(y, mon, d, t);
}

}  // namespace

std::optional<seconds> parse_retry_after(std::string_view value, system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (value.front() >= '0' && value.front() <= '9') {
    int64_t n = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      n = std::min(kMaxDelta, n * 10 + (c - '0'));
    }
    return seconds(n);
  }

  std::optional<sys_seconds> date = imf_fixdate(value);
  if (!date) date = rfc850_date(value, now);
  if (!date) date = asctime_date(value);
  if (!date) return std::nullopt;
  // Rounded up: waiting until the stated second has begun is never too early.
  const auto wait = ceil<seconds>(*date - now);
  return wait.count() > 0 ? wait : seconds(0);
}

}  // namespace psahost::net
