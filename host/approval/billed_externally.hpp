// Time a PSA reports as billed or invoiced there: recorded on the entry so that it is never put
// up for approval here and never lands on one of our invoices (the road to billing it twice).
#pragma once

#include "store/store.hpp"

#include <json/value.h>

#include <string>

namespace psahost::approval {

struct ExternalBilling {
  std::string system;     // the connector's system ("connectwise")
  std::string reference;  // its invoice (number or id) when it gave one, else ""
  std::string status;     // its word for the state ("Billed", "BilledAgreement")
};

struct ExternalBillingResult {
  // applied | unchanged | not_found | refused (the entry is on an invoice of ours already)
  std::string outcome;
  std::string type;  // problem slug when refused or not found
  std::string detail;
  Json::Value entry;  // the entry as it is now, when it exists
};

// Records billing on the entry (replacing what an earlier report said, when it differs), with an
// audit row and a time_entry.billed_externally event, in one transaction. An entry invoiced here
// already is refused ("entry-invoiced"): the same time then stands on two invoices, which a
// person must settle with a credit on one side.
ExternalBillingResult record_external_billing(store::Store& store, const std::string& tenant_id,
                                              const std::string& actor, const std::string& entry_id,
                                              const ExternalBilling& billing);

}  // namespace psahost::approval
