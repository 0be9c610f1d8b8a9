#include "api/commit.hpp"

#include "core/log.hpp"

namespace psahost::api {

http::Response not_found(std::string_view what, std::string_view id) {
  return http::problem(404, "not-found", "Not Found",
                       std::string(what) + " " + std::string(id) + " does not exist");
}

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
        } catch (const Refusal& r) {
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
