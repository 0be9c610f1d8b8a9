// The partner's console at /ui/: static files from the binary, served with their content type,
// an ETag, and headers that keep them from being framed, sniffed or running inline script.
#pragma once

#include "http/router.hpp"

namespace psahost::ui {

// GET /ui (redirects), /ui/ (index.html) and /ui/<asset>. Not part of the /v1 API, so the
// OpenAPI document does not describe them.
void add_console_routes(http::Router& router);

}  // namespace psahost::ui
