// /healthz, /readyz and /metrics: cheap and never touching plugins. The probes need no token;
// /metrics takes the operator's metrics token, or is open only when the operator says so.
#include "api/context.hpp"
#include "core/crypto.hpp"
#include "core/metrics.hpp"

namespace psahost::api {

void add_ops_routes(http::Router& router, const ApiContext& ctx) {
  router.add_sync("GET", "/healthz", [](const http::Request&, const http::Params&) {
    Json::Value body;
    body["status"] = "ok";
    return http::Response::json(200, body);
  });
  router.add_sync("GET", "/readyz", [&ctx](const http::Request&, const http::Params&) {
    Json::Value body;
    const bool ready =
        ctx.ready.load(std::memory_order_acquire) && !ctx.draining.load(std::memory_order_acquire);
    body["status"] = ready                                          ? "ready"
                     : ctx.draining.load(std::memory_order_acquire) ? "draining"
                                                                    : "starting";
    body["schema_version"] = ready ? ctx.store.schema_version() : 0;
    return http::Response::json(ready ? 200 : 503, body);
  });
  router.add_sync("GET", "/metrics", [&ctx](const http::Request& req, const http::Params&) {
    const bool allowed =
        ctx.metrics_token.empty()
            ? ctx.metrics_public
            : crypto::constant_time_equal(
                  auth::bearer_secret(req.header("authorization").value_or("")), ctx.metrics_token);
    if (!allowed) {
      return http::problem(401, "metrics-token-required", "Unauthorized",
                           "/metrics needs the operator's metrics token (Authorization: Bearer, "
                           "set with --metrics-token), or --metrics-access=public to serve it "
                           "to anyone who reaches the port");
    }
    std::string text = ctx.metrics.render();
    plugins::render_metrics(ctx.plugins, text);
    return http::Response::text(200, text, "text/plain; version=0.0.4");
  });
}

}  // namespace psahost::api
