#include "delivery/endpoints.hpp"

#include "core/clock.hpp"
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

namespace {

std::string types_text(const std::vector<std::string>& types) {
  Json::Value list(Json::arrayValue);
  for (const auto& t : types) list.append(t);
  return store::to_text(list);
}

}  // namespace

Endpoint create_endpoint(store::Tx& tx, const std::string& tenant_id, const std::string& id,
                         const EndpointChange& change, const std::string& sealed_secret) {
  const std::string now = now_rfc3339();
  tx.exec(
      "INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, secret, "
      "max_in_flight, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, tenant_id, change.url.value_or(""), change.description.value_or(""),
       types_text(change.event_types.value_or(std::vector<std::string>{})), sealed_secret,
       change.max_in_flight.value_or(4), now, now});
  return *load_endpoint(tx, tenant_id, id);
}

domain::Result<Endpoint> update_endpoint(store::Tx& tx, const std::string& tenant_id,
                                         const std::string& id, const EndpointChange& change) {
  const auto before = load_endpoint(tx, tenant_id, id);
  if (!before) return domain::Refusal::not_found("webhook endpoint", id);
  tx.exec(
      "UPDATE webhook_endpoints SET url = COALESCE(?, url), description = COALESCE(?, "
      "description), event_types = COALESCE(?, event_types), max_in_flight = COALESCE(?, "
      "max_in_flight), updated_at = ? WHERE id = ?",
      {change.url ? store::Value(*change.url) : nullptr,
       change.description ? store::Value(*change.description) : nullptr,
       change.event_types ? store::Value(types_text(*change.event_types)) : nullptr,
       change.max_in_flight ? store::Value(*change.max_in_flight) : nullptr, now_rfc3339(), id});
  if (change.status == "active") {
    // Enabled again: what waited while it was disabled goes out now, and the clock towards
    // disabling starts over.
    tx.exec(
        "UPDATE webhook_endpoints SET status = 'active', disabled_by = NULL, disabled_reason = "
        "NULL, failing_since = NULL, warned_at = NULL WHERE id = ?",
        {id});
  } else if (change.status == "disabled" && before->status == "active") {
    tx.exec(
        "UPDATE webhook_endpoints SET status = 'disabled', disabled_by = 'partner', "
        "disabled_reason = 'disabled by request' WHERE id = ?",
        {id});
  }
  return *load_endpoint(tx, tenant_id, id);
}

domain::Result<int64_t> replay_endpoint(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& id, const std::string& since,
                                        bool include_delivered) {
  if (!load_endpoint(tx, tenant_id, id)) return domain::Refusal::not_found("webhook endpoint", id);
  // Each goes again with its original webhook-id, so receivers that already have it recognise it.
  return tx.exec(
      "UPDATE deliveries SET status = 'pending', failures = 0, next_attempt_at = ?, updated_at = "
      "? WHERE endpoint_id = ? AND created_at >= ? AND (status = 'failed' OR (? AND status = "
      "'delivered'))",
      {now_rfc3339(), now_rfc3339(), id, since, int64_t{include_delivered ? 1 : 0}});
}

bool replay_delivery(store::Tx& tx, const std::string& tenant_id, int64_t id) {
  return tx.exec(
             "UPDATE deliveries SET status = 'pending', failures = 0, next_attempt_at = ?, "
             "updated_at = ? WHERE tenant_id = ? AND id = ?",
             {now_rfc3339(), now_rfc3339(), tenant_id, id}) > 0;
}

}  // namespace psahost::delivery
