// The Autotask (Datto) PSA connector's parts: its REST API reached through the host, the links
// the host keeps between our objects and Autotask's ids, webhooks mapped to changes in
// SequenceNumber order, and domain events pushed back.
#pragma once

#include <psa/sdk.hpp>

#include "psa_api.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace autotask {

using connectors::Reply;
using connectors::Unavailable;

// Autotask's REST API (/ATServicesRest/V1.0 on the connection's zone); http.request adds the
// ApiIntegrationCode, UserName and Secret headers.
class RestApi : public connectors::PsaApi {
 public:
  RestApi(const psa::Host& host, const Json::Value& request);

  // GET {entities}/{id} -> its "item"; nullopt when Autotask has none.
  std::optional<Json::Value> record(const std::string& entities, const std::string& id) const;
  // POST {entities}/query with these filter conditions -> its "items".
  Json::Value query(const std::string& entities, const Json::Value& filter) const;
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
