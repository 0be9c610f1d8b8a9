// Applies the domain changes a connector's webhook.map answers with. Each goes through the route
// the API serves for it, as the connection (its tenant's integration role), so validation, the
// admission pipeline (the billing gate) and every rule hold exactly as for a partner's request.
//
// A change names objects by reference: {"id":"<our id>"} or {"external_id":"250"[, "system":
// "connectwise"]} (system defaults to the connection's connector); a client also by
// {"debtor_code":"C-1001"} (its code in the accounting system, from its billing info), tried
// after an external id that is not linked, and then linked to that external id; an invoice by
// {"number":"INV-2026-01042"}. Objects a change creates are linked to their external id, and
// creates carry an Idempotency-Key derived from it, so applying the same change twice (a retry
// after a crash) creates nothing twice. A client's links show in its external_ids.
//
// A reference nobody is linked to means "not synced yet" and the delivery is retried, except for
// billing_info.put and services.put with "if_linked": true, which then change nothing: what an
// accounting system says of a customer that is no client here is not worth a retry.
#pragma once

#include "http/router.hpp"
#include "plugins/host_calls.hpp"
#include "store/store.hpp"
#include "webhooks/connections.hpp"

#include <json/value.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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
  int status = 0;       // the route's HTTP status (0 when no route was called)
  std::string object_id;
  Json::Value problem;  // the route's problem document when refused
  Json::Value to_json() const;
};

// The change cannot be applied now but may be later: it refers to an object not synced yet (a
// time entry before its ticket), or the host could not take it (5xx). The entry is retried.
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

class ChangeApplier {
 public:
  // calls: the host calls invoice changes go through (invoices.set_status and
  // invoices.set_external_id, made as the connection's connector); without them those changes
  // are refused.
  ChangeApplier(const http::Router& router, store::Store& store,
                const plugins::HostCalls* calls = nullptr,
                std::chrono::milliseconds route_timeout = std::chrono::seconds(60))
      : router_(router), store_(store), calls_(calls), route_timeout_(route_timeout) {}

  // Applies changes (a JSON array) in order. Throws RetryLater or InvalidChange; a change the
  // host refuses (409, 422, 404 on our own id) is a result, not an error, and the rest go on.
  std::vector<ChangeResult> apply(const Connection& connection, const Json::Value& changes) const;

 private:
  struct Reply {
    int status = 0;
    Json::Value body;
  };
  ChangeResult apply_one(const Connection& connection, const Json::Value& change) const;
  Reply call(const Connection& connection, const std::string& method, const std::string& path,
             const Json::Value& body, const std::string& idempotency_key = {}) const;
  // Our id for a reference, or nullopt when an external id is not linked (yet).
  std::optional<std::string> resolve(const Connection& connection, const std::string& type,
                                     const Json::Value& ref) const;
  // As resolve, but an unlinked reference means "not synced yet": RetryLater.
  std::string require(const Connection& connection, const std::string& type, const Json::Value& ref,
                      const char* member) const;
  void link(const Connection& connection, const std::string& type, const Json::Value& ref,
            const std::string& object_id) const;
  ChangeResult upsert(const Connection& connection, const Json::Value& change,
                      const std::string& type, const std::string& create_path,
                      const Json::Value& create_body, const std::string& update_path_prefix,
                      const Json::Value& update_body) const;

  ChangeResult invoice_change(const Connection& connection, const Json::Value& change) const;

  const http::Router& router_;
  store::Store& store_;
  const plugins::HostCalls* calls_;
  std::chrono::milliseconds route_timeout_;
};

}  // namespace psahost::webhooks
