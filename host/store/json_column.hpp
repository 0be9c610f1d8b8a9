// JSON kept in a text column (billing info, event payloads, inbox bodies): written compact, and
// read back strictly, since a stored document that no longer parses is a broken store.
#pragma once

#include <json/value.h>

#include <string>

namespace psahost::store {

std::string to_text(const Json::Value& v);
// Throws StoreError when the text is not JSON.
Json::Value from_text(const std::string& text);

}  // namespace psahost::store
