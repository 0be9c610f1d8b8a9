// Webhook endpoints: a tenant's HTTPS URLs subscribed to event types, each with a whsec_ secret
// the host generates, seals at rest, and shows once. The outbox signs every delivery with it.
#pragma once

#include "core/secret_box.hpp"
#include "domain/refusal.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psahost::delivery {

struct Endpoint {
  std::string id;
  std::string tenant_id;
  std::string url;
  std::string description;
  std::vector<std::string> event_types;  // "*" for every event
  int max_in_flight = 4;
  std::string status;                      // active | disabled
  std::optional<std::string> disabled_by;  // host (failing: messages keep queueing) | partner
  std::optional<std::string> disabled_reason;
  std::optional<std::string> failing_since;
  std::optional<std::string> warned_at;
  std::string created_at;
  std::string updated_at;

  bool subscribes_to(const std::string& event_type) const;
  Json::Value to_json() const;  // never the secret
};

std::string endpoint_secret_context(const std::string& endpoint_id);

// Every column of webhook_endpoints but the secret, in the order from_row() reads them.
inline constexpr const char* kEndpointColumns =
    "id, tenant_id, url, description, event_types, max_in_flight, status, disabled_reason, "
    "failing_since, warned_at, created_at, updated_at, disabled_by";
Endpoint endpoint_from_row(const store::Row& row);

std::optional<Endpoint> load_endpoint(store::Tx& tx, const std::string& tenant_id,
                                      const std::string& id);
// Endpoints that get new messages: active ones, and those the host disabled for failing (their
// messages wait for the endpoint to be enabled again, so nothing is lost in an outage).
std::vector<Endpoint> receiving_endpoints(store::Tx& tx);

// What a create or a change of an endpoint says, checked already (the URL against the outbound
// address policy); an absent member is left as it is. status: "active" enables the endpoint
// again (what waited goes out, the clock towards disabling starts over), "disabled" disables it
// at the partner's request.
struct EndpointChange {
  std::optional<std::string> url, description, status;
  std::optional<std::vector<std::string>> event_types;
  std::optional<int64_t> max_in_flight;
};

// The outbox and these are the only writers of webhook_endpoints and deliveries.

// A new endpoint (url and event_types given) with its secret sealed for endpoint_secret_context.
Endpoint create_endpoint(store::Tx& tx, const std::string& tenant_id, const std::string& id,
                         const EndpointChange& change, const std::string& sealed_secret);
// Refused as not found for another tenant's (or no) endpoint.
domain::Result<Endpoint> update_endpoint(store::Tx& tx, const std::string& tenant_id,
                                         const std::string& id, const EndpointChange& change);
// Sends the endpoint's failed deliveries created at or after since (delivered ones too when
// asked) again, each with its original webhook-id; returns how many.
domain::Result<int64_t> replay_endpoint(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& id, const std::string& since,
                                        bool include_delivered);
// Sends one delivery again; the retry schedule starts over for it. False when the tenant has no
// such delivery.
bool replay_delivery(store::Tx& tx, const std::string& tenant_id, int64_t id);

}  // namespace psahost::delivery
