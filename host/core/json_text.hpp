// Compact JSON written straight into a string, for documents too large or too many to build as a
// Json::Value first: an invoice with its lines is written once for each invoice a run issues.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace psahost {

class JsonText {
 public:
  JsonText& begin_object();
  JsonText& end_object();
  JsonText& begin_array();
  JsonText& end_array();
  JsonText& key(std::string_view name);
  JsonText& str(std::string_view value);
  JsonText& num(int64_t value);
  JsonText& boolean(bool value);
  JsonText& null();
  // A value that is JSON already (as the store keeps a client's snapshot); not checked.
  JsonText& raw(std::string_view json);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }
  void reserve(std::size_t bytes) { out_.reserve(bytes); }

 private:
  void separate();
  std::string out_;
  bool comma_ = false;  // the next member or element follows another
};

}  // namespace psahost
