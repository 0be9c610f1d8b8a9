// What the tenant's accounting systems say their last invoice number is, asked of every enabled
// connector that declares the command last_invoice_number, so numbering can line up with them.
#pragma once

#include "plugins/registry.hpp"

#include <optional>
#include <string>
#include <vector>

namespace psahost::api {

struct AccountingReport {
  std::string plugin_id;
  std::string system;                      // "xero", "quickbooks", ...; the plugin id if unsaid
  std::optional<std::string> last_number;  // nullopt: the system has no invoice yet
  std::string error;                       // set when the connector could not say
};

// Calls command.last_invoice_number on each enabled connector that declares it, in id order:
//   request {"tenant_id"} -> {"system":"xero","last_number":"INV-2026-01041"|null}
// A connector that fails, or answers without a string or null last_number, is reported with
// its error rather than left out, so a verification never passes on a silent connector.
std::vector<AccountingReport> ask_accounting_last_numbers(const plugins::PluginRegistry& registry,
                                                          const std::string& tenant_id);

}  // namespace psahost::api
