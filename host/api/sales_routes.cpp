// Sales items over HTTP: the rules, the billing gate's question and the table are
// host/sales/'s. Creating one and moving one to another client are guarded operations.
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "sales/sales.hpp"

namespace psahost::api {
namespace {

void add_create(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/sales-items", auth::Right::manage_sales,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto item = sales::read_item_fields(*body, true);
              if (!item) return respond(to_problem(item.refusal()));
              auto plan = sales::plan_create({ctx.store, ctx.admission}, who, *item);
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
        auto change = sales::read_item_fields(*body, false);
        if (!change) return respond(to_problem(change.refusal()));
        auto plan = sales::plan_update({ctx.store, ctx.admission}, who, params.at("id"), *change);
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
