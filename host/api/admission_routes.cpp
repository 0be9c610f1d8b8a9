// POST /v1/admission: the platform asks "may this proceed?" before it acts in its own UI.
// As with Kubernetes admission webhooks, a verdict (allowed or not) is HTTP 200. The reviews run
// without holding the I/O thread: it serves other connections while the plugins decide.
#include "api/context.hpp"
#include "plugins/manifest.hpp"

#include <algorithm>

namespace psahost::api {

void add_admission_routes(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/admission", auth::Right::review_admission,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(std::move(refusal));

              Json::Value errors(Json::arrayValue);
              auto error = [&](const char* field, const std::string& message) {
                Json::Value e;
                e["field"] = field;
                e["message"] = message;
                errors.append(e);
              };
              const Json::Value& uid = (*body)["uid"];
              const Json::Value& operation = (*body)["operation"];
              if (!uid.isString() || uid.asString().empty() || uid.asString().size() > 200) {
                error("uid", "expected a non-empty string of at most 200 characters");
              }
              const auto& ops = plugins::kAdmissionOperations;
              if (!operation.isString() ||
                  std::find(ops.begin(), ops.end(), operation.asString()) == ops.end()) {
                std::string expected;
                for (const auto& op : ops) expected += (expected.empty() ? "" : ", ") + op;
                error("operation", "expected one of " + expected);
              }
              if (!(*body)["object"].isObject()) error("object", "expected an object");
              if (body->isMember("old_object") && !(*body)["old_object"].isNull() &&
                  !(*body)["old_object"].isObject()) {
                error("old_object", "expected an object or null");
              }
              if (!errors.empty()) return respond(validation_failed(errors));

              admission::Review review{uid.asString(),        who.tenant_id,
                                       operation.asString(),  (*body)["object"],
                                       (*body)["old_object"], (*body)["user"]};
              ctx.admission.review_async(
                  review, [uid = review.uid, respond = std::move(respond)](admission::Verdict v) {
                    respond(http::Response::json(200, v.to_json(uid)));
                  });
            });
}

}  // namespace psahost::api
