// Checks on the problem+json answers the API gives for refusals and bad input.
#pragma once

#include "support/https_client.hpp"

#include <string>

namespace psahost::test {

// "urn:psahost:problem:" + slug, the full type a problem carries.
std::string urn(const std::string& slug);

// REQUIREs the status, and CHECKs the content type and the problem type slug.
void require_problem(const HttpResponse& r, int status, const std::string& slug);

// Whether a 422's errors name the field ("period", "lines[0].quantity").
bool names_field(const HttpResponse& r, const std::string& field);

}  // namespace psahost::test
