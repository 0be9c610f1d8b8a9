// Outbound webhooks: GET/POST /v1/webhook-endpoints, GET/PATCH /v1/webhook-endpoints/{id},
// POST /v1/webhook-endpoints/{id}/replay, and the delivery log: GET /v1/deliveries[/{id}],
// POST /v1/deliveries/{id}/replay.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/context.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "auth/tokens.hpp"
#include "core/clock.hpp"
#include "delivery/endpoints.hpp"
#include "plugins/manifest.hpp"
#include "webhooks/signature.hpp"

#include <boost/url/parse.hpp>

#include <set>

namespace psahost::api {
namespace {

using delivery::Endpoint;

void field_error(Json::Value& errors, const std::string& field, const std::string& message) {
  Json::Value e;
  e["field"] = field;
  e["message"] = message;
  errors.append(e);
}

// An endpoint's URL: https with a host, no credentials, no fragment. A query is allowed (some
// receivers route by it).
std::optional<std::string> check_endpoint_url(const std::string& url,
                                              const net::AddressPolicy& policy) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "expected an absolute URL like https://example.com/webhooks";
  if (parsed->scheme() != "https") return "expected an https:// URL (TLS everywhere)";
  if (parsed->host().empty()) return "the URL names no host";
  if (parsed->has_userinfo()) return "credentials do not belong in the URL";
  if (parsed->has_fragment()) return "a fragment is never sent; remove it";
  if (url.size() > 2000) return "at most 2000 characters";
  if (auto refused = policy.refusal_for_host(parsed->host())) return refused;
  return std::nullopt;
}

// Reads and checks the members of a create (all required but description and max_in_flight)
// or a PATCH (all optional).
// The operator's policy, or the default one (every internal range refused).
const net::AddressPolicy& outbound_policy(const ApiContext& ctx) {
  static const net::AddressPolicy kDefault;
  return ctx.address_policy ? *ctx.address_policy : kDefault;
}

delivery::EndpointChange read_endpoint(const Json::Value& body, bool create, Json::Value& errors,
                                       const net::AddressPolicy& policy) {
  delivery::EndpointChange out;
  Fields f(body);
  f.only(create ? std::vector<std::string>{"url", "event_types", "description", "max_in_flight"}
                : std::vector<std::string>{"url", "event_types", "description", "max_in_flight",
                                           "status"});
  out.url = f.text("url", create, 2000);
  out.description = f.text("description", false, 500);
  out.max_in_flight = f.integer("max_in_flight", false, 1, 64);
  if (!create) out.status = f.one_of("status", false, {"active", "disabled"});
  for (const auto& e : f.errors()) errors.append(e);
  if (out.url) {
    if (auto problem = check_endpoint_url(*out.url, policy)) field_error(errors, "url", *problem);
  }
  if (body.isMember("event_types")) {
    const Json::Value& types = body["event_types"];
    std::vector<std::string> list;
    std::set<std::string> seen;
    if (!types.isArray() || types.empty() || types.size() > 100) {
      field_error(errors, "event_types", "expected 1 to 100 event types, or [\"*\"] for all");
    } else {
      for (Json::ArrayIndex i = 0; i < types.size(); ++i) {
        const std::string t = types[i].isString() ? types[i].asString() : "";
        const std::string field = "event_types[" + std::to_string(i) + "]";
        if (!plugins::is_event_type(t)) {
          field_error(errors, field, "expected an event type like \"invoice.issued\" or \"*\"");
        } else if (!seen.insert(t).second) {
          field_error(errors, field, "listed twice");
        } else {
          list.push_back(t);
        }
      }
    }
    out.event_types = std::move(list);
  } else if (create) {
    field_error(errors, "event_types", "required; [\"*\"] subscribes to every event");
  }
  return out;
}

Json::Value attempts_json(store::Tx& tx, int64_t delivery_id) {
  Json::Value list(Json::arrayValue);
  tx.each(
      "SELECT attempt, started_at, status_code, error, latency_us, response_excerpt, truncated "
      "FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt",
      {delivery_id}, [&](const store::Row& r) {
        Json::Value a;
        a["attempt"] = static_cast<Json::Int64>(r.integer(0));
        a["started_at"] = r.text(1);
        a["status"] =
            r.is_null(2) ? Json::Value() : Json::Value(static_cast<Json::Int64>(r.integer(2)));
        a["error"] = r.is_null(3) ? Json::Value() : Json::Value(r.text(3));
        a["latency_us"] = static_cast<Json::Int64>(r.integer(4));
        a["response_excerpt"] = r.is_null(5) ? Json::Value() : Json::Value(r.text(5));
        a["truncated"] = r.integer(6) != 0;
        list.append(a);
      });
  return list;
}

constexpr const char* kDeliveryColumns =
    "id, kind, endpoint_id, connection_id, event_seq, event_type, message_id, status, attempts, "
    "next_attempt_at, last_status, last_error, created_at, updated_at, delivered_at, request";

Json::Value delivery_json(store::Tx& tx, const store::Row& r) {
  Json::Value v;
  v["id"] = static_cast<Json::Int64>(r.integer(0));
  v["kind"] = r.text(1);
  v["endpoint_id"] = r.is_null(2) ? Json::Value() : Json::Value(r.text(2));
  v["connection_id"] = r.is_null(3) ? Json::Value() : Json::Value(r.text(3));
  v["event_seq"] = static_cast<Json::Int64>(r.integer(4));
  v["event_type"] = r.text(5);
  v["message_id"] = r.text(6);
  v["status"] = r.text(7);
  v["attempt_count"] = static_cast<Json::Int64>(r.integer(8));
  v["next_attempt_at"] = r.text(7) == "pending" ? Json::Value(r.text(9)) : Json::Value();
  v["last_status"] =
      r.is_null(10) ? Json::Value() : Json::Value(static_cast<Json::Int64>(r.integer(10)));
  v["last_error"] = r.is_null(11) ? Json::Value() : Json::Value(r.text(11));
  v["created_at"] = r.text(12);
  v["updated_at"] = r.text(13);
  v["delivered_at"] = r.is_null(14) ? Json::Value() : Json::Value(r.text(14));
  if (!r.is_null(15)) {
    // A connector's request, as sent but without the credentials the host adds at send time.
    const Json::Value request = from_text(r.text(15));
    v["request"]["method"] = request["method"];
    v["request"]["url"] = request["url"];
  }
  v["attempts"] = attempts_json(tx, r.integer(0));
  return v;
}

}  // namespace

