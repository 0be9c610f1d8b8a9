#include "api/context.hpp"

#include "core/background_workers.hpp"
#include "core/json_check.hpp"
#include "core/log.hpp"

#include <json/reader.h>

#include <memory>

namespace psahost::api {

std::optional<auth::Principal> ApiContext::authorize(const http::Request& request,
                                                     auth::Right right,
                                                     http::Response* refusal) const {
  if (!ready.load(std::memory_order_acquire)) {
    *refusal = http::problem(503, "not-ready", "Service Unavailable",
                             "psahost is starting; try again shortly");
    refusal->headers.emplace_back("Retry-After", "1");
    return std::nullopt;
  }
  std::optional<auth::Principal> principal;
  const auto header = request.header("authorization");
  if (const auto secret = header ? auth::bearer_secret(*header) : std::string_view{};
      !secret.empty()) {
    principal = tokens.authenticate(secret);
  }
  if (!principal) {
    *refusal = http::problem(401, "unauthorized", "Unauthorized",
                             header ? "the bearer token is not valid"
                                    : "send an API token as 'Authorization: Bearer <token>'");
    refusal->headers.emplace_back("WWW-Authenticate", "Bearer");
    return std::nullopt;
  }
  if (rate_limit) {
    if (const auto wait = rate_limit->admit(principal->tenant_id)) {
      *refusal = http::problem(429, "rate-limited", "Too Many Requests",
                               "this tenant sent more requests than its limit allows; try again "
                               "in " +
                                   std::to_string(wait->count()) +
                                   " s (the operator sets the limit with --rate-limit and "
                                   "--rate-limit-burst)");
      refusal->headers.emplace_back("Retry-After", std::to_string(wait->count()));
      return std::nullopt;
    }
  }
  if (!auth::allows(principal->role, right)) {
    *refusal = http::problem(
        403, "forbidden", "Forbidden",
        "the " + std::string(auth::role_name(principal->role)) + " role may not do this");
    return std::nullopt;
  }
  return principal;
}

void add_route(http::Router& router, const ApiContext& ctx, std::string method, std::string pattern,
               auth::Right right, AuthorizedHandler handler) {
  router.add(std::move(method), std::move(pattern),
             [&ctx, right, handler = std::move(handler)](
                 const http::Request& req, const http::Params& params, http::Responder respond) {
               http::Response refusal;
               const auto who = ctx.authorize(req, right, &refusal);
               if (!who) return respond(std::move(refusal));
               handler(req, params, *who, std::move(respond));
             });
}

void add_sync_route(http::Router& router, const ApiContext& ctx, std::string method,
                    std::string pattern, auth::Right right, AuthorizedSyncHandler handler) {
  router.add_sync(std::move(method), std::move(pattern),
                  [&ctx, right, handler = std::move(handler)](const http::Request& req,
                                                              const http::Params& params) {
                    http::Response refusal;
                    const auto who = ctx.authorize(req, right, &refusal);
                    if (!who) return refusal;
                    return handler(req, params, *who);
                  });
}
// Deeper than any request body of the API needs, far below jsoncpp's stack limit.
constexpr std::size_t kMaxBodyDepth = 64;

std::optional<Json::Value> json_body(const http::Request& request, http::Response* refusal) {
  const auto type = request.header("content-type");
  if (type && type->find("json") == std::string_view::npos) {
    *refusal = http::problem(415, "unsupported-media-type", "Unsupported Media Type",
                             "send the body as application/json");
    return std::nullopt;
  }
  // Strict: duplicate keys and trailing garbage are errors, not silently resolved.
  thread_local std::unique_ptr<Json::CharReader> reader = [] {
    Json::CharReaderBuilder builder;
    builder["rejectDupKeys"] = true;
    builder["allowComments"] = false;
    builder["failIfExtra"] = true;
    return std::unique_ptr<Json::CharReader>(builder.newCharReader());
  }();
  Json::Value value;
  std::string errors;
  const std::string& body = request.body;
  // Checked first, by the strict scanner: jsoncpp would take comments and trailing commas,
  // store invalid UTF-8 and lone surrogates, and throw past its own stack limit.
  if (!is_unicode_json(body, kMaxBodyDepth)) {
    *refusal = http::problem(
        400, "malformed-json", "Bad Request",
        "the body is not valid JSON: RFC 8259 without comments or trailing commas, UTF-8 text "
        "with no lone surrogates, at most " +
            std::to_string(kMaxBodyDepth) + " levels deep");
    return std::nullopt;
  }
  if (!reader->parse(body.data(), body.data() + body.size(), &value, &errors)) {
    *refusal = http::problem(400, "malformed-json", "Bad Request",
                             "the body is not valid JSON: " + errors);
    return std::nullopt;
  }
  if (!value.isObject()) {
    *refusal =
        http::problem(400, "malformed-json", "Bad Request", "the body must be a JSON object");
    return std::nullopt;
  }
  return value;
}

void in_background(const ApiContext& ctx, http::Responder respond,
                   std::function<void(std::stop_token, const http::Responder&)> job) {
  const auto unavailable = [] {
    auto r = http::problem(503, "unavailable", "Service Unavailable",
                           "psahost is stopping or cannot run this now; try again shortly");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  };
  if (!ctx.workers) return respond(unavailable());
  // The responder is shared: post() drops a job it refuses, and then this thread answers.
  auto shared = std::make_shared<http::Responder>(std::move(respond));
  const bool queued = ctx.workers->post([&ctx, shared, job = std::move(job)](std::stop_token stop) {
    try {
      job(stop, *shared);
    } catch (const std::exception& e) {
      // A job answers before it can throw no more; one that threw got no answer out yet.
      Json::Value f;
      f["error"] = e.what();
      ctx.log.error("background request failed", f);
      (*shared)(http::problem(500, "internal-error", "Internal Server Error"));
    }
  });
  if (!queued) (*shared)(unavailable());
}

}  // namespace psahost::api
