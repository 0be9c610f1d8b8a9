// A manual invoice (POST /v1/invoices): lines the partner types, for one client, reviewed as
// invoice.issue before anything is written and numbered inside the write that stores it.
#pragma once

#include "admission/pipeline.hpp"
#include "auth/tokens.hpp"
#include "billing/invoices.hpp"
#include "domain/refusal.hpp"
#include "plugins/plugin.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace psahost::billing {

struct ManualLine {
  std::string description, unit;
  int64_t quantity = 0, unit_price = 0;  // unit_price in minor units of the client's currency
};

struct ManualInvoiceRequest {
  std::string client_id;
  std::string billing_entity;
  std::vector<ManualLine> lines;
};

// What may be issued: the invoice drafted in the client's currency and tax rate, and the plugin
// that numbers it.
struct PreparedInvoice {
  std::string tenant_id;
  InvoiceToIssue invoice;
  std::shared_ptr<plugins::Plugin> numbering;
};

// Drafts the invoice and asks the admission pipeline (invoice.issue) before anything is written.
// Refused as not found (client), as find_numbering_plugin says, invalid when the total does not
// fit in an amount, as the pipeline decides (the billing gate), and billing-info-required when
// the client's billing information is incomplete. Plugin calls: not on I/O threads.
domain::Result<PreparedInvoice> prepare_manual_invoice(store::Store& store,
                                                       const plugins::PluginRegistry& plugins,
                                                       const admission::Pipeline& admission,
                                                       const auth::Principal& who,
                                                       const ManualInvoiceRequest& request);

// Issues a prepared invoice inside tx (the caller's write) with today's date; refused as
// issue_refusal() says, with nothing of it written.
domain::Result<IssuedInvoice> issue_prepared(store::Tx& tx, const PreparedInvoice& prepared);

}  // namespace psahost::billing
