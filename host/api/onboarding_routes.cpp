// GET /v1/onboarding: what stands between the partner and billing its existing clients.
#include "api/context.hpp"
#include "api/onboarding.hpp"

namespace psahost::api {

void add_onboarding_routes(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/onboarding", auth::Right::read,
      [&ctx](const http::Request&, const http::Params&, const auth::Principal& who) {
        Json::Value body;
        ctx.store.read([&](store::Tx& tx) { body = onboarding_status(tx, who.tenant_id); });
        return http::Response::json(200, body);
      });
}

}  // namespace psahost::api
