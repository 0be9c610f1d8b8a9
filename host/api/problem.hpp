// The one place where a refusal becomes HTTP: a feature's domain::Refusal, a validation failure
// or an admission verdict turned into an RFC 9457 problem+json response with a stable type.
#pragma once

#include "admission/pipeline.hpp"
#include "domain/refusal.hpp"
#include "http/message.hpp"

#include <json/value.h>

#include <string_view>
#include <vector>

namespace psahost::api {

// not_found 404; invalid 422 with "errors": [{"field","message"}]; conflict and refused 409 with
// "prompt" when there is one; unavailable 503; failed 500; upstream 502.
http::Response to_problem(const domain::Refusal& refusal);

// A 404 problem for an object of this tenant that does not exist (or belongs to another).
http::Response not_found(std::string_view what, std::string_view id);

// A 422 problem listing each invalid field: errors is [{"field":..,"message":..}].
http::Response validation_failed(const Json::Value& errors, std::string_view detail = {});
// The same from a domain parser's field errors.
http::Response validation_failed(const std::vector<domain::FieldError>& errors);

// The problem for an admission denial: 409 with the plugin's type, reason and prompt.
http::Response refused(const admission::Verdict& verdict);

}  // namespace psahost::api
