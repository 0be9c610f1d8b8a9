#include "domain/contract.hpp"

#include <stdexcept>

namespace psahost::domain {

std::optional<Discount> parse_discount(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 3) return std::nullopt;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 4)) {
    return std::nullopt;
  }
  int64_t units = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    units = units * 10 + (c - '0');
  }
  int64_t frac = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    frac = frac * 10 + (c - '0');
  }
  // The percentage in ten-thousandths; the whole is 100% = 1000000.
  const int64_t millionths = units * 10'000 + frac;
  if (millionths > 1'000'000) return std::nullopt;

  std::string digits = std::to_string(units);
  std::string decimals(fraction);
  while (decimals.size() > 2 && decimals.back() == '0') decimals.pop_back();
  while (decimals.size() < 2) decimals.push_back('0');
  return Discount{millionths, digits + "." + decimals};
}

int64_t net_amount(int64_t price, int64_t quantity, const Discount& discount) {
  if (price < 0 || quantity < 0) throw std::invalid_argument("price and quantity must be >= 0");
  // 128 bits: price x quantity x 10^6 does not fit in 64.
  const __int128 gross = static_cast<__int128>(price) * quantity;
  const __int128 kept = gross * (1'000'000 - discount.millionths);
  return static_cast<int64_t>((kept + 500'000) / 1'000'000);
}

bool is_email(std::string_view text) {
  const auto at = text.find('@');
  if (at == std::string_view::npos || at == 0 || text.find('@', at + 1) != std::string_view::npos)
    return false;
  if (text.size() > 254) return false;
  for (unsigned char c : text) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  const std::string_view domain = text.substr(at + 1);
  const auto dot = domain.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size();
}

std::vector<std::string> remaining_steps(const DraftState& d) {
  std::vector<std::string> steps;
  if (!d.has_name || !d.has_start || !d.has_contact) steps.emplace_back("contract_info");
  if (!d.billing_complete) steps.emplace_back("billing_info");
  if (d.parts == 0 || d.unpriced_parts > 0) steps.emplace_back("parts");
  return steps;
}

}  // namespace psahost::domain
