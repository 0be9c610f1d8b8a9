// Approving ticket time: the facts the time-approval plugin decides on (time.approval_context),
// the one approval path the API, the benchmark and the webhook applier share (ask, decide,
// apply), and the other steps an entry takes under the plugin's eye (reject, unapprove, edit).
#pragma once

#include "admission/pipeline.hpp"
#include "domain/refusal.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"
#include "tickets/time_entry.hpp"

#include <json/value.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace psahost::approval {

using tickets::TimeEntry;

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

// One page of a filter's entries; more says whether another page follows. A filter naming a
// client or ticket the tenant does not have is refused as not found, not matched as nothing.
struct Selection {
  std::vector<std::string> ids;
  bool more = false;
};
domain::Result<Selection> select_page(store::Store& store, const std::string& tenant_id,
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
  std::optional<int64_t> expected_version = {};
  // The admission object is the entry itself (as the platform sends one) rather than a
  // per-client group {"client_id","entries":[...]}.
  bool single = false;
};

struct ApprovalOutcome {
  std::string id;
  // approved | already_approved | refused | conflict | not_found
  std::string outcome;
  std::string type;  // the refusal's slug when refused or conflict
  std::string reason;
  Json::Value prompt;
  std::string decided_by;          // plugin that refused
  std::string rate_source;         // contract | catalog, when approved with a rate
  std::optional<TimeEntry> entry;  // as it is now (after the approval when approved)
};

struct ApprovalRun {
  // Set when the time-approval plugin cannot be asked at all; results are then empty.
  std::optional<domain::Refusal> refusal;
  std::vector<ApprovalOutcome> results;  // one per distinct id, in the order given
};

// Loads the entries (another tenant's are not_found), asks the admission pipeline once per
// client and batch, asks the time-approval plugin for the rest (command.approve, up to 1,000
// entries a call), and applies its approvals in one commit per batch, each guarded by status
// and version so that concurrent approvers yield one approval and one conflict. Blocks until the
// last batch is durable.
ApprovalRun approve_time_entries(const TimeApprovalEnv& env, const ApprovalRequest& request);

// Why an entry was not approved, as a refusal (not found; a conflict with the entry's
// current_version; as the plugin or the pipeline decided, with its prompt and decided_by); none
// when it was approved or was so already.
std::optional<domain::Refusal> refusal_of(const ApprovalOutcome& outcome);

// What asking the time-approval plugin (the one plugin that handles hook) gave: its answer, or
// why there is none (disabled or several enabled is a conflict, none unavailable, a failed call
// failed).
struct PluginAnswer {
  std::string plugin_id;  // who decided
  Json::Value body;
};
domain::Result<PluginAnswer> call_time_plugin(const plugins::PluginRegistry& registry,
                                              std::string_view hook, const Json::Value& request);

// Any other step an entry takes: reject (with a reason), unapprove, or edit (new values).
struct Transition {
  std::string action;  // reject | unapprove | edit
  std::optional<int64_t> version;
  std::string reason;  // reject
  // edit: the new values
  std::optional<int64_t> minutes;
  std::optional<bool> billable;
  std::optional<std::string> note, work_type;
};

// Reads an edit {"minutes","billable","note","work_type","version"} (at least one of the first
// four) or a rejection {"reason","version"}; refused as invalid naming each member that is wrong.
domain::Result<Transition> read_edit(const Json::Value& body);
domain::Result<Transition> read_reject(const Json::Value& body);

// A step the plugin allowed: the entry as it will be, and the event that says so. When the plugin
// found nothing to change, changed is false, after is the entry as it is, and detail says why.
struct PlannedTransition {
  TimeEntry before, after;
  std::string action, event;
  bool changed = true;
  Json::Value detail;
};

// Loads the entry and asks the time-approval plugin whether it may take this step. Refused as
// not found, as a conflict when the version is not the caller's, and as the plugin decides.
domain::Result<PlannedTransition> plan_transition(const TimeApprovalEnv& env,
                                                  const std::string& tenant_id,
                                                  const std::string& id, const Transition& t);

// Writes a planned step guarded by status and version, with an audit row and an event; refused
// as a conflict when the entry changed since it was planned. Returns the entry as written.
domain::Result<TimeEntry> apply_transition(store::Tx& tx, const std::string& tenant_id,
                                           const std::string& actor, PlannedTransition plan);

}  // namespace psahost::approval
