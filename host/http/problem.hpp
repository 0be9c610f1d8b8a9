// A domain::Refusal as an RFC 9457 problem: the one mapping of a refusal's kind to a status and
// of its slug, prompt and fields to the document. The routes answer with it (api/problem) and the
// webhook applier records it in the inbox's outcome, so a refusal reads the same either way.
#pragma once

#include "domain/refusal.hpp"
#include "http/message.hpp"

#include <json/value.h>

namespace psahost::http {

// not_found 404; invalid 422; conflict and refused 409; unavailable 503; failed 500;
// upstream 502.
int status_of(domain::RefusalKind kind);

// The problem document: type, title, status, detail, "errors": [{"field","message"}] for an
// invalid request (detail then lists them when the refusal has none), "prompt" when there is
// one, and the refusal's extra members.
Json::Value problem_document(const domain::Refusal& refusal);

// The document as a response.
Response problem(const domain::Refusal& refusal);

}  // namespace psahost::http
