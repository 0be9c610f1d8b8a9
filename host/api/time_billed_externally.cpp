#include "api/time_billed_externally.hpp"

#include "api/client_queries.hpp"
#include "api/time_services.hpp"
#include "core/clock.hpp"
#include "events/event_log.hpp"

namespace psahost::api {

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
    audit_time_entry(tx, tenant_id, actor, "time_entry.billed_externally", *before, after);
    result.entry = after.to_json();
    events::append(tx, {tenant_id, "time_entry.billed_externally", "time_entry", after.id,
                        result.entry, actor, "ticket:" + after.ticket_id});
    result.outcome = "applied";
  });
  return result;
}

}  // namespace psahost::api
