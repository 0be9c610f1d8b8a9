// What every API route needs: the store, the plugins, authentication, and the helpers that turn
// bodies into JSON and refusals into problem+json responses.
#pragma once

#include "admission/pipeline.hpp"
#include "api/problem.hpp"
#include "auth/rate_limit.hpp"
#include "auth/tokens.hpp"
#include "core/secret_box.hpp"
#include "domain/billing_info.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "net/address_policy.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <atomic>
#include <functional>
#include <optional>
#include <stop_token>

namespace psahost {
class BackgroundWorkers;
class Logger;
class Metrics;
namespace webhooks {
class Connections;
class InboundWebhooks;
}  // namespace webhooks
}  // namespace psahost

namespace psahost::api {

struct ApiContext {
  store::Store& store;
  plugins::PluginRegistry& plugins;
  admission::Pipeline& admission;
  auth::Tokens& tokens;
  Metrics& metrics;
  Logger& log;
  const std::atomic<bool>& ready;     // migrations applied and plugins loaded
  const std::atomic<bool>& draining;  // shutdown has begun: /readyz says so
  // Called after a commit that appended events (wakes the event dispatcher); may be empty.
  std::function<void()> events_committed;
  // Seals and opens secrets kept in the store (connection and endpoint secrets).
  const crypto::SecretBox& secrets;
  // Webhooks in and out. Null where routes are registered without serving (the OpenAPI test).
  webhooks::Connections* connections = nullptr;
  webhooks::InboundWebhooks* inbound = nullptr;
  // Inbox entries were made pending again (a replay): wakes the inbox processor; may be empty.
  std::function<void()> inbox_changed;
  // Deliveries or endpoints changed (a replay, an endpoint enabled): wakes the outbox.
  std::function<void()> outbox_changed;
  // Threads for long work off the I/O threads (billing runs, asking accounting systems); routes
  // that need them answer 503 while it is null.
  BackgroundWorkers* workers = nullptr;
  // What registered outbound URLs may point at; null where routes are registered without
  // serving (every internal address is then refused).
  const net::AddressPolicy* address_policy = nullptr;
  // Who may read /metrics: the bearer of metrics_token when one is set, else anyone when
  // metrics_public, else nobody (it tells every tenant's traffic).
  std::string metrics_token = {};
  // Requests per tenant (429 past it); null = unlimited.
  auth::TenantRateLimit* rate_limit = nullptr;
  bool metrics_public = false;
  // Loads installed or changed plugins and drops removed ones (POST /v1/plugins/reload, as
  // SIGHUP does); empty where routes are registered without serving (the route answers 503).
  std::function<plugins::PluginRegistry::ReloadResult()> reload_plugins = {};

  // The caller's principal if the request carries a valid token with the right; otherwise
  // *refusal is set (401 no or bad token, 403 missing right, 503 not ready yet).
  std::optional<auth::Principal> authorize(const http::Request& request, auth::Right right,
                                           http::Response* refusal) const;
};

// A route's handler once the caller is known to hold the route's right.
using AuthorizedHandler = std::function<void(const http::Request&, const http::Params&,
                                             const auth::Principal&, http::Responder)>;
using AuthorizedSyncHandler = std::function<http::Response(
    const http::Request&, const http::Params&, const auth::Principal&)>;

// Registers a route whose handler runs only for a principal with the right; every other caller
// gets the answer authorize() gives (401, 403, or 503 while starting).
void add_route(http::Router& router, const ApiContext& ctx, std::string method, std::string pattern,
               auth::Right right, AuthorizedHandler handler);
void add_sync_route(http::Router& router, const ApiContext& ctx, std::string method,
                    std::string pattern, auth::Right right, AuthorizedSyncHandler handler);

// Parses a JSON object body. On failure sets *refusal (400 malformed-json, or 415 when the
// content type is not JSON) and returns nullopt.
std::optional<Json::Value> json_body(const http::Request& request, http::Response* refusal);

// Every route `psahost serve` has; the OpenAPI agreement test registers the same table.
void add_all_routes(http::Router& router, const ApiContext& ctx);

void add_ops_routes(http::Router& router, const ApiContext& ctx);
void add_plugin_routes(http::Router& router, const ApiContext& ctx);
void add_admission_routes(http::Router& router, const ApiContext& ctx);
void add_client_routes(http::Router& router, const ApiContext& ctx);
void add_ticket_routes(http::Router& router, const ApiContext& ctx);
void add_time_approval_routes(http::Router& router, const ApiContext& ctx);
void add_sales_routes(http::Router& router, const ApiContext& ctx);
void add_onboarding_routes(http::Router& router, const ApiContext& ctx);
void add_contract_routes(http::Router& router, const ApiContext& ctx);
void add_webhook_routes(http::Router& router, const ApiContext& ctx);
void add_delivery_routes(http::Router& router, const ApiContext& ctx);
void add_numbering_routes(http::Router& router, const ApiContext& ctx);
void add_billing_run_routes(http::Router& router, const ApiContext& ctx);
void add_invoice_routes(http::Router& router, const ApiContext& ctx);
void add_console_read_routes(http::Router& router, const ApiContext& ctx);

// Runs job on ctx.workers, off the I/O threads; answers 503 when there are none (or they are
// stopping). The job answers through respond.
void in_background(const ApiContext& ctx, http::Responder respond,
                   std::function<void(std::stop_token, const http::Responder&)> job);

}  // namespace psahost::api
