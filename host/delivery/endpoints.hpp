// Webhook endpoints: a tenant's HTTPS URLs subscribed to event types, each with a whsec_ secret
// the host generates, seals at rest, and shows once. The outbox signs every delivery with it.
#pragma once

#include "core/secret_box.hpp"
#include "store/store.hpp"

#include <json/value.h>

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

}  // namespace psahost::delivery
