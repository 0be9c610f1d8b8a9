#include "sales/sales.hpp"

#include "audit/audit_log.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "domain/fields.hpp"
#include "domain/reference_data.hpp"
#include "events/event_log.hpp"
#include "store/json_column.hpp"

namespace psahost::sales {

using domain::FieldError;
using domain::Refusal;

namespace {

constexpr const char* kItemColumns =
    "id, client_id, sku, description, quantity, unit_price, currency, item_date, status, source, "
    "hold_reason, invoice_id, version, created_at, updated_at";

Json::Value item_json(const store::Row& r) {
  Json::Value v;
  v["id"] = r.text(0);
  v["client_id"] = r.text(1);
  v["sku"] = r.is_null(2) ? Json::Value() : Json::Value(r.text(2));
  v["description"] = r.text(3);
  v["quantity"] = static_cast<Json::Int64>(r.integer(4));
  v["unit_price"] = static_cast<Json::Int64>(r.integer(5));
  v["currency"] = r.text(6);
  v["date"] = r.text(7);
  v["status"] = r.text(8);
  v["source"] = r.text(9);
  v["hold_reason"] = r.is_null(10) ? Json::Value() : Json::Value(r.text(10));
  v["invoice_id"] = r.is_null(11) ? Json::Value() : Json::Value(r.text(11));
  v["version"] = static_cast<Json::Int64>(r.integer(12));
  v["created_at"] = r.text(13);
  v["updated_at"] = r.text(14);
  return v;
}

// The rules of the members themselves, for callers that did not read them from a request (the
// webhook applier); the route's field reader says the same before this is reached.
std::vector<FieldError> member_errors(const ItemFields& i, bool create) {
  std::vector<FieldError> errors;
  const auto required = [&](const char* name, bool present) {
    if (create && !present) errors.push_back({name, "is required"});
  };
  required("client_id", i.client_id.has_value());
  required("description", i.description.has_value());
  required("quantity", i.quantity.has_value());
  required("unit_price", i.unit_price.has_value());
  required("currency", i.currency.has_value());
  if (i.quantity && (*i.quantity < 1 || *i.quantity > 1'000'000)) {
    errors.push_back({"quantity", "must be from 1 to 1000000"});
  }
  if (i.unit_price && (*i.unit_price < 0 || *i.unit_price > 1'000'000'000'000)) {
    errors.push_back({"unit_price", "must be from 0 to 1000000000000"});
  }
  if (i.currency && !domain::currency_exponent(*i.currency)) {
    errors.push_back({"currency", "expected an ISO 4217 currency code such as EUR or USD"});
  }
  if (i.status && *i.status != "draft" && *i.status != "approved") {
    errors.push_back({"status", "expected one of draft, approved"});
  }
  return errors;
}

store::Value optional_text(const std::optional<std::string>& v) {
  return v ? store::Value(*v) : store::Value(nullptr);
}

store::Value optional_integer(const std::optional<int64_t>& v) {
  return v ? store::Value(*v) : store::Value(nullptr);
}

admission::Review review_of(const auth::Principal& who, const std::string& operation,
                            Json::Value object, Json::Value old_object) {
  admission::Review review{auth::new_id("adm"), who.tenant_id,         operation,
                           std::move(object),   std::move(old_object), Json::nullValue};
  review.user["token_id"] = who.token_id;
  return review;
}

}  // namespace

domain::Result<ItemFields> read_item_fields(const Json::Value& body, bool create) {
  domain::Fields f(body);
  f.only(
      {"client_id", "sku", "description", "quantity", "unit_price", "currency", "date", "status"});
  ItemFields i;
  i.client_id = f.non_empty("client_id", create, 100);
  i.sku = f.non_empty("sku", false, 100);
  i.description = f.non_empty("description", create, 1000);
  i.quantity = f.integer("quantity", create, 1, 1'000'000);
  i.unit_price = f.integer("unit_price", create, 0, 1'000'000'000'000);
  i.currency = f.currency("currency", create);
  i.date = f.date("date", false);
  i.status = f.one_of("status", false, {"draft", "approved"});
  if (!f.ok()) return f.to_refusal();
  return i;
}

Json::Value ItemFields::to_json() const {
  Json::Value v(Json::objectValue);
  const auto put_text = [&](const char* name, const std::optional<std::string>& x) {
    if (x) v[name] = *x;
  };
  const auto put_integer = [&](const char* name, const std::optional<int64_t>& x) {
    if (x) v[name] = static_cast<Json::Int64>(*x);
  };
  put_text("client_id", client_id);
  put_text("sku", sku);
  put_text("description", description);
  put_integer("quantity", quantity);
  put_integer("unit_price", unit_price);
  put_text("currency", currency);
  put_text("date", date);
  put_text("status", status);
  return v;
}

std::optional<Json::Value> load_item(store::Tx& tx, const std::string& tenant,
                                     const std::string& id) {
  auto r = tx.query_one(
      std::string("SELECT ") + kItemColumns + " FROM sales_items WHERE id = ? AND tenant_id = ?",
      {id, tenant});
  if (!r) return std::nullopt;
  return item_json(*r);
}

domain::Result<Json::Value> get_item(store::Tx& tx, const std::string& tenant_id,
                                     const std::string& id) {
  auto item = load_item(tx, tenant_id, id);
  if (!item) return Refusal::not_found("sales item", id);
  return std::move(*item);
}

domain::Result<PlannedCreate> plan_create(const SalesEnv& env, const auth::Principal& who,
                                          const ItemFields& item) {
  if (auto errors = member_errors(item, true); !errors.empty()) return Refusal::invalid(errors);
  bool client_known = false;
  env.store.read([&](store::Tx& tx) {
    client_known = clients::load_client(tx, who.tenant_id, *item.client_id).has_value();
  });
  if (!client_known) return Refusal::not_found("client", *item.client_id);

  const auto verdict =
      env.admission.review(review_of(who, "sales_item.create", item.to_json(), Json::nullValue));
  PlannedCreate plan{item, "", who.role == auth::Role::integration};
  if (!verdict.allowed) {
    if (!plan.from_integration || verdict.type != "billing-info-required")
      return verdict.to_refusal();
    plan.hold = verdict.type;
  }
  return plan;
}

domain::Result<Json::Value> create_item(store::Tx& tx, const auth::Principal& who,
                                        const PlannedCreate& plan) {
  const ItemFields& item = plan.item;
  if (auto errors = member_errors(item, true); !errors.empty()) return Refusal::invalid(errors);
  if (!clients::load_client(tx, who.tenant_id, *item.client_id)) {
    return Refusal::not_found("client", *item.client_id);
  }
  const std::string id = auth::new_id("si");
  const std::string now = now_rfc3339();
  const std::string status =
      plan.hold.empty() ? item.status.value_or(plan.from_integration ? "approved" : "draft")
                        : "draft";
  tx.exec(
      "INSERT INTO sales_items (id, tenant_id, client_id, sku, description, quantity, unit_price, "
      "currency, item_date, status, source, hold_reason, created_at, updated_at) VALUES (?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, who.tenant_id, *item.client_id, optional_text(item.sku), *item.description,
       *item.quantity, *item.unit_price, *item.currency, item.date.value_or(now.substr(0, 10)),
       status, std::string(plan.from_integration ? "integration" : "manual"),
       plan.hold.empty() ? store::Value(nullptr) : store::Value(plan.hold), now, now});
  Json::Value created = *load_item(tx, who.tenant_id, id);
  events::append(
      tx, {who.tenant_id, "sales_item.created", "sales_item", id, created, who.token_id, ""});
  return created;
}

