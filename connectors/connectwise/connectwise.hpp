// The ConnectWise PSA (Manage) connector's parts: its REST API reached through the host, the
// links the host keeps between our objects and ConnectWise's ids, callbacks mapped to changes,
// and domain events pushed back.
#pragma once

#include <psa/sdk.hpp>

#include "psa_api.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace connectwise {

// The connector's id: the system name of the external ids its changes link.
inline constexpr const char* kSystem = "connectwise";

using connectors::Reply;
using connectors::Unavailable;

// ConnectWise's REST API (/{codebase}/apis/3.0 on the connection's site); http.request adds the
// connection's API keys. read(path) GETs one record.
class ManageApi : public connectors::PsaApi {
 public:
  ManageApi(const psa::Host& host, const Json::Value& request);
};

// --- reading records ----------------------------------------------------------------------------

using connectors::clean_text;
using connectors::id_text;
using connectors::text;
// Seconds since the epoch of an RFC 3339 time ("2026-01-05T09:30:00Z", offsets allowed).
std::optional<int64_t> parse_time(const std::string& s);
using connectors::url_encode;

// --- hooks --------------------------------------------------------------------------------------

// webhook.map: a verified callback -> {"changes":[...], "note"?}.
Json::Value map_callback(const ManageApi& api, const Json::Value& payload);

// "codes: approved ApprovedByTierOne,...; billed there Billed,BilledAgreement (+ an invoice)":
// the time entry statuses the mapping will use, for `psahost connections test`.
std::string describe_codes(const ManageApi& api);

// sync.push: one domain event -> {"requests":[...]}; agreements and notes are made here, after a
// lookup, so that a retry never makes a second one.
Json::Value push_event(const ManageApi& api, const Json::Value& event);

}  // namespace connectwise
