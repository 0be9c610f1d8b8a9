#include "core/json_text.hpp"

#include <psa/sdk.hpp>

namespace psahost {

void JsonText::separate() {
  if (comma_) out_ += ',';
}

JsonText& JsonText::begin_object() {
  separate();
  out_ += '{';
  comma_ = false;
  return *this;
}

JsonText& JsonText::end_object() {
  out_ += '}';
  comma_ = true;
  return *this;
}

JsonText& JsonText::begin_array() {
  separate();
  out_ += '[';
  comma_ = false;
  return *this;
}

JsonText& JsonText::end_array() {
  out_ += ']';
  comma_ = true;
  return *this;
}

JsonText& JsonText::key(std::string_view name) {
  separate();
  // The escaping of the SDK's writer, so both write the same text for the same string.
  psa::json::detail::write_string(out_, name.data(), name.data() + name.size());
  out_ += ':';
  comma_ = false;
  return *this;
}

JsonText& JsonText::str(std::string_view value) {
  separate();
  psa::json::detail::write_string(out_, value.data(), value.data() + value.size());
  comma_ = true;
  return *this;
}

JsonText& JsonText::num(int64_t value) {
  separate();
  out_ += std::to_string(value);
  comma_ = true;
  return *this;
}

JsonText& JsonText::boolean(bool value) {
  separate();
  out_ += value ? "true" : "false";
  comma_ = true;
  return *this;
}

JsonText& JsonText::null() {
  separate();
  out_ += "null";
  comma_ = true;
  return *this;
}

JsonText& JsonText::raw(std::string_view json) {
  separate();
  out_ += json;
  comma_ = true;
  return *this;
}

}  // namespace psahost
