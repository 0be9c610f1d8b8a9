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

// --- the instance's picklist codes (codes.cpp) ---------------------------------------------------

// Reads the codes from the instance's entityInformation/fields and keeps them for the connection.
Json::Value read_codes(const RestApi& api);
// The kept codes, read first when there are none: {"company_types":{"prospect","partner",
// "known"},"closed_statuses","contract_type"}.
Json::Value codes(const RestApi& api);
// "prospect" | "partner" | "customer", or nullopt when the code is not one the instance has.
std::optional<std::string> company_type(const RestApi& api, const Json::Value& company);
// Whether the ticket's status closes it; nullopt when no closing status is known.
std::optional<bool> ticket_closed(const RestApi& api, const Json::Value& ticket);
// The contract type contracts are made with; throws when none is known.
int64_t contract_type(const RestApi& api);
// "codes: company types prospect 2,3, partner 8; ticket closed 5; contract type 7".
std::string describe_codes(const RestApi& api);

// command.poll: the time entries changed since cursor, a page at a time, as deliveries in the
// shape of a webhook ({"deliveries","cursor","more","retry_after_seconds"?}).
Json::Value poll_changes(const RestApi& api, const Json::Value& cursor);
// The time entries on one ticket (a Ticket webhook reads them: no webhook says they changed).
Json::Value ticket_time_entries(const RestApi& api, const std::string& ticket);

}  // namespace autotask
