// Money on an invoice in integer minor units, never floating point: a part's amount for the days
// it is billed, time at its hourly rate, and tax; every line is rounded half-up on its own.
#pragma once

#include "domain/contract.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace psahost::domain {

// price x quantity less the discount, for `days` of an interval of `interval_days`, rounded
// half-up once at the end (a full interval gives exactly net_amount()). Throws
// std::invalid_argument for negative input or days outside 0..interval_days, and
// std::overflow_error when the amount does not fit in an int64.
int64_t prorated_amount(int64_t price, int64_t quantity, const Discount& discount, int64_t days,
                        int64_t interval_days);

// Billed minutes at a rate per hour, rounded half-up (7 minutes at 9000 = 1050).
int64_t time_amount(int64_t minutes, int64_t rate_per_hour);

// A tax rate is a percentage with the grammar of a discount and of the billing info's tax_rate
// ("21.00", "7.125", "0"): kept as millionths of the whole.
std::optional<Discount> parse_tax_rate(std::string_view text);

// The tax on a net amount, rounded half-up (1050 at 21% = 221).
int64_t tax_amount(int64_t net, const Discount& rate);

// An invoice's totals, summed line by line; add() refuses what would overflow.
struct Totals {
  int64_t net = 0;
  int64_t tax = 0;
  int64_t total() const { return net + tax; }
  // False (and nothing added) when a sum would not fit in an int64.
  bool add(int64_t line_net, int64_t line_tax);
};

}  // namespace psahost::domain
