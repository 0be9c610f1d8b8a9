// /healthz, /readyz and /metrics: unauthenticated, cheap, and never touching plugins.
#include "api/context.hpp"
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
  router.add_sync("GET", "/metrics", [&ctx](const http::Request&, const http::Params&) {
    std::string text = ctx.metrics.render();
    plugins::render_metrics(ctx.plugins, text);
    return http::Response::text(200, text, "text/plain; version=0.0.4");
  });
}

}  // namespace psahost::api
