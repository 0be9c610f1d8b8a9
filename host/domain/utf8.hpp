// UTF-8 as stored text and manifests need it: jsoncpp passes invalid sequences through, so every
// reader of a JSON string checks it here before keeping it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace psahost::domain {

// The byte offset of the first sequence that is not UTF-8 (a stray continuation byte, a cut-off
// sequence, an overlong form, a UTF-16 surrogate, a code point past U+10FFFF), or nullopt.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) {
  return !find_invalid_utf8(text).has_value();
}

// Code points in valid UTF-8 (what JSON Schema's maxLength and people count, not bytes).
std::size_t code_points(std::string_view utf8);

}  // namespace psahost::domain
