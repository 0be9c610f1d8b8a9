// Time registered on a ticket, as the store keeps it and the API shows it. Registration is the
// tickets feature's; approving it is host/approval/'s.
#pragma once

#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>

namespace psahost::tickets {

struct TimeEntry {
  std::string id, ticket_id, client_id, technician;
  int64_t minutes = 0;
  std::optional<int64_t> billed_minutes;  // set on approval of a billable entry
  bool billable = true;
  std::optional<int64_t> rate;  // minor units per hour
  std::optional<std::string> currency;
  std::string work_type, note, work_date, status;
  std::optional<std::string> approved_by, approved_at, rejected_reason, invoice_id;
  int64_t version = 1;
  std::string created_at, updated_at;
  // What a PSA reported of billing it there, as JSON text (see approval/billed_externally.hpp);
  // such an entry is never approved nor invoiced here.
  std::optional<std::string> billed_externally;

  // As GET /v1/time-entries/{id} shows it.
  Json::Value to_json() const;
  // What the audit log keeps of an entry: the fields that decide what is billed.
  Json::Value audit_json() const;
};

// The columns entry_from_row() reads, in its order, for a SELECT.
extern const char* const kTimeEntryColumns;
TimeEntry entry_from_row(const store::Row& r);

std::optional<TimeEntry> load_time_entry(store::Tx& tx, const std::string& tenant_id,
                                         const std::string& id);

}  // namespace psahost::tickets
