// The route table of `psahost serve`, in one place: the server and the OpenAPI agreement test
// both register exactly this.
#include "api/context.hpp"

namespace psahost::api {

void add_all_routes(http::Router& router, const ApiContext& ctx) {
  add_ops_routes(router, ctx);
  add_plugin_routes(router, ctx);
  add_admission_routes(router, ctx);
  add_client_routes(router, ctx);
  add_ticket_routes(router, ctx);  // with the time-approval routes
  add_sales_routes(router, ctx);
  add_onboarding_routes(router, ctx);
  add_contract_routes(router, ctx);
  add_webhook_routes(router, ctx);
  add_delivery_routes(router, ctx);
  add_numbering_routes(router, ctx);
  add_billing_run_routes(router, ctx);
  add_invoice_routes(router, ctx);
  add_console_read_routes(router, ctx);
}

}  // namespace psahost::api
