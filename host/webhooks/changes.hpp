// Applies the domain changes a connector's webhook.map (or sync.result) answers with. Each is
// read and checked as the API reads the same request, then handed to the feature module that owns
// it (clients, tickets, approval, sales), acting as the connection: its tenant's integration
// principal, "connection:<name>". Validation, the admission pipeline (the billing gate) and every
// other rule therefore hold exactly as for a partner's request, with no HTTP in between.
//
// A change names objects by reference: {"id":"<our id>"} or {"external_id":"250"[, "system":
// "connectwise"]} (system defaults to the connection's connector); a client also by
// {"debtor_code":"C-1001"} (its code in the accounting system, from its billing info), tried
// after an external id that is not linked, and then linked to that external id; an invoice by
// {"number":"INV-2026-01042"}. Objects a change creates are linked to their external id, and
// creates carry an Idempotency-Key derived from it, so applying the same change twice (a retry
// after a crash) creates nothing twice: an object is created and linked in one transaction, which
// first looks for the link again. A client's links show in its external_ids.
//
// A reference nobody is linked to means "not synced yet" and the delivery is retried, except for
// billing_info.put and services.put with "if_linked": true, which then change nothing: what an
// accounting system says of a customer that is no client here is not worth a retry.
#pragma once

#include "admission/pipeline.hpp"
#include "auth/tokens.hpp"
#include "domain/refusal.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"
#include "webhooks/connections.hpp"

#include <json/value.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace psahost::approval {
struct Transition;
}

namespace psahost::webhooks {

// The operations a change may name, in the order the guide documents them.
inline const std::vector<std::string> kChangeOps = {
    "client.upsert",     "billing_info.put",
    "services.put",      "ticket.upsert",
    "time_entry.upsert", "time_entry.approve",
    "time_entry.reject", "sales_item.create",
    "external_ref.link", "time_entry.billed_externally"};

struct ChangeResult {
  std::string op;
  std::string outcome;  // applied | unchanged | refused
  // The status the API answers the same request with (0 when nothing was asked of a feature),
  // and its problem document when refused: the inbox shows a refusal as a partner would see it.
  int status = 0;
  std::string object_id;
  Json::Value problem;
  Json::Value to_json() const;
};

// The change cannot be applied now but may be later: it refers to an object not synced yet (a
// time entry before its ticket), or the host could not take it (a plugin failed or is not there,
// the store failed). The entry is retried.
struct RetryLater : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The change names an object that has not arrived yet. Later deliveries of the connection go
// ahead of this one meanwhile: one of them may be what it waits for.
struct NotSyncedYet : RetryLater {
  using RetryLater::RetryLater;
};

// The connector's answer is not a list of changes the host understands: a bug in the connector,
// retried like any failure of the hook and then parked where it is visible.
struct InvalidChange : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the applier acts with: the features' store, the plugins the approval asks and the
// admission pipeline guarded operations go through. It wakes nobody: apply() returns once its
// changes are committed, and its caller (the inbox, the outbox) wakes the event dispatcher and
// the outbox for the events they appended.
struct ApplierEnv {
  store::Store& store;
  const plugins::PluginRegistry& plugins;
  const admission::Pipeline& admission;
  // The host calls invoice changes go through (invoices.set_status and invoices.set_external_id,
  // made as the connection's connector); without them those changes are refused.
  const plugins::HostCalls* calls = nullptr;
};

class ChangeApplier {
 public:
  explicit ChangeApplier(ApplierEnv env) : env_(std::move(env)) {}

  // Applies changes (a JSON array) in order. Throws RetryLater or InvalidChange; a change a rule
  // refuses (not found, invalid, a conflict, the billing gate) is a result, not an error, and the
  // rest go on.
  std::vector<ChangeResult> apply(const Connection& connection, const Json::Value& changes) const;

  // Who the changes of a connection are made by.
  static auth::Principal principal_of(const Connection& connection);

 private:
  using Outcome = domain::Result<Json::Value>;
  using Change = std::function<Outcome(store::Tx&)>;

  ChangeResult apply_one(const Connection& connection, const Json::Value& change) const;
  // Runs change in one write; a refusal rolls it back. Throws RetryLater when the store fails.
  Outcome commit(const Change& change) const;
  // Our id for a reference, or nullopt when an external id is not linked (yet).
  std::optional<std::string> resolve(const Connection& connection, const std::string& type,
                                     const Json::Value& ref) const;
  // As resolve, but an unlinked reference means "not synced yet": RetryLater.
  std::string require(const Connection& connection, const std::string& type, const Json::Value& ref,
                      const char* member) const;
  void link(store::Tx& tx, const Connection& connection, const std::string& type,
            const Json::Value& ref, const std::string& object_id) const;
  // The object ref names when it is linked already, else the one create makes (with {"id"}),
  // linked to ref in the same transaction.
  ChangeResult create_linked(const Connection& connection, const std::string& op,
                             const std::string& type, const Json::Value& ref,
                             const Change& create) const;

  ChangeResult upsert_client(const Connection& connection, const Json::Value& change) const;
  ChangeResult put_client_data(const Connection& connection, const Json::Value& change) const;
  ChangeResult upsert_ticket(const Connection& connection, const Json::Value& change) const;
  ChangeResult upsert_time_entry(const Connection& connection, const Json::Value& change) const;
  ChangeResult decide_time_entry(const Connection& connection, const Json::Value& change) const;
  ChangeResult billed_externally(const Connection& connection, const Json::Value& change) const;
  ChangeResult create_sales_item(const Connection& connection, const Json::Value& change) const;
  ChangeResult link_external_ref(const Connection& connection, const Json::Value& change) const;
  ChangeResult invoice_change(const Connection& connection, const Json::Value& change) const;
  // Asks the time-approval plugin whether the entry may take the step, then writes it.
  ChangeResult transition(const Connection& connection, const std::string& op,
                          const std::string& id, const approval::Transition& step) const;

  ApplierEnv env_;
};

}  // namespace psahost::webhooks
