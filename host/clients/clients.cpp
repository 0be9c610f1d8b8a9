#include "clients/clients.hpp"

#include "audit/audit_log.hpp"
#include "catalog/catalog.hpp"
#include "core/clock.hpp"
#include "domain/fields.hpp"
#include "events/event_log.hpp"
#include "store/json_column.hpp"

#include <algorithm>

namespace psahost::clients {

using domain::FieldError;
using domain::Refusal;
using store::from_text;
using store::to_text;

namespace {

bool allowed(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string one_of_text(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& v : list) out += (out.empty() ? "" : ", ") + v;
  return out;
}

// The rules of the members themselves, for callers that did not read them from a request (the
// webhook applier); the routes' field readers say the same before this is reached.
std::vector<FieldError> member_errors(const ClientChange& c, bool create) {
  std::vector<FieldError> errors;
  if (create && !c.name) errors.push_back({"name", "is required"});
  if (c.name && c.name->empty()) errors.push_back({"name", "must not be empty"});
  if (c.type && !allowed(kClientTypes, *c.type)) {
    errors.push_back({"type", "expected one of " + one_of_text(kClientTypes)});
  }
  if (c.status && !allowed(kClientStatuses, *c.status)) {
    errors.push_back({"status", "expected one of " + one_of_text(kClientStatuses)});
  }
  if (c.external_ids && !c.external_ids->isObject()) {
    errors.push_back({"external_ids", "expected an object of connector ids to string ids"});
  }
  return errors;
}

std::optional<Refusal> parent_refusal(store::Tx& tx, const std::string& tenant,
                                      const std::string& parent, const std::string& self) {
  if (parent == self) {
    return Refusal::invalid({{"parent_id", "a client cannot be its own parent"}});
  }
  if (!load_client(tx, tenant, parent)) {
    return Refusal::invalid({{"parent_id", "no client " + parent}});
  }
  return std::nullopt;
}

store::Value optional_text(const std::optional<std::string>& v) {
  return v ? store::Value(*v) : store::Value(nullptr);
}

}  // namespace

std::string stored_billing(const domain::BillingInfo& info) {
  Json::Value v = info.to_json();
  v.removeMember("complete");
  v.removeMember("missing");
  return to_text(v);
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

domain::Result<Json::Value> create_client(store::Tx& tx, const auth::Principal& who,
                                          const ClientChange& c) {
  if (auto errors = member_errors(c, true); !errors.empty()) return Refusal::invalid(errors);
  const std::string id = auth::new_id("cli");
  if (c.parent_id) {
    if (auto refusal = parent_refusal(tx, who.tenant_id, *c.parent_id, id)) return *refusal;
  }
  const std::string now = now_rfc3339();
  tx.exec(
      "INSERT INTO clients (id, tenant_id, name, type, status, parent_id, self_managed_profile, "
      "external_ids, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, who.tenant_id, *c.name, c.type.value_or("customer"), c.status.value_or("active"),
       optional_text(c.parent_id), int64_t{c.self_managed_profile.value_or(false) ? 1 : 0},
       to_text(c.external_ids.value_or(Json::Value(Json::objectValue))), now, now});
  const Json::Value client = client_json(tx, who.tenant_id, id);
  events::append(tx, {who.tenant_id, "client.upserted", "client", id, client, who.token_id, ""});
  return client;
}

domain::Result<Json::Value> update_client(store::Tx& tx, const auth::Principal& who,
                                          const std::string& id, const ClientChange& c) {
  if (auto errors = member_errors(c, false); !errors.empty()) return Refusal::invalid(errors);
  if (!load_client(tx, who.tenant_id, id)) return Refusal::not_found("client", id);
  if (c.parent_id) {
    if (auto refusal = parent_refusal(tx, who.tenant_id, *c.parent_id, id)) return *refusal;
  }
  const Json::Value before = client_json(tx, who.tenant_id, id);
  tx.exec(
      "UPDATE clients SET name = COALESCE(?, name), type = COALESCE(?, type), "
      "status = COALESCE(?, status), parent_id = COALESCE(?, parent_id), "
      "self_managed_profile = COALESCE(?, self_managed_profile), "
      "external_ids = COALESCE(?, external_ids), updated_at = ? WHERE id = ? AND tenant_id = ?",
      {optional_text(c.name), optional_text(c.type), optional_text(c.status),
       optional_text(c.parent_id),
       c.self_managed_profile ? store::Value(int64_t{*c.self_managed_profile ? 1 : 0}) : nullptr,
       c.external_ids ? store::Value(to_text(*c.external_ids)) : nullptr, now_rfc3339(), id,
       who.tenant_id});
  const Json::Value client = client_json(tx, who.tenant_id, id);
  if (client != before) {
    events::append(tx, {who.tenant_id, "client.upserted", "client", id, client, who.token_id, ""});
  }
  return client;
}

domain::Result<Json::Value> get_client(store::Tx& tx, const std::string& tenant_id,
                                       const std::string& client_id) {
  if (!load_client(tx, tenant_id, client_id)) return Refusal::not_found("client", client_id);
  return client_json(tx, tenant_id, client_id);
}

ClientPage list_clients(store::Tx& tx, const std::string& tenant_id, const std::string& after,
                        int64_t limit) {
  ClientPage page;
  const auto ids =
      tx.query("SELECT id FROM clients WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
               {tenant_id, after, limit});
  for (const auto& row : ids) page.items.push_back(client_json(tx, tenant_id, row.text(0)));
  if (static_cast<int64_t>(ids.size()) == limit && !ids.empty()) {
    page.next_after = ids.back().text(0);
  }
  return page;
}

domain::Result<domain::BillingInfo> billing_info(store::Tx& tx, const std::string& tenant_id,
                                                 const std::string& client_id) {
  auto client = load_client(tx, tenant_id, client_id);
  if (!client) return Refusal::not_found("client", client_id);
  if (!client->billing) {
    auto r = Refusal::make(domain::RefusalKind::not_found, "billing-info-missing",
                           "client " + client_id + " has no billing information yet");
    r.prompt["action"] = "add_billing_info";
    r.prompt["client_id"] = client_id;
    return r;
  }
  return std::move(*client->billing);
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

domain::Result<Json::Value> put_billing_info(store::Tx& tx, const auth::Principal& who,
                                             const std::string& client_id,
                                             const domain::BillingInfo& info) {
  auto saved = save_billing_info(tx, who, client_id, info);
  if (!saved) return Refusal::not_found("client", client_id);
  return std::move(*saved);
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

domain::Result<Json::Value> client_services(store::Tx& tx, const std::string& tenant_id,
                                            const std::string& client_id) {
  if (!load_client(tx, tenant_id, client_id)) return Refusal::not_found("client", client_id);
  return services_json(tx, tenant_id, client_id);
}

domain::Result<Json::Value> assign_services(store::Tx& tx, const auth::Principal& who,
                                            const std::string& client_id,
                                            const std::vector<ServiceAssignment>& items) {
  if (!load_client(tx, who.tenant_id, client_id)) return Refusal::not_found("client", client_id);
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string at = "items[" + std::to_string(i) + "]";
    for (std::size_t j = 0; j < i; ++j) {
      if (items[j].sku == items[i].sku) errors.push_back({at + ".sku", "appears twice"});
    }
    if (items[i].quantity < 0) errors.push_back({at + ".quantity", "must not be negative"});
    if (!catalog::has_product(tx, who.tenant_id, items[i].sku)) {
      errors.push_back({at + ".sku", "no product " + items[i].sku + " in the catalog"});
    }
  }
  if (!errors.empty()) return Refusal::invalid(errors);
  const Json::Value before = services_json(tx, who.tenant_id, client_id);
  tx.exec("DELETE FROM service_assignments WHERE tenant_id = ? AND client_id = ?",
          {who.tenant_id, client_id});
  const std::string now = now_rfc3339();
  for (const auto& a : items) {
    tx.exec(
        "INSERT INTO service_assignments (tenant_id, client_id, sku, quantity, since, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {who.tenant_id, client_id, a.sku, a.quantity, a.since, now});
  }
  Json::Value after = services_json(tx, who.tenant_id, client_id);
  if (before != after) {
    Json::Value payload;
    payload["client_id"] = client_id;
    payload["before"] = before;
    payload["items"] = after;
    events::append(
        tx, {who.tenant_id, "service.assigned", "client", client_id, payload, who.token_id, ""});
  }
  return after;
}

domain::Result<ClientChange> read_client_change(const Json::Value& body, bool create) {
  domain::Fields f(body);
  f.only({"name", "type", "status", "parent_id", "self_managed_profile", "external_ids"});
  ClientChange c;
  c.name = f.non_empty("name", create);
  c.type = f.one_of("type", false, kClientTypes);
  c.status = f.one_of("status", false, kClientStatuses);
  c.parent_id = f.non_empty("parent_id", false, 100);
  c.self_managed_profile = f.boolean("self_managed_profile", false);
  if (body.isMember("external_ids")) {
    const auto& ids = body["external_ids"];
    // One id per connector a client is linked to: a handful, never thousands.
    constexpr Json::ArrayIndex kMaxExternalIds = 50;
    bool ok = ids.isObject() && ids.size() <= kMaxExternalIds;
    for (const auto& k : ok ? ids.getMemberNames() : std::vector<std::string>{}) {
      ok = ok && ids[k].isString() && ids[k].asString().size() <= 200 && k.size() <= 100;
    }
    if (ok)
      c.external_ids = ids;
    else
      f.error("external_ids",
              "expected an object of at most 50 connector ids (up to 100 characters) to string "
              "ids (up to 200 characters)");
  }
  if (!f.ok()) return f.to_refusal();
  return c;
}

domain::Result<std::vector<ServiceAssignment>> read_services(const Json::Value& body) {
  domain::Fields top(body);
  top.only({"items"});
  std::vector<ServiceAssignment> items;
  if (!body["items"].isArray()) top.error("items", "expected an array");
  const Json::Value& list = body["items"];
  for (Json::ArrayIndex i = 0; list.isArray() && i < list.size(); ++i) {
    if (!list[i].isObject()) {
      top.error("items[" + std::to_string(i) + "]", "expected an object");
      continue;
    }
    domain::Fields f(list[i], "items[" + std::to_string(i) + "]");
    f.only({"sku", "quantity", "since"});
    auto sku = f.text("sku", true, 100);
    auto qty = f.integer("quantity", true, 0, 1'000'000);
    auto since = f.date("since", false);
    for (const auto& e : f.errors()) top.error(e["field"].asString(), e["message"].asString());
    if (sku && qty) items.push_back({*sku, *qty, since.value_or(today())});
    for (std::size_t j = 0; sku && j + 1 < items.size(); ++j) {
      if (items[j].sku == *sku) top.error("items[" + std::to_string(i) + "].sku", "appears twice");
    }
  }
  if (!top.ok()) return top.to_refusal();
  return items;
}

bool link_external_id(store::Tx& tx, const std::string& tenant_id, const std::string& client_id,
                      const std::string& system, const std::string& external_id) {
  auto row = tx.query_one("SELECT external_ids FROM clients WHERE id = ? AND tenant_id = ?",
                          {client_id, tenant_id});
  if (!row) return false;
  Json::Value ids = from_text(row->text(0));
  if (!ids.isObject()) ids = Json::Value(Json::objectValue);
  if (ids[system] == Json::Value(external_id)) return true;
  ids[system] = external_id;
  tx.exec("UPDATE clients SET external_ids = ? WHERE id = ? AND tenant_id = ?",
          {to_text(ids), client_id, tenant_id});
  return true;
}

}  // namespace psahost::clients
