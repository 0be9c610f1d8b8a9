// Sales items over HTTP: the rules, the billing gate's question and the table are
// host/sales/'s. Creating one and moving one to another client are guarded operations.
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "sales/sales.hpp"

namespace psahost::api {
namespace {

sales::ItemFields read_item_fields(Fields& f, bool create) {
  f.only(
      {"client_id", "sku", "description", "quantity", "unit_price", "currency", "date", "status"});
  sales::ItemFields i;
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
  add_route(router, ctx, "POST", "/v1/sales-items", auth::Right::manage_sales,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              auto item = read_item_fields(f, true);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              auto plan = sales::plan_create({ctx.store, ctx.admission}, who, item);
              if (!plan) return respond(to_problem(plan.refusal()));
              commit_once(ctx, req, who, respond, [who, plan = *plan](store::Tx& tx) {
                const auto created = sales::create_item(tx, who, plan);
                if (!created) refuse(created.refusal());
                auto r = http::Response::json(201, *created);
                r.headers.emplace_back("Location",
                                       "/v1/sales-items/" + (*created)["id"].asString());
                return r;
              });
            });
}

void add_update(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/sales-items/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<domain::Result<Json::Value>> item;
        ctx.store.read(
            [&](store::Tx& tx) { item = sales::get_item(tx, who.tenant_id, params.at("id")); });
        return *item ? http::Response::json(200, **item) : to_problem(item->refusal());
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
        auto plan = sales::plan_update({ctx.store, ctx.admission}, who, params.at("id"), change);
        if (!plan) return respond(to_problem(plan.refusal()));
        commit(ctx, respond, [who, plan = *plan](store::Tx& tx) {
          const auto updated = sales::update_item(tx, who, plan);
          if (!updated) refuse(updated.refusal());
          return http::Response::json(200, *updated);
        });
      });
}

}  // namespace

void add_sales_routes(http::Router& router, const ApiContext& ctx) {
  add_create(router, ctx);
  add_update(router, ctx);
}

}  // namespace psahost::api
