// The Autotask (Datto) PSA connector's parts: its REST API reached through the host, the links
// the host keeps between our objects and Autotask's ids, webhooks mapped to changes in
// SequenceNumber order, and domain events pushed back.
#pragma once

#include <psa/sdk.hpp>

#include "psa_shared.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace autotask {

struct Reply {
  int status = 0;
  Json::Value body;  // the parsed answer; null when it was empty
};

// Autotask did not answer usably (no answer, 429, 5xx, not JSON, cut short): the hook fails with
// this and the host tries the delivery again later, with backoff.
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Autotask's REST API (/ATServicesRest/V1.0 on the connection's zone) through the host's
// http.request, which adds the ApiIntegrationCode, UserName and Secret headers: this code never
// holds them.
class RestApi {
 public:
  // request: the hook's request, with tenant_id and connection.
  RestApi(const psa::Host& host, const Json::Value& request);

  // Any answer but 401/403, 429, 5xx or garbage is returned for the caller to judge.
  Reply call(const std::string& method, const std::string& path,
             const Json::Value& body = Json::nullValue) const;
  // GET {entities}/{id} -> its "item"; nullopt when Autotask has none.
  std::optional<Json::Value> record(const std::string& entities, const std::string& id) const;
  // POST {entities}/query with these filter conditions -> its "items".
  Json::Value query(const std::string& entities, const Json::Value& filter) const;
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

  // Our id of the object Autotask knows as external_id, when a change linked them.
  std::optional<std::string> linked_object(const std::string& type,
                                           const std::string& external_id) const;
  // Autotask's id of one of our objects, when a change linked them.
  std::optional<std::string> linked_external(const std::string& type,
                                             const std::string& object_id) const;

 private:
  const psa::Host& host_;
  std::string tenant_id_;
  Json::Value connection_;
  std::string prefix_;
};

// --- reading records ----------------------------------------------------------------------------

// A member of an Autotask record by name, whatever its case: the REST API writes "companyID",
// webhook Fields may write "CompanyID". Null when absent.
const Json::Value& field(const Json::Value& record, std::string_view name);
bool has_field(const Json::Value& record, std::string_view name);
using connectors::clean_text;
using connectors::id_text;
using connectors::text;
// An id for a request body: Autotask's ids are integers.
Json::Value id_number(const std::string& id);

// --- hooks --------------------------------------------------------------------------------------

// webhook.map: a verified webhook -> {"changes":[...], "note"?}.
Json::Value map_webhook(const RestApi& api, const Json::Value& payload);

// sync.push: one domain event -> {"requests":[...]}; contracts and notes are made here, after a
// lookup, so that a retry never makes a second one.
Json::Value push_event(const RestApi& api, const Json::Value& event);

}  // namespace autotask
