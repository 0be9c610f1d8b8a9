// Whether bytes are one JSON document (RFC 8259, UTF-8), checked without building it: the
// inbound path must refuse what is not JSON before storing it, and needs nothing else from it.
#pragma once

#include <cstddef>
#include <string_view>

namespace psahost {

// True for exactly one JSON value surrounded by optional whitespace; strings must be valid UTF-8
// (no surrogates, no overlong forms) and nesting at most max_depth deep.
bool is_json(std::string_view text, std::size_t max_depth = 256);

// is_json, and every \u escape of a surrogate is one half of a pair: text that decodes to
// valid Unicode only, as the REST API stores and serves it.
bool is_unicode_json(std::string_view text, std::size_t max_depth);

}  // namespace psahost
