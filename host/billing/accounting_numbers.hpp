// What the tenant's accounting systems say their last invoice number is, asked of every enabled
// connector that declares the command last_invoice_number, so numbering can line up with them.
#pragma once

#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace psahost::billing {

struct AccountingReport {
  std::string plugin_id;
  std::string connection;                  // the connection's name that was asked
  std::string system;                      // "xero", "quickbooks", ...; the plugin id if unsaid
  std::optional<std::string> last_number;  // nullopt: the system has no invoice yet
  std::string error;                       // set when the connector could not say
};

// Calls command.last_invoice_number for each of the tenant's active connections whose connector
// is enabled and declares the command, in connector and connection order:
//   request {"tenant_id","connection":{...}} ->
//   {"system":"xero","last_number":"INV-2026-01041"|null}
// A connector installed but not connected for the tenant is not asked: it keeps no books for it.
// One that fails, or answers without a string or null last_number, is reported with its error
// rather than left out, so a verification never passes on a silent accounting system.
std::vector<AccountingReport> ask_accounting_last_numbers(const plugins::PluginRegistry& registry,
                                                          store::Store& store,
                                                          const std::string& tenant_id);

}  // namespace psahost::billing
