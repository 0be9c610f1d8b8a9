#include "api/commit.hpp"

#include "catalog/catalog.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "store/json_column.hpp"

#include <algorithm>

namespace psahost::api {

void commit(const ApiContext& ctx, http::Responder respond,
            std::function<http::Response(store::Tx&)> change) {
  auto result = std::make_shared<http::Response>();
  ctx.store.write_async(
      [result, change = std::move(change)](store::Tx& tx) { *result = change(tx); },
      [&ctx, result, respond = std::move(respond)](std::exception_ptr error) {
        if (!error) {
          if (ctx.events_committed) ctx.events_committed();
          respond(std::move(*result));
          return;
        }
        try {
          std::rethrow_exception(error);
        } catch (const RefusedWrite& r) {
          respond(r.response);
        } catch (const store::ConstraintError& e) {
          respond(http::problem(409, "conflict", "Conflict",
                                "the change conflicts with the current state; reload and retry"));
        } catch (const std::exception& e) {
          Json::Value f;
          f["error"] = e.what();
          ctx.log.error("write failed", f);
          respond(http::problem(500, "internal-error", "Internal Server Error"));
        }
      });
}

}  // namespace psahost::api

namespace psahost::api {

http::Responder after_success(http::Responder respond, std::function<void()> then) {
  return [respond = std::move(respond), then = std::move(then)](http::Response r) {
    if (r.status >= 200 && r.status < 300 && then) then();
    respond(std::move(r));
  };
}

void commit_once(const ApiContext& ctx, const http::Request& request, const auth::Principal& who,
                 http::Responder respond, std::function<http::Response(store::Tx&)> change) {
  const auto key = request.header("idempotency-key");
  if (!key) return commit(ctx, std::move(respond), std::move(change));
  if (key->empty() || key->size() > 255 ||
      !std::all_of(key->begin(), key->end(), [](char c) { return c > 0x20 && c < 0x7F; })) {
    Json::Value errors(Json::arrayValue);
    Json::Value e;
    e["field"] = "Idempotency-Key";
    e["message"] = "expected 1 to 255 visible ASCII characters";
    errors.append(e);
    return respond(validation_failed(errors));
  }
  commit(ctx, std::move(respond),
         [tenant = who.tenant_id, key = std::string(*key),
          change = std::move(change)](store::Tx& tx) -> http::Response {
           if (auto row = tx.query_one(
                   "SELECT response FROM idempotency_keys WHERE tenant_id = ? AND key = ?",
                   {tenant, key})) {
             const Json::Value stored = store::from_text(row->text(0));
             http::Response r;
             r.status = stored["status"].asInt();
             r.content_type = stored["content_type"].asString();
             r.body = stored["body"].asString();
             for (const auto& h : stored["headers"]) {
               r.headers.emplace_back(h[0].asString(), h[1].asString());
             }
             r.headers.emplace_back("Idempotent-Replayed", "true");
             return r;
           }
           http::Response r = change(tx);
           if (r.status >= 200 && r.status < 300) {
             Json::Value stored;
             stored["status"] = r.status;
             stored["content_type"] = r.content_type;
             stored["body"] = r.body;
             stored["headers"] = Json::Value(Json::arrayValue);
             for (const auto& [name, value] : r.headers) {
               Json::Value h(Json::arrayValue);
               h.append(name);
               h.append(value);
               stored["headers"].append(h);
             }
             tx.exec(
                 "INSERT INTO idempotency_keys (tenant_id, key, response, created_at) VALUES (?, "
                 "?, ?, ?)",
                 {tenant, key, store::to_text(stored), now_rfc3339()});
           }
           return r;
         });
}

}  // namespace psahost::api
