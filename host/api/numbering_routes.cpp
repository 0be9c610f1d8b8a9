// Invoice numbering: GET and PUT /v1/invoice-numbering and POST /v1/invoice-numbering/verify.
// They ask the numbering plugin and the accounting connectors, so they run on the background
// workers rather than on the I/O threads.
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "billing/numbering_review.hpp"

namespace psahost::api {
namespace {

constexpr int64_t kMaxNextNumber = 1'000'000'000'000;

using billing::NumberingReview;

http::Response answer(const domain::Result<NumberingReview>& out) {
  return out ? http::Response::json(200, out->to_json()) : to_problem(out.refusal());
}

// A POST may come without a body; then it is {}.
std::optional<Json::Value> optional_body(const http::Request& req, http::Response* refusal) {
  if (req.body.empty()) return Json::Value(Json::objectValue);
  return json_body(req, refusal);
}

}  // namespace

void add_numbering_routes(http::Router& router, const ApiContext& ctx) {
  add_route(
      router, ctx, "GET", "/v1/invoice-numbering", auth::Right::manage_billing,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        const std::string entity = req.query_param("billing_entity").value_or("");
        if (entity.size() > 200) {
          return respond(validation_failed(std::vector<domain::FieldError>{
              {"billing_entity", "must be at most 200 characters"}}));
        }
        in_background(
            ctx, std::move(respond),
            [&ctx, who, entity](std::stop_token, const http::Responder& done) {
              done(answer(billing::review_numbering({ctx.store, ctx.plugins}, who, entity, true)));
            });
      });

  add_route(
      router, ctx, "PUT", "/v1/invoice-numbering", auth::Right::manage_billing,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        f.only({"billing_entity", "prefix", "pattern", "next_number", "reset"});
        billing::SeriesSettings wanted;
        wanted.billing_entity = f.text("billing_entity", false, 200).value_or("");
        wanted.prefix = f.text("prefix", false, 20).value_or("");
        const auto pattern = f.text("pattern", true, 100);
        const auto next = f.integer("next_number", true, 1, kMaxNextNumber);
        wanted.reset = f.one_of("reset", false, {"never", "yearly"}).value_or("never");
        if (!f.ok()) return respond(validation_failed(f.errors()));
        wanted.pattern = *pattern;
        wanted.next_number = *next;
        in_background(
            ctx, std::move(respond),
            [&ctx, who, wanted](std::stop_token, const http::Responder& done) {
              const auto out = billing::update_numbering({ctx.store, ctx.plugins}, who, wanted);
              if (out && ctx.events_committed) {
                ctx.events_committed();
              }
              done(answer(out));
            });
      });

  add_route(router, ctx, "POST", "/v1/invoice-numbering/verify", auth::Right::manage_billing,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = optional_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              f.only({"billing_entity", "settings_digest"});
              const std::string entity = f.text("billing_entity", false, 200).value_or("");
              const auto digest = f.text("settings_digest", false, 64);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              in_background(
                  ctx, std::move(respond),
                  [&ctx, who, entity, digest](std::stop_token, const http::Responder& done) {
                    const auto out =
                        billing::verify_numbering({ctx.store, ctx.plugins}, who, entity, digest);
                    if (out && ctx.events_committed) ctx.events_committed();
                    done(answer(out));
                  });
            });
}

}  // namespace psahost::api
