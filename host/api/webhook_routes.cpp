// POST /webhooks/{connection} (inbound, authenticated by signature), the connections of a tenant
// and its inbox: GET /v1/connections[/{id}], GET /v1/inbox[/{id}], POST /v1/inbox/{id}/replay.
#include "api/commit.hpp"
#include "api/context.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "webhooks/connections.hpp"
#include "webhooks/inbound.hpp"
#include "webhooks/inbox.hpp"
#include "webhooks/poller.hpp"

namespace psahost::api {
namespace {

http::Response unavailable() {
  return http::problem(503, "not-ready", "Service Unavailable", "webhooks are not served here");
}

}  // namespace

void add_webhook_routes(http::Router& router, const ApiContext& ctx) {
  router.add("POST", "/webhooks/{connection}",
             [&ctx](const http::Request& req, const http::Params& params, http::Responder respond) {
               // Authenticated by the signature, not by a token: the sender is a PSA or an
               // accounting system, which holds only the connection's webhook secret.
               if (!ctx.inbound || !ctx.ready.load(std::memory_order_acquire)) {
                 http::Response r = unavailable();
                 r.headers.emplace_back("Retry-After", "1");
                 return respond(std::move(r));
               }
               ctx.inbound->handle(req, params.at("connection"), std::move(respond));
             });

  // A vendor's notice that it deactivated the connection's webhook (Autotask calls the
  // Deactivation URL it was given with the webhook). Its form is not published and it carries
  // no signature, so it is taken as a hint only: the connection shows it, the partner is told,
  // and a catch-up poll (which reads the vendor's API with the connection's own credentials)
  // runs now. Only a connection whose connector polls has one.
  router.add_sync("POST", "/webhooks/{connection}/deactivated",
                  [&ctx](const http::Request&, const http::Params& params) {
                    if (!ctx.connections || !ctx.ready.load(std::memory_order_acquire)) {
                      return unavailable();
                    }
                    const auto opened = ctx.connections->open_by_name(params.at("connection"));
                    if (!opened || !webhooks::polls(ctx.plugins, opened->connection)) {
                      return http::problem(
                          404, "unknown-connection", "Not Found",
                          "no connection that catches up by polling is served here");
                    }
                    webhooks::record_webhook_deactivated(
                        ctx.store, opened->connection,
                        "the vendor reported the connection's webhook deactivated or deleted");
                    return http::Response::empty(200);
                  });

  add_sync_route(router, ctx, "GET", "/v1/connections", auth::Right::manage_integrations,
                 [&ctx](const http::Request&, const http::Params&, const auth::Principal& who) {
                   if (!ctx.connections) return unavailable();
                   Json::Value body;
                   body["items"] = Json::Value(Json::arrayValue);
                   for (const auto& c : ctx.connections->list(who.tenant_id)) {
                     body["items"].append(webhooks::connection_json(c));
                   }
                   return http::Response::json(200, body);
                 });

  add_sync_route(
      router, ctx, "GET", "/v1/connections/{id}", auth::Right::manage_integrations,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        if (!ctx.connections) return unavailable();
        auto c = ctx.connections->get(who.tenant_id, params.at("id"));
        if (!c) return not_found("connection", params.at("id"));
        Json::Value body = webhooks::connection_json(*c);
        body["catch_up"] = webhooks::catch_up_json(ctx.store, c->id);
        return http::Response::json(200, body);
      });

  add_sync_route(
      router, ctx, "GET", "/v1/inbox", auth::Right::manage_integrations,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
        std::vector<domain::FieldError> errors;
        const auto status = req.query_param("status");
        if (status && *status != "pending" && *status != "processed" && *status != "parked") {
          errors.push_back({"status", "expected pending, processed or parked"});
        }
        const auto connection = req.query_param("connection");
        const auto page = id_page(req, errors);
        if (!errors.empty()) return validation_failed(errors);
        std::string sql = std::string("SELECT ") + webhooks::kInboxColumns +
                          " FROM inbox i JOIN connections c ON c.id = i.connection_id WHERE "
                          "i.tenant_id = ? AND i.id > ?";
        std::vector<store::Value> args{who.tenant_id, page.after};
        if (status) {
          sql += " AND i.status = ?";
          args.emplace_back(*status);
        }
        if (connection) {
          sql += " AND c.name = ?";
          args.emplace_back(*connection);
        }
        sql += " ORDER BY i.id LIMIT ?";
        args.emplace_back(page.limit);
        Json::Value body;
        body["items"] = Json::Value(Json::arrayValue);
        ctx.store.read([&](store::Tx& tx) {
          tx.each(sql, args, [&](const store::Row& r) {
            body["items"].append(webhooks::inbox_entry_json(r, false));
          });
        });
        return http::Response::json(200, body);
      });

  add_sync_route(
      router, ctx, "GET", "/v1/inbox/{id}", auth::Right::manage_integrations,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        const auto id = positive_id(params.at("id"));
        std::optional<Json::Value> entry;
        if (id) {
          ctx.store.read([&](store::Tx& tx) {
            if (auto r =
                    tx.query_one(std::string("SELECT ") + webhooks::kInboxColumns +
                                     " FROM inbox i JOIN connections c ON c.id = i.connection_id "
                                     "WHERE i.tenant_id = ? AND i.id = ?",
                                 {who.tenant_id, *id})) {
              entry = webhooks::inbox_entry_json(*r, true);
            }
          });
        }
        if (!entry) return not_found("inbox entry", params.at("id"));
        return http::Response::json(200, *entry);
      });

  add_route(router, ctx, "POST", "/v1/inbox/{id}/replay", auth::Right::manage_integrations,
            [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              const auto id = positive_id(params.at("id"));
              if (!id) return respond(not_found("inbox entry", params.at("id")));
              commit(
                  ctx,
                  [&ctx, respond = std::move(respond)](http::Response r) {
                    if (r.status == 200 && ctx.inbox_changed) ctx.inbox_changed();
                    respond(std::move(r));
                  },
                  [tenant = who.tenant_id, id = *id](store::Tx& tx) {
                    auto entry = webhooks::replay_inbox_entry(tx, tenant, id);
                    if (!entry) refuse(not_found("inbox entry", std::to_string(id)));
                    return http::Response::json(200, *entry);
                  });
            });
}

}  // namespace psahost::api