domain::Result<PlannedUpdate> plan_update(const SalesEnv& env, const auth::Principal& who,
                                          const std::string& id, const ItemFields& change) {
  if (auto errors = member_errors(change, false); !errors.empty()) return Refusal::invalid(errors);
  std::optional<Json::Value> current;
  bool target_known = true;
  env.store.read([&](store::Tx& tx) {
    current = load_item(tx, who.tenant_id, id);
    if (change.client_id) {
      target_known = clients::load_client(tx, who.tenant_id, *change.client_id).has_value();
    }
  });
  if (!current) return Refusal::not_found("sales item", id);
  if (!target_known) return Refusal::not_found("client", *change.client_id);

  Json::Value object = *current;
  const Json::Value given = change.to_json();
  for (const auto& name : given.getMemberNames()) object[name] = given[name];
  const auto verdict =
      env.admission.review(review_of(who, "sales_item.update", std::move(object), *current));
  if (!verdict.allowed) return verdict.to_refusal();
  return PlannedUpdate{id, change, (*current)["version"].asInt64()};
}

domain::Result<Json::Value> update_item(store::Tx& tx, const auth::Principal& who,
                                        const PlannedUpdate& plan) {
  const std::string& id = plan.id;
  const ItemFields& change = plan.change;
  auto before = load_item(tx, who.tenant_id, id);
  if (!before) return Refusal::not_found("sales item", id);
  if ((*before)["status"].asString() == "invoiced") {
    return Refusal::conflict("sales-item-invoiced",
                             "sales item " + id + " is invoiced and can no longer change");
  }
  if ((*before)["version"].asInt64() != plan.seen_version) {
    return Refusal::conflict("conflict", "sales item " + id + " changed meanwhile; retry");
  }
  tx.exec(
      "UPDATE sales_items SET client_id = COALESCE(?, client_id), sku = COALESCE(?, sku), "
      "description = COALESCE(?, description), quantity = COALESCE(?, quantity), "
      "unit_price = COALESCE(?, unit_price), currency = COALESCE(?, currency), "
      "item_date = COALESCE(?, item_date), status = COALESCE(?, status), "
      "hold_reason = CASE WHEN ? = 'approved' THEN NULL ELSE hold_reason END, "
      "version = version + 1, updated_at = ? WHERE id = ? AND tenant_id = ?",
      {optional_text(change.client_id), optional_text(change.sku),
       optional_text(change.description), optional_integer(change.quantity),
       optional_integer(change.unit_price), optional_text(change.currency),
       optional_text(change.date), optional_text(change.status), optional_text(change.status),
       now_rfc3339(), id, who.tenant_id});
  Json::Value after = *load_item(tx, who.tenant_id, id);
  audit::record(tx, {who.tenant_id, who.token_id, "sales_item.update", "sales_item", id,
                     store::to_text(*before), store::to_text(after)});
  Json::Value payload = after;
  payload["previous_client_id"] = (*before)["client_id"];
  events::append(
      tx, {who.tenant_id, "sales_item.updated", "sales_item", id, payload, who.token_id, ""});
  return after;
}

int64_t release_held(store::Tx& tx, const std::string& tenant_id, const std::string& client_id,
                     const std::string& actor) {
  if (!clients::billing_status(tx, tenant_id, client_id)["complete"].asBool()) return 0;
  int64_t released = 0;
  const std::string now = now_rfc3339();
  for (const auto& row :
       tx.query("SELECT id FROM sales_items WHERE tenant_id = ? AND client_id = ? AND status = "
                "'draft' AND hold_reason = 'billing-info-required' ORDER BY id",
                {tenant_id, client_id})) {
    tx.exec(
        "UPDATE sales_items SET status = 'approved', hold_reason = NULL, version = version + 1, "
        "updated_at = ? WHERE id = ?",
        {now, row.text(0)});
    Json::Value payload;
    payload["id"] = row.text(0);
    payload["client_id"] = client_id;
    payload["status"] = "approved";
    payload["released_from"] = "billing-info-required";
    events::append(
        tx, {tenant_id, "sales_item.updated", "sales_item", row.text(0), payload, actor, ""});
    ++released;
  }
  return released;
}

}  // namespace psahost::sales
