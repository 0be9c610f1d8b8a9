// GET /v1/onboarding: what stands between the partner and billing its existing clients.
#include "api/context.hpp"
#include "api/onboarding.hpp"

namespace psahost::api {

void add_onboarding_routes(http::Router& router, const ApiContext& ctx) {
  router.add_sync("GET", "/v1/onboarding", [&ctx](const http::Request& req, const http::Params&) {
    http::Response refusal;
    auto who = ctx.authorize(req, auth::Right::read, &refusal);
    if (!who) return refusal;
    Json::Value body;
    ctx.store.read([&](store::Tx& tx) { body = onboarding_status(tx, who->tenant_id); });
    return http::Response::json(200, body);
  });
}

}  // namespace psahost::api
