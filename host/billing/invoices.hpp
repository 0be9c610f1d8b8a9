// Issued invoices in the store: issuing one (its number taken in the same transaction, its time
// entries and sales items marked invoiced, invoice.issued appended), reading one as the API shows
// it, and the host calls accounting connectors use (get, find, set_status, set_external_id).
#pragma once

#include "clients/client_record.hpp"
#include "domain/invoice_draft.hpp"
#include "domain/refusal.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/plugin.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <optional>
#include <string>

namespace psahost::billing {

class NumberingAhead;

using clients::ClientRecord;

struct InvoiceToIssue {
  std::string client_id;
  Json::Value client;  // the bill-to party as it is now: client_snapshot()
  domain::DraftInvoice draft;
  std::string kind = "manual";        // run | manual
  std::optional<std::string> period;  // a run's period ("2026-11")
  std::optional<std::string> billing_run_id;
  std::string actor;  // token id, "cli", or the plugin
};

struct IssuedInvoice {
  std::string id;
  std::string number;
};

// Why an invoice was not issued: already_invoiced (this client, period and entity has one),
// changed_meanwhile (an entry, item or contract on it changed since it was drafted),
// number_taken, or a numbering refusal (numbering_not_configured, numbering_not_verified,
// numbering_failed).
struct IssueRefusal {
  std::string reason;
  std::string detail;
};

// The same as a feature's refusal: numbering-not-verified (refused, with the prompt to verify
// the numbering), numbering-failed (failed), number-taken or conflict (conflict).
domain::Refusal issue_refusal(const IssueRefusal& refusal);

// Issues the invoice inside tx (the caller's write job) in a savepoint of its own, so a refusal
// leaves nothing of it behind, the number included. What it checks in the write, because the
// draft was made from an earlier read: no invoice for the same client, period and entity; every
// time entry and sales item still approved, not invoiced and as billed; every contract still
// active. Throws only for store failures. ahead: numbers asked for ahead by a write that issues
// many (see NumberingAhead).
std::optional<IssuedInvoice> issue_invoice(store::Tx& tx, plugins::Plugin& numbering,
                                           const std::string& tenant_id,
                                           const InvoiceToIssue& invoice,
                                           const std::string& issue_date, IssueRefusal* refusal,
                                           const NumberingAhead* ahead = nullptr);

// The client as an invoice keeps it: {"id","name","business_name","legal_form","debtor_code",
// "email","vat_number","address":{...},"phone","invoice_delivery","direct_debit"}.
Json::Value client_snapshot(const ClientRecord& client);

// The invoice as GET /v1/invoices/{id} shows it, with its lines and client, as JSON text;
// nothing when the tenant has no such invoice. The payload of invoice.issued is exactly this
// document, written by the same function.
std::optional<std::string> invoice_text(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& invoice_id);
// The same document as a value; null when there is no such invoice.
Json::Value invoice_json(store::Tx& tx, const std::string& tenant_id,
                         const std::string& invoice_id);

// A date column of a stored row; nothing when NULL (or, for a broken row, not a date).
std::optional<domain::Date> date_column(const store::Row& row, std::size_t i);

// One line as an invoice shows it: the members every line has, then those of its kind. The same
// for a stored invoice and for a dry run's preview.
Json::Value line_json(const domain::InvoiceLine& line, int64_t line_no);

// A draft as a dry run shows the invoice it would issue: number null, lines and totals as they
// would be.
Json::Value draft_json(const domain::DraftInvoice& draft, const std::string& client_id,
                       const std::string& issue_date);

// Which invoices GET /v1/invoices lists: by id after `after`, at most limit.
struct InvoiceFilter {
  std::optional<std::string> client_id, period, status;
  std::string after;
  int64_t limit = 100;
};
// {"items":[...],"next_after"?}: each invoice as invoice_json() without its lines but with
// "line_count". next_after is set when a full page was read.
Json::Value list_invoices(store::Tx& tx, const std::string& tenant_id, const InvoiceFilter& filter);

// The id of the tenant's invoice with that number, if any.
std::optional<std::string> find_invoice(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& number);

// invoices.get, invoices.find (invoices:read); invoices.set_status, invoices.set_external_id
// (invoices:write). JSON documented at each registration.
void register_invoice_host_calls(plugins::HostCalls& calls, store::Store& store);

}  // namespace psahost::billing
