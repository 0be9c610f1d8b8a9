// The ConnectWise PSA (Manage) connector's parts: its REST API reached through the host, the
// links the host keeps between our objects and ConnectWise's ids, callbacks mapped to changes,
// and domain events pushed back.
#pragma once

#include <psa/sdk.hpp>

#include "psa_shared.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace connectwise {

// The connector's id: the system name of the external ids its changes link.
inline constexpr const char* kSystem = "connectwise";

struct Reply {
  int status = 0;
  Json::Value body;  // the parsed answer; null when it was empty
};

// ConnectWise did not answer usably (no answer, 429, 5xx, not JSON, cut short): the hook fails
// with this and the host tries the delivery again later, with backoff.
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ConnectWise's REST API (/{codebase}/apis/3.0 on the connection's site) through the host's
// http.request, which adds the connection's credentials: this code never holds them.
class ManageApi {
 public:
  // request: the hook's request, with tenant_id and connection.
  ManageApi(const psa::Host& host, const Json::Value& request);

  // Any answer but 401/403, 429, 5xx or garbage is returned for the caller to judge.
  Reply call(const std::string& method, const std::string& path,
             const Json::Value& body = Json::nullValue) const;
  // GET one record: nullopt when ConnectWise answers 404.
  std::optional<Json::Value> record(const std::string& path) const;
  // The body of a 2xx answer; anything else throws, naming the request and the answer.
  Json::Value expect_ok(const std::string& method, const std::string& path,
                        const Json::Value& body = Json::nullValue) const;

  const psa::Host& host() const { return host_; }
  const std::string& tenant_id() const { return tenant_id_; }
  const Json::Value& connection() const { return connection_; }
  const Json::Value& settings() const { return connection_["settings"]; }
  std::string connection_id() const { return connection_["id"].asString(); }
  // The path of an API resource under the connection's base URL, as sync.push requests name it.
  std::string path(const std::string& resource) const { return prefix_ + resource; }

  // Our id of the object ConnectWise knows as external_id, when a change linked them.
  std::optional<std::string> linked_object(const std::string& type,
                                           const std::string& external_id) const;
  // ConnectWise's id of one of our objects, when a change linked them.
  std::optional<std::string> linked_external(const std::string& type,
                                             const std::string& object_id) const;

 private:
  const psa::Host& host_;
  std::string tenant_id_;
  Json::Value connection_;
  std::string prefix_;
};

// --- reading records ----------------------------------------------------------------------------

using connectors::clean_text;
using connectors::id_text;
using connectors::text;
// Seconds since the epoch of an RFC 3339 time ("2026-01-05T09:30:00Z", offsets allowed).
std::optional<int64_t> parse_time(const std::string& s);
// Percent-encoding for a query parameter's value.
std::string query_escape(const std::string& s);

// --- hooks --------------------------------------------------------------------------------------

// webhook.map: a verified callback -> {"changes":[...], "note"?}.
Json::Value map_callback(const ManageApi& api, const Json::Value& payload);

// sync.push: one domain event -> {"requests":[...]}; agreements and notes are made here, after a
// lookup, so that a retry never makes a second one.
Json::Value push_event(const ManageApi& api, const Json::Value& event);

}  // namespace connectwise
