#include "store/json_column.hpp"

#include "store/store.hpp"

#include <psa/sdk.hpp>

namespace psahost::store {

std::string to_text(const Json::Value& v) {
  return psa::json::write(v);
}

Json::Value from_text(const std::string& text) {
  Json::Value v;
  std::string errors;
  if (!psa::json::reader().parse(text.data(), text.data() + text.size(), &v, &errors)) {
    throw StoreError("stored JSON is malformed: " + errors);
  }
  return v;
}

}  // namespace psahost::store
