// Sales items: creating one and moving one to another client are guarded operations. Items an
// integration syncs for a client without billing info are held as drafts instead of refused.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "events/event_log.hpp"

namespace psahost::api {
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

std::optional<Json::Value> load_item(store::Tx& tx, const std::string& tenant,
                                     const std::string& id) {
  auto r = tx.query_one(
      std::string("SELECT ") + kItemColumns + " FROM sales_items WHERE id = ? AND tenant_id = ?",
      {id, tenant});
  if (!r) return std::nullopt;
  return item_json(*r);
}

struct ItemFields {
  std::optional<std::string> client_id, sku, description, currency, date, status;
  std::optional<int64_t> quantity, unit_price;
};

ItemFields read_item_fields(Fields& f, bool create) {
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
  return i;
}

void add_create(http::Router& router, const ApiContext& ctx) {
  add_route(
      router, ctx, "POST", "/v1/sales-items", auth::Right::manage_sales,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        auto item = read_item_fields(f, true);
        if (!f.ok()) return respond(validation_failed(f.errors()));
        bool client_known = false;
        ctx.store.read([&](store::Tx& tx) {
          client_known = load_client(tx, who.tenant_id, *item.client_id).has_value();
        });
        if (!client_known) return respond(not_found("client", *item.client_id));

        Json::Value object = *body;
        object["client_id"] = *item.client_id;
        admission::Review review{auth::new_id("adm"), who.tenant_id,  "sales_item.create", object,
                                 Json::nullValue,     Json::nullValue};
        review.user["token_id"] = who.token_id;
        const auto verdict = ctx.admission.review(review);
        // Usage an integration syncs must not be lost: it waits, held, until billing info
        // is complete, and is released by itself then (the billing gate's event hook).
        const bool from_integration = who.role == auth::Role::integration;
        std::string hold;
        if (!verdict.allowed) {
          if (!from_integration || verdict.type != "billing-info-required") {
            return respond(refused(verdict));
          }
          hold = verdict.type;
        }
        commit_once(ctx, req, who, respond, [who, item, hold, from_integration](store::Tx& tx) {
          const std::string id = auth::new_id("si");
          const std::string now = now_rfc3339();
          const std::string status =
              hold.empty() ? item.status.value_or(from_integration ? "approved" : "draft")
                           : "draft";
          tx.exec(
              "INSERT INTO sales_items (id, tenant_id, client_id, sku, description, "
              "quantity, unit_price, currency, item_date, status, source, hold_reason, "
              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {id, who.tenant_id, *item.client_id, item.sku ? store::Value(*item.sku) : nullptr,
               *item.description, *item.quantity, *item.unit_price, *item.currency,
               item.date.value_or(today()), status,
               std::string(from_integration ? "integration" : "manual"),
               hold.empty() ? store::Value(nullptr) : store::Value(hold), now, now});
          const Json::Value created = *load_item(tx, who.tenant_id, id);
          events::append(tx, {who.tenant_id, "sales_item.created", "sales_item", id, created,
                              who.token_id, ""});
          auto r = http::Response::json(201, created);
          r.headers.emplace_back("Location", "/v1/sales-items/" + id);
          return r;
        });
      });
}

void add_update(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/sales-items/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<Json::Value> item;
        ctx.store.read(
            [&](store::Tx& tx) { item = load_item(tx, who.tenant_id, params.at("id")); });
        return item ? http::Response::json(200, *item) : not_found("sales item", params.at("id"));
      });

  add_route(
      router, ctx, "PATCH", "/v1/sales-items/{id}", auth::Right::manage_sales,
      [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        auto change = read_item_fields(f, false);
        if (!f.ok()) return respond(validation_failed(f.errors()));
        const std::string id = params.at("id");
        std::optional<Json::Value> current;
        bool target_known = true;
        ctx.store.read([&](store::Tx& tx) {
          current = load_item(tx, who.tenant_id, id);
          if (change.client_id) {
            target_known = load_client(tx, who.tenant_id, *change.client_id).has_value();
          }
        });
        if (!current) return respond(not_found("sales item", id));
        if (!target_known) return respond(not_found("client", *change.client_id));

        Json::Value object = *current;
        for (const auto& name : body->getMemberNames()) object[name] = (*body)[name];
        admission::Review review{
            auth::new_id("adm"), who.tenant_id, "sales_item.update", object, *current,
            Json::nullValue};
        review.user["token_id"] = who.token_id;
        const auto verdict = ctx.admission.review(review);
        if (!verdict.allowed) return respond(refused(verdict));

        const int64_t seen_version = (*current)["version"].asInt64();
        commit(ctx, respond, [who, id, change, seen_version](store::Tx& tx) {
          auto before = load_item(tx, who.tenant_id, id);
          if (!before) refuse(not_found("sales item", id));
          if ((*before)["status"].asString() == "invoiced") {
            refuse(http::problem(409, "sales-item-invoiced", "Conflict",
                                 "sales item " + id + " is invoiced and can no longer change"));
          }
          // The review above saw seen_version; a change in between must be reviewed again.
          if ((*before)["version"].asInt64() != seen_version) {
            refuse(http::problem(409, "conflict", "Conflict",
                                 "sales item " + id + " changed meanwhile; retry"));
          }
          tx.exec(
              "UPDATE sales_items SET client_id = COALESCE(?, client_id), sku = COALESCE(?, sku), "
              "description = COALESCE(?, description), quantity = COALESCE(?, quantity), "
              "unit_price = COALESCE(?, unit_price), currency = COALESCE(?, currency), "
              "item_date = COALESCE(?, item_date), status = COALESCE(?, status), "
              "hold_reason = CASE WHEN ? = 'approved' THEN NULL ELSE hold_reason END, "
              "version = version + 1, updated_at = ? WHERE id = ? AND tenant_id = ?",
              {change.client_id ? store::Value(*change.client_id) : nullptr,
               change.sku ? store::Value(*change.sku) : nullptr,
               change.description ? store::Value(*change.description) : nullptr,
               change.quantity ? store::Value(*change.quantity) : nullptr,
               change.unit_price ? store::Value(*change.unit_price) : nullptr,
               change.currency ? store::Value(*change.currency) : nullptr,
               change.date ? store::Value(*change.date) : nullptr,
               change.status ? store::Value(*change.status) : nullptr,
               change.status ? store::Value(*change.status) : nullptr, now_rfc3339(), id,
               who.tenant_id});
          const Json::Value after = *load_item(tx, who.tenant_id, id);
          audit::record(tx, {who.tenant_id, who.token_id, "sales_item.update", "sales_item", id,
                             to_text(*before), to_text(after)});
          Json::Value payload = after;
          payload["previous_client_id"] = (*before)["client_id"];
          events::append(tx, {who.tenant_id, "sales_item.updated", "sales_item", id, payload,
                              who.token_id, ""});
          return http::Response::json(200, after);
        });
      });
}

}  // namespace

void add_sales_routes(http::Router& router, const ApiContext& ctx) {
  add_create(router, ctx);
  add_update(router, ctx);
}

}  // namespace psahost::api
