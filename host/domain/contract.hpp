// Contracts and their parts as values: the allowed field values, the discount as an exact decimal,
// a part's net amount in integer minor units, and which wizard steps a draft still needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psahost::domain {

inline const std::vector<std::string> kInvoiceIntervals = {"monthly", "quarterly", "semi_annually",
                                                           "yearly"};
inline const std::vector<std::string> kBillTimings = {"upfront", "afterwards"};
inline const std::vector<std::string> kPaymentMethods = {"manual", "direct_debit"};
inline const std::vector<std::string> kInvoiceDeliveries = {"email", "mail"};
inline const std::vector<std::string> kContractStatuses = {"draft", "active", "ended", "cancelled"};
inline const std::vector<std::string> kPartTypes = {"default", "ict_services", "managed_service"};

// Largest quantity and unit price a part may carry; their product still fits in an int64.
inline constexpr int64_t kMaxPartQuantity = 1'000'000;
inline constexpr int64_t kMaxPrice = 1'000'000'000'000;

// A discount percentage kept exactly: millionths of the whole, so "12.5" is 125000 and "100" is
// 1000000. Parsed from a decimal string; never a binary fraction.
struct Discount {
  int64_t millionths = 0;
  std::string text;  // normalised: no leading zeros, at least two decimals ("12.50", "7.125")
};

// "^\d{1,3}(\.\d{1,4})?$" and at most 100; nothing otherwise.
std::optional<Discount> parse_discount(std::string_view text);

// price x quantity less the discount, rounded half-up to a whole minor unit. Throws
// std::invalid_argument for a negative price or quantity.
int64_t net_amount(int64_t price, int64_t quantity, const Discount& discount);

// A practical shape check: one '@', a local part, a domain with a dot, no spaces.
bool is_email(std::string_view text);

// What remains of the new-contract wizard for a draft, in the wizard's order.
struct DraftState {
  bool has_name = false;
  bool has_start = false;
  bool has_contact = false;
  bool billing_complete = false;  // the client's billing info, by BillingInfo::is_complete()
  int parts = 0;
  int unpriced_parts = 0;
};
// Among "contract_info", "billing_info" and "parts"; empty when the draft can be activated
// as far as its own data goes.
std::vector<std::string> remaining_steps(const DraftState& draft);

}  // namespace psahost::domain
