#include "domain/invoice_amounts.hpp"

#include <limits>
#include <stdexcept>

namespace psahost::domain {
namespace {

constexpr int64_t kMillion = 1'000'000;

// numerator / denominator rounded half-up, for non-negative values.
__int128 half_up(__int128 numerator, __int128 denominator) {
  return (numerator + denominator / 2) / denominator;
}

int64_t fit(__int128 value) {
  if (value > std::numeric_limits<int64_t>::max()) {
    throw std::overflow_error("the amount does not fit in 64 bits");
  }
  return static_cast<int64_t>(value);
}

}  // namespace

int64_t prorated_amount(int64_t price, int64_t quantity, const Discount& discount, int64_t days,
                        int64_t interval_days) {
  if (price < 0 || quantity < 0) throw std::invalid_argument("price and quantity must be >= 0");
  if (interval_days < 1 || days < 0 || days > interval_days) {
    throw std::invalid_argument("days must be within 0..interval_days and interval_days >= 1");
  }
  // One rounding for the whole line: price x quantity x (1 - discount) x days / interval_days.
  // 128 bits hold price (< 2^63) x quantity (<= 10^6) x 10^6 x days (<= 366).
  const __int128 kept = static_cast<__int128>(price) * quantity * (kMillion - discount.millionths);
  return fit(half_up(kept * days, static_cast<__int128>(kMillion) * interval_days));
}

int64_t time_amount(int64_t minutes, int64_t rate_per_hour) {
  if (minutes < 0 || rate_per_hour < 0)
    throw std::invalid_argument("minutes and rate must be >= 0");
  return fit(half_up(static_cast<__int128>(minutes) * rate_per_hour, 60));
}

std::optional<Discount> parse_tax_rate(std::string_view text) {
  return parse_discount(text);
}

int64_t tax_amount(int64_t net, const Discount& rate) {
  if (net < 0) throw std::invalid_argument("net amount must be >= 0");
  return fit(half_up(static_cast<__int128>(net) * rate.millionths, kMillion));
}

bool Totals::add(int64_t line_net, int64_t line_tax) {
  const __int128 n = static_cast<__int128>(net) + line_net;
  const __int128 t = static_cast<__int128>(tax) + line_tax;
  constexpr auto kMax = std::numeric_limits<int64_t>::max();
  if (n > kMax || t > kMax || n + t > kMax) return false;
  net = static_cast<int64_t>(n);
  tax = static_cast<int64_t>(t);
  return true;
}

}  // namespace psahost::domain
