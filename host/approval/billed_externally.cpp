#include "approval/billed_externally.hpp"

#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "events/event_log.hpp"
#include "store/json_column.hpp"
#include "tickets/time_entry.hpp"

namespace psahost::approval {

using store::from_text;
using store::to_text;
using tickets::load_time_entry;
using tickets::TimeEntry;

ExternalBillingResult record_external_billing(store::Store& store, const std::string& tenant_id,
                                              const std::string& actor, const std::string& entry_id,
                                              const ExternalBilling& billing) {
  ExternalBillingResult result;
  store.write([&](store::Tx& tx) {
    result = ExternalBillingResult{};
    const auto before = load_time_entry(tx, tenant_id, entry_id);
    if (!before) {
      result.outcome = "not_found";
      result.type = "not-found";
      result.detail = "time entry " + entry_id + " does not exist";
      return;
    }
    result.entry = before->to_json();
    if (before->invoice_id) {
      result.outcome = "refused";
      result.type = "entry-invoiced";
      result.detail = "time entry " + entry_id + " is on invoice " + *before->invoice_id +
                      " here and " + billing.system + " reports it billed there (" +
                      (billing.reference.empty() ? billing.status : billing.reference) +
                      "); credit one of the two";
      return;
    }
    const std::string now = now_rfc3339();
    Json::Value doc;
    doc["system"] = billing.system;
    doc["reference"] = billing.reference.empty() ? Json::Value() : Json::Value(billing.reference);
    doc["status"] = billing.status;
    if (before->billed_externally) {
      Json::Value known = from_text(*before->billed_externally);
      known.removeMember("reported_at");
      if (known == doc) {
        result.outcome = "unchanged";
        return;
      }
    }
    doc["reported_at"] = now;
    TimeEntry after = *before;
    after.billed_externally = to_text(doc);
    after.version = before->version + 1;
    after.updated_at = now;
    tx.exec(
        "UPDATE time_entries SET billed_externally = ?, version = version + 1, updated_at = ? "
        "WHERE id = ? AND tenant_id = ? AND invoice_id IS NULL",
        {*after.billed_externally, now, entry_id, tenant_id});
    audit::record(tx, {tenant_id, actor, "time_entry.billed_externally", "time_entry", after.id,
                       to_text(before->audit_json()), to_text(after.audit_json()), now});
    result.entry = after.to_json();
    events::append(tx, {tenant_id, "time_entry.billed_externally", "time_entry", after.id,
                        result.entry, actor, "ticket:" + after.ticket_id});
    result.outcome = "applied";
  });
  return result;
}

}  // namespace psahost::approval
