#include "api/client_queries.hpp"

#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "events/event_log.hpp"

#include <chrono>
#include <ctime>
#include <memory>

namespace psahost::api {

std::string stored_billing(const domain::BillingInfo& info) {
  Json::Value v = info.to_json();
  v.removeMember("complete");
  v.removeMember("missing");
  return to_text(v);
}

std::string today() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Json::Value billing_status(store::Tx& tx, const std::string& tenant_id,
                           const std::string& client_id) {
  Json::Value out;
  const auto client = load_client(tx, tenant_id, client_id);
  out["exists"] = client.has_value();
  if (!client) return out;
  out["name"] = client->name;
  out["complete"] = client->billing && client->billing->is_complete();
  out["missing"] = Json::Value(Json::arrayValue);
  if (!client->billing) {
    out["missing"].append("billing_info");
  } else {
    for (const auto& m : client->billing->missing()) out["missing"].append(m);
  }
  return out;
}

std::optional<Json::Value> save_billing_info(store::Tx& tx, const auth::Principal& who,
                                             const std::string& client_id,
                                             const domain::BillingInfo& info) {
  auto client = load_client(tx, who.tenant_id, client_id);
  if (!client) return std::nullopt;
  const Json::Value before = client->billing ? client->billing->to_json() : Json::Value();
  const Json::Value after = info.to_json();
  const std::string now = now_rfc3339();
  tx.exec(
      "INSERT INTO billing_info (client_id, tenant_id, data, debtor_code, updated_at) VALUES "
      "(?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET data = excluded.data, "
      "debtor_code = excluded.debtor_code, updated_at = excluded.updated_at",
      {client_id, who.tenant_id, stored_billing(info),
       info.debtor_code.empty() ? store::Value(nullptr) : store::Value(info.debtor_code), now});
  if (before != after) {
    audit::record(tx, {who.tenant_id, who.token_id, "billing_info.update", "client", client_id,
                       audit::json(before), to_text(after), now});
    Json::Value payload = after;
    payload["client_id"] = client_id;
    payload["was_complete"] = client->billing && client->billing->is_complete();
    events::append(tx, {who.tenant_id, "billing_info.updated", "client", client_id, payload,
                        who.token_id, ""});
  }
  return after;
}

Json::Value client_json(store::Tx& tx, const std::string& tenant_id, const std::string& client_id) {
  auto row = tx.query_one(
      "SELECT id, name, type, status, parent_id, self_managed_profile, external_ids, created_at, "
      "updated_at FROM clients WHERE id = ? AND tenant_id = ?",
      {client_id, tenant_id});
  if (!row) return Json::nullValue;
  Json::Value v;
  v["id"] = row->text(0);
  v["name"] = row->text(1);
  v["type"] = row->text(2);
  v["status"] = row->text(3);
  v["parent_id"] = row->is_null(4) ? Json::Value() : Json::Value(row->text(4));
  v["self_managed_profile"] = row->integer(5) != 0;
  v["external_ids"] = from_text(row->text(6));
  v["created_at"] = row->text(7);
  v["updated_at"] = row->text(8);
  const Json::Value status = billing_status(tx, tenant_id, client_id);
  v["billing_info"]["complete"] = status["complete"];
  v["billing_info"]["missing"] = status["missing"];
  return v;
}

Json::Value services_json(store::Tx& tx, const std::string& tenant_id,
                          const std::string& client_id) {
  Json::Value items(Json::arrayValue);
  for (const auto& row :
       tx.query("SELECT sku, quantity, since FROM service_assignments WHERE tenant_id = ? AND "
                "client_id = ? ORDER BY sku",
                {tenant_id, client_id})) {
    Json::Value s;
    s["sku"] = row.text(0);
    s["quantity"] = static_cast<Json::Int64>(row.integer(1));
    s["since"] = row.text(2);
    items.append(s);
  }
  return items;
}

std::optional<Json::Value> product_json(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& sku) {
  auto row = tx.query_one(
      "SELECT sku, name, unit, part_type, pricing, prices, default_labour FROM products WHERE "
      "tenant_id = ? AND sku = ?",
      {tenant_id, sku});
  if (!row) return std::nullopt;
  Json::Value p;
  p["sku"] = row->text(0);
  p["name"] = row->text(1);
  p["unit"] = row->text(2);
  p["part_type"] = row->text(3);
  p["pricing"] = row->text(4);
  p["prices"] = from_text(row->text(5));
  p["default_labour"] = row->integer(6) != 0;
  return p;
}

}  // namespace psahost::api
