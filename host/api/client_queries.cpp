#include "api/client_queries.hpp"

#include "core/clock.hpp"
#include "events/event_log.hpp"

#include <psa/sdk.hpp>

#include <chrono>
#include <ctime>
#include <memory>

namespace psahost::api {

std::string to_text(const Json::Value& v) {
  return psa::json::write(v);
}

Json::Value from_text(const std::string& text) {
  Json::Value v;
  std::string errors;
  if (!psa::json::reader().parse(text.data(), text.data() + text.size(), &v, &errors)) {
    throw store::StoreError("stored JSON is malformed: " + errors);
  }
  return v;
}

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

std::optional<ClientRecord> load_client(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& client_id) {
  auto row = tx.query_one(
      "SELECT c.id, c.name, c.type, c.status, b.data FROM clients c LEFT JOIN billing_info b ON "
      "b.client_id = c.id WHERE c.id = ? AND c.tenant_id = ?",
      {client_id, tenant_id});
  if (!row) return std::nullopt;
  ClientRecord r{row->text(0), row->text(1), row->text(2), row->text(3), std::nullopt};
  if (!row->is_null(4)) {
    auto parsed = domain::parse_billing_info(from_text(row->text(4)));
    if (!parsed.info) {
      throw store::StoreError("stored billing info of " + client_id + " no longer validates");
    }
    r.billing = std::move(*parsed.info);
  }
  return r;
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
    tx.exec(
        "INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, before, after, "
        "created_at) VALUES (?, ?, 'billing_info.update', 'client', ?, ?, ?, ?)",
        {who.tenant_id, who.token_id, client_id,
         before.isNull() ? store::Value(nullptr) : store::Value(to_text(before)), to_text(after),
         now});
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
