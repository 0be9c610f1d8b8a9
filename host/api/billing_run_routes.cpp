// Billing runs: POST /v1/billing-runs answers 202 at once, with the queued run and its Location,
// and the run goes on on a background worker; GET /v1/billing-runs/{id} shows how far it got
// and, once it ended, what became of every client. A run can take minutes for a large partner,
// longer than a client should hold a request open, and it must never hold an I/O thread.
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "billing/billing_run.hpp"
#include "core/background_workers.hpp"

namespace psahost::api {

using billing::BillingEnv;

void add_billing_run_routes(http::Router& router, const ApiContext& ctx) {
  add_route(
      router, ctx, "POST", "/v1/billing-runs", auth::Right::manage_billing,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        f.only({"period", "dry_run"});
        const auto period = f.text("period", true, 7);
        const auto dry_run = f.boolean("dry_run", false);
        if (!f.ok()) return respond(validation_failed(f.errors()));
        const billing::RunRequest request{*period, dry_run.value_or(false)};
        in_background(
            ctx, std::move(respond),
            [&ctx, who, request](std::stop_token, const http::Responder& done) {
              const BillingEnv env{ctx.store, ctx.plugins, ctx.admission, ctx.events_committed};
              const auto start = billing::start_billing_run(env, who, request);
              if (!start) return done(to_problem(start.refusal()));
              Json::Value run;
              ctx.store.read([&](store::Tx& tx) {
                run = billing::billing_run_json(tx, who.tenant_id, start->id, {});
              });
              auto r = http::Response::json(202, run);
              r.headers.emplace_back("Location", "/v1/billing-runs/" + start->id);
              done(std::move(r));
              // Answered; the run itself goes on as a long job (at most two at once, so other
              // background requests are not held up by runs).
              const auto execute = [env, tenant = who.tenant_id,
                                    id = start->id](std::stop_token token) {
                billing::execute_billing_run(env, tenant, id, token);
              };
              if (!ctx.workers->post_long(execute)) {
                // Stopping: recorded as interrupted at once, to be run again.
                std::stop_source stopped;
                stopped.request_stop();
                execute(stopped.get_token());
              }
            });
      });

  add_sync_route(
      router, ctx, "GET", "/v1/billing-runs/{id}", auth::Right::manage_billing,
      [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who) {
        billing::RunItemsPage page;
        std::vector<domain::FieldError> errors;
        const auto list = list_page(req, errors);
        page.after = list.after;
        page.outcome = req.query_param("outcome");
        if (page.outcome && *page.outcome != "issued" && *page.outcome != "would_issue" &&
            *page.outcome != "skipped" && *page.outcome != "failed") {
          errors.push_back({"outcome", "expected one of issued, would_issue, skipped, failed"});
        }
        if (!errors.empty()) return validation_failed(errors);
        page.limit = list.limit;
        Json::Value run;
        ctx.store.read([&](store::Tx& tx) {
          run = billing::billing_run_json(tx, who.tenant_id, params.at("id"), page);
        });
        return run.isNull() ? not_found("billing run", params.at("id"))
                            : http::Response::json(200, run);
      });
}

}  // namespace psahost::api
