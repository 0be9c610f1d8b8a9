#include "tickets/time_entry.hpp"

#include "store/json_column.hpp"

namespace psahost::tickets {
namespace {

using store::from_text;

Json::Value optional_json(const std::optional<std::string>& v) {
  return v ? Json::Value(*v) : Json::Value();
}

Json::Value optional_json(const std::optional<int64_t>& v) {
  return v ? Json::Value(static_cast<Json::Int64>(*v)) : Json::Value();
}

}  // namespace

const char* const kTimeEntryColumns =
    "id, ticket_id, client_id, technician, minutes, billed_minutes, billable, rate, currency, "
    "work_type, note, work_date, status, approved_by, approved_at, rejected_reason, invoice_id, "
    "version, created_at, updated_at, billed_externally";

TimeEntry entry_from_row(const store::Row& r) {
  TimeEntry e;
  e.id = r.text(0);
  e.ticket_id = r.text(1);
  e.client_id = r.text(2);
  e.technician = r.text(3);
  e.minutes = r.integer(4);
  if (!r.is_null(5)) e.billed_minutes = r.integer(5);
  e.billable = r.integer(6) != 0;
  if (!r.is_null(7)) e.rate = r.integer(7);
  e.currency = r.optional_text(8);
  e.work_type = r.text(9);
  e.note = r.text(10);
  e.work_date = r.text(11);
  e.status = r.text(12);
  e.approved_by = r.optional_text(13);
  e.approved_at = r.optional_text(14);
  e.rejected_reason = r.optional_text(15);
  e.invoice_id = r.optional_text(16);
  e.version = r.integer(17);
  e.created_at = r.text(18);
  e.updated_at = r.text(19);
  e.billed_externally = r.optional_text(20);
  return e;
}

Json::Value TimeEntry::to_json() const {
  Json::Value v;
  v["id"] = id;
  v["ticket_id"] = ticket_id;
  v["client_id"] = client_id;
  v["technician"] = technician;
  v["minutes"] = static_cast<Json::Int64>(minutes);
  v["billed_minutes"] = optional_json(billed_minutes);
  v["billable"] = billable;
  v["rate"] = optional_json(rate);
  v["currency"] = optional_json(currency);
  v["work_type"] = work_type;
  v["note"] = note;
  v["work_date"] = work_date;
  v["status"] = status;
  v["approved_by"] = optional_json(approved_by);
  v["approved_at"] = optional_json(approved_at);
  v["rejected_reason"] = optional_json(rejected_reason);
  v["invoice_id"] = optional_json(invoice_id);
  v["version"] = static_cast<Json::Int64>(version);
  v["created_at"] = created_at;
  v["updated_at"] = updated_at;
  v["billed_externally"] = billed_externally ? from_text(*billed_externally) : Json::Value();
  return v;
}

Json::Value TimeEntry::audit_json() const {
  Json::Value v;
  v["status"] = status;
  v["minutes"] = static_cast<Json::Int64>(minutes);
  v["billed_minutes"] = optional_json(billed_minutes);
  v["billable"] = billable;
  v["rate"] = optional_json(rate);
  v["currency"] = optional_json(currency);
  v["work_type"] = work_type;
  v["approved_by"] = optional_json(approved_by);
  v["rejected_reason"] = optional_json(rejected_reason);
  v["version"] = static_cast<Json::Int64>(version);
  v["billed_externally"] = billed_externally ? from_text(*billed_externally) : Json::Value();
  return v;
}

std::optional<TimeEntry> load_time_entry(store::Tx& tx, const std::string& tenant_id,
                                         const std::string& id) {
  auto r = tx.query_one(std::string("SELECT ") + kTimeEntryColumns +
                            " FROM time_entries WHERE id = ? AND tenant_id = ?",
                        {id, tenant_id});
  if (!r) return std::nullopt;
  return entry_from_row(*r);
}

}  // namespace psahost::tickets
