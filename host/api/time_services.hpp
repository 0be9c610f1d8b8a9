// Approving ticket time: the facts the time-approval plugin decides on (time.approval_context)
// and the one approval path the API routes and the benchmark share (ask, decide, apply).
#pragma once

#include "admission/pipeline.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace psahost::api {

// A time entry row as the API shows it (GET /v1/time-entries/{id}).
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
  // What a PSA reported of billing it there, as JSON text (see time_billed_externally.hpp);
  // such an entry is never approved nor invoiced here.
  std::optional<std::string> billed_externally;

  Json::Value to_json() const;
  // What the audit log keeps of an entry: the fields that decide what is billed.
  Json::Value audit_json() const;
};

std::optional<TimeEntry> load_time_entry(store::Tx& tx, const std::string& tenant_id,
                                         const std::string& id);

// {"tenant_id","client_ids":[...]} -> {"clients":{id:{"exists","name","roundup_minutes",
// "currency","labour_parts":[{"contract_id","sku","rate","currency","from","to"}],
// "default_labour":{"sku","rate"}|null}}}, permission time_entries:read. roundup_minutes and
// currency come from the billing info (null without it). Labour parts are the priced parts of
// the client's active contracts whose product is priced per hour, with the part's dates (or the
// contract's); the default labour rate is the catalog's default labour product's price in the
// client's currency (null when it has none).
void register_time_host_calls(plugins::HostCalls& calls, store::Store& store);
Json::Value approval_context(store::Tx& tx, const std::string& tenant_id,
                             const std::vector<std::string>& client_ids);

// The submitted entries a bulk approval's filter selects, by id after `after`, at most limit.
struct EntryFilter {
  std::optional<std::string> client_id, ticket_id;
  std::optional<std::string> from, to;  // work_date bounds, inclusive, YYYY-MM-DD
  std::string after;                    // page on from the last id of the previous answer
  int64_t limit = 10'000;
};
std::vector<std::string> select_submitted(store::Tx& tx, const std::string& tenant_id,
                                          const EntryFilter& filter);

struct TimeApprovalEnv {
  store::Store& store;
  const plugins::PluginRegistry& plugins;
  const admission::Pipeline& admission;
  std::function<void()> events_committed;  // wakes the event dispatcher; may be empty
};

struct ApprovalRequest {
  std::string tenant_id;
  std::string actor;  // token id, recorded as approved_by
  std::vector<std::string> ids;
  // Optimistic concurrency for a single approval: the version the caller saw.
  std::optional<int64_t> expected_version;
  // The admission object is the entry itself (as the platform sends one) rather than a
  // per-client group {"client_id","entries":[...]}.
  bool single = false;
};

struct ApprovalOutcome {
  std::string id;
  // approved | already_approved | refused | conflict | not_found
  std::string outcome;
  std::string type;  // problem slug when refused or conflict
  std::string reason;
  Json::Value prompt;
  std::string decided_by;          // plugin that refused
  std::string rate_source;         // contract | catalog, when approved with a rate
  std::optional<TimeEntry> entry;  // as it is now (after the approval when approved)

  // One row of the bulk answer.
  Json::Value to_json() const;
};

struct ApprovalRun {
  int status = 200;   // 200, or 409/503 when the time-approval plugin cannot be asked
  std::string error;  // problem slug when status is not 200
  std::string detail;
  std::vector<ApprovalOutcome> results;  // one per distinct id, in the order given
};

// Loads the entries (another tenant's are not_found), asks the admission pipeline once per
// client and batch, asks the time-approval plugin for the rest (command.approve, up to 1,000
// entries a call), and applies its approvals in one commit per batch, each guarded by status
// and version so that concurrent approvers yield one approval and one conflict. Blocks until the
// last batch is durable.
ApprovalRun approve_time_entries(const TimeApprovalEnv& env, const ApprovalRequest& request);

// What asking the time-approval plugin gave: its answer, or why there is none.
struct TimePluginCall {
  int status = 200;
  std::string error;
  std::string detail;
  Json::Value body;
};
TimePluginCall call_time_plugin(const plugins::PluginRegistry& registry, std::string_view hook,
                                const Json::Value& request);

// Appends an audit_log row for a time entry change.
void audit_time_entry(store::Tx& tx, const std::string& tenant_id, const std::string& actor,
                      const std::string& action, const TimeEntry& before, const TimeEntry& after);

}  // namespace psahost::api
