#include "delivery/endpoints.hpp"

#include "store/json_column.hpp"

#include <algorithm>

namespace psahost::delivery {

bool Endpoint::subscribes_to(const std::string& event_type) const {
  return std::any_of(event_types.begin(), event_types.end(),
                     [&](const std::string& t) { return t == "*" || t == event_type; });
}

Json::Value Endpoint::to_json() const {
  Json::Value v;
  v["id"] = id;
  v["url"] = url;
  v["description"] = description;
  v["event_types"] = Json::Value(Json::arrayValue);
  for (const auto& t : event_types) v["event_types"].append(t);
  v["max_in_flight"] = max_in_flight;
  v["status"] = status;
  const auto optional = [](const std::optional<std::string>& s) {
    return s ? Json::Value(*s) : Json::Value();
  };
  v["disabled_by"] = optional(disabled_by);
  v["disabled_reason"] = optional(disabled_reason);
  v["failing_since"] = optional(failing_since);
  v["created_at"] = created_at;
  v["updated_at"] = updated_at;
  return v;
}

std::string endpoint_secret_context(const std::string& endpoint_id) {
  return "endpoint:" + endpoint_id + ":secret";
}

Endpoint endpoint_from_row(const store::Row& r) {
  Endpoint e;
  e.id = r.text(0);
  e.tenant_id = r.text(1);
  e.url = r.text(2);
  e.description = r.text(3);
  for (const auto& t : store::from_text(r.text(4))) e.event_types.push_back(t.asString());
  e.max_in_flight = static_cast<int>(r.integer(5));
  e.status = r.text(6);
  e.disabled_reason = r.optional_text(7);
  e.failing_since = r.optional_text(8);
  e.warned_at = r.optional_text(9);
  e.created_at = r.text(10);
  e.updated_at = r.text(11);
  e.disabled_by = r.optional_text(12);
  return e;
}

std::optional<Endpoint> load_endpoint(store::Tx& tx, const std::string& tenant_id,
                                      const std::string& id) {
  auto row = tx.query_one(std::string("SELECT ") + kEndpointColumns +
                              " FROM webhook_endpoints WHERE tenant_id = ? AND id = ?",
                          {tenant_id, id});
  if (!row) return std::nullopt;
  return endpoint_from_row(*row);
}

std::vector<Endpoint> receiving_endpoints(store::Tx& tx) {
  std::vector<Endpoint> out;
  tx.each(std::string("SELECT ") + kEndpointColumns +
              " FROM webhook_endpoints WHERE status = 'active' OR disabled_by = 'host' ORDER BY id",
          {}, [&](const store::Row& r) { out.push_back(endpoint_from_row(r)); });
  return out;
}

}  // namespace psahost::delivery