void add_delivery_routes(http::Router& router, const ApiContext& ctx) {
  add_route(
      router, ctx, "POST", "/v1/webhook-endpoints", auth::Right::manage_integrations,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Json::Value errors(Json::arrayValue);
        const auto f = read_endpoint(*body, true, errors, outbound_policy(ctx));
        if (!errors.empty()) return respond(validation_failed(errors));
        const std::string id = auth::new_id("ep");
        const std::string secret = webhooks::new_standard_webhooks_secret();
        const std::string sealed = ctx.secrets.seal(secret, delivery::endpoint_secret_context(id));
        commit(ctx, respond, [who, f, id, secret, sealed](store::Tx& tx) {
          Json::Value out = delivery::create_endpoint(tx, who.tenant_id, id, f, sealed).to_json();
          // The only time the secret is shown: receivers verify with it.
          out["secret"] = secret;
          auto r = http::Response::json(201, out);
          r.headers.emplace_back("Location", "/v1/webhook-endpoints/" + id);
          return r;
        });
      });

  add_sync_route(router, ctx, "GET", "/v1/webhook-endpoints", auth::Right::manage_integrations,
                 [&ctx](const http::Request&, const http::Params&, const auth::Principal& who) {
                   Json::Value body;
                   body["items"] = Json::Value(Json::arrayValue);
                   ctx.store.read([&](store::Tx& tx) {
                     tx.each(std::string("SELECT ") + delivery::kEndpointColumns +
                                 " FROM webhook_endpoints WHERE tenant_id = ? ORDER BY created_at",
                             {who.tenant_id}, [&](const store::Row& r) {
                               body["items"].append(delivery::endpoint_from_row(r).to_json());
                             });
                   });
                   return http::Response::json(200, body);
                 });

  add_sync_route(
      router, ctx, "GET", "/v1/webhook-endpoints/{id}", auth::Right::manage_integrations,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<Endpoint> e;
        ctx.store.read([&](store::Tx& tx) {
          e = delivery::load_endpoint(tx, who.tenant_id, params.at("id"));
        });
        if (!e) return not_found("webhook endpoint", params.at("id"));
        return http::Response::json(200, e->to_json());
      });

  add_route(router, ctx, "PATCH", "/v1/webhook-endpoints/{id}", auth::Right::manage_integrations,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Json::Value errors(Json::arrayValue);
              const auto f = read_endpoint(*body, false, errors, outbound_policy(ctx));
              if (!errors.empty()) return respond(validation_failed(errors));
              commit(ctx, after_success(std::move(respond), ctx.outbox_changed),
                     [who, f, id = params.at("id")](store::Tx& tx) {
                       const auto updated = delivery::update_endpoint(tx, who.tenant_id, id, f);
                       if (!updated) refuse(updated.refusal());
                       return http::Response::json(200, updated->to_json());
                     });
            });

  add_route(router, ctx, "POST", "/v1/webhook-endpoints/{id}/replay",
            auth::Right::manage_integrations,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              f.only({"since", "include_delivered"});
              const auto since = f.text("since", true, 40);
              const auto include_delivered = f.boolean("include_delivered", false);
              Json::Value errors = f.errors();
              if (since && !parse_rfc3339(*since)) {
                field_error(errors, "since", "expected an RFC 3339 time like 2026-11-30T00:00:00Z");
              }
              if (!errors.empty()) return respond(validation_failed(errors));
              commit(ctx, after_success(std::move(respond), ctx.outbox_changed),
                     [who, id = params.at("id"), since = rfc3339(*parse_rfc3339(*since)),
                      all = include_delivered.value_or(false)](store::Tx& tx) {
                       const auto n = delivery::replay_endpoint(tx, who.tenant_id, id, since, all);
                       if (!n) refuse(n.refusal());
                       Json::Value out;
                       out["replayed"] = static_cast<Json::Int64>(*n);
                       return http::Response::json(200, out);
                     });
            });

  add_sync_route(router, ctx, "GET", "/v1/deliveries", auth::Right::manage_integrations,
                 [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
                   std::vector<domain::FieldError> errors;
                   std::string sql = std::string("SELECT ") + kDeliveryColumns +
                                     " FROM deliveries WHERE tenant_id = ? AND id > ?";
                   const auto page = id_page(req, errors, 500);
                   std::vector<store::Value> args{who.tenant_id, page.after};
                   for (const char* name : {"endpoint_id", "connection_id", "status", "kind"}) {
                     if (auto v = req.query_param(name)) {
                       sql += std::string(" AND ") + name + " = ?";
                       args.emplace_back(*v);
                     }
                   }
                   if (auto s = req.query_param("status");
                       s && *s != "pending" && *s != "delivered" && *s != "failed") {
                     errors.push_back({"status", "expected pending, delivered or failed"});
                   }
                   if (!errors.empty()) return validation_failed(errors);
                   sql += " ORDER BY id LIMIT ?";
                   args.emplace_back(page.limit);
                   Json::Value body;
                   body["items"] = Json::Value(Json::arrayValue);
                   ctx.store.read([&](store::Tx& tx) {
                     std::vector<store::Row> rows = tx.query(sql, args);
                     for (const auto& r : rows) body["items"].append(delivery_json(tx, r));
                   });
                   return http::Response::json(200, body);
                 });

  add_sync_route(
      router, ctx, "GET", "/v1/deliveries/{id}", auth::Right::manage_integrations,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        const auto id = positive_id(params.at("id"));
        std::optional<Json::Value> out;
        if (id) {
          ctx.store.read([&](store::Tx& tx) {
            if (auto r = tx.query_one(std::string("SELECT ") + kDeliveryColumns +
                                          " FROM deliveries WHERE tenant_id = ? AND "
                                          "id = ?",
                                      {who.tenant_id, *id})) {
              out = delivery_json(tx, *r);
            }
          });
        }
        if (!out) return not_found("delivery", params.at("id"));
        return http::Response::json(200, *out);
      });

  add_route(router, ctx, "POST", "/v1/deliveries/{id}/replay", auth::Right::manage_integrations,
            [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              const auto id = positive_id(params.at("id"));
              if (!id) return respond(not_found("delivery", params.at("id")));
              commit(ctx, after_success(std::move(respond), ctx.outbox_changed),
                     [tenant = who.tenant_id, id = *id](store::Tx& tx) {
                       // Sent once more with its original webhook-id; the retry schedule starts
                       // over for it.
                       if (!delivery::replay_delivery(tx, tenant, id)) {
                         refuse(not_found("delivery", std::to_string(id)));
                       }
                       auto r = tx.query_one(std::string("SELECT ") + kDeliveryColumns +
                                                 " FROM deliveries WHERE id = ?",
                                             {id});
                       return http::Response::json(200, delivery_json(tx, *r));
                     });
            });
}

}  // namespace psahost::api
