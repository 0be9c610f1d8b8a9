// Writes from API handlers: the change runs in the group-commit writer and the client hears
// 2xx only after the commit; a refusal thrown inside rolls the change back, so nothing is written.
#pragma once

#include "api/context.hpp"

#include <exception>
#include <functional>

namespace psahost::api {

// An expected refusal (404, 409, 422) raised inside a write: its savepoint is rolled back and
// this response is sent instead.
struct RefusedWrite : std::exception {
  explicit RefusedWrite(http::Response r) : response(std::move(r)) {}
  const char* what() const noexcept override { return "refused"; }
  http::Response response;
};

[[noreturn]] inline void refuse(http::Response response) {
  throw RefusedWrite(std::move(response));
}
// A feature's refusal inside a write: rolled back, and answered as its problem.
[[noreturn]] inline void refuse(const domain::Refusal& refusal) {
  throw RefusedWrite(to_problem(refusal));
}

// Runs change in the writer; responds with what it returned once durable, with a refusal's
// response, with 409 on a uniqueness conflict, or 500 (logged) on anything else.
void commit(const ApiContext& ctx, http::Responder respond,
            std::function<http::Response(store::Tx&)> change);

// The same for a create a client may send again: with an Idempotency-Key header, the first 2xx
// response is stored in the change's own transaction, and a request repeating the key (for the
// same tenant) gets that response back without running the change again. A crash between the
// change and the client hearing of it therefore never creates twice.
void commit_once(const ApiContext& ctx, const http::Request& request, const auth::Principal& who,
                 http::Responder respond, std::function<http::Response(store::Tx&)> change);

// A responder that runs then() before passing on a 2xx answer: a change that gives a background
// worker something to do (a replay, an endpoint enabled) wakes it once it is committed.
http::Responder after_success(http::Responder respond, std::function<void()> then);

}  // namespace psahost::api
