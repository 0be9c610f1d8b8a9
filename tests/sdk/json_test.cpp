// The SDK's compact JSON writer must produce exactly what jsoncpp's own writer does (with
// indentation "" and UTF-8 kept), since both sides of the plugin boundary rely on it.
#include <psa/sdk.hpp>

#include <catch2/catch.hpp>

#include <limits>

namespace {

std::string jsoncpp_write(const Json::Value& v) {
  Json::StreamWriterBuilder b;
  b["indentation"] = "";
  b["emitUTF8"] = true;
  return Json::writeString(b, v);
}

}  // namespace

TEST_CASE("the SDK writer matches jsoncpp's compact output", "[sdk][json]") {
  Json::Value v;
  v["text"] = "plain";
  v["escapes"] = std::string("quote \" backslash \\ newline \n tab \t cr \r bell \x07 nul ") +
                 std::string(1, '\0') + " end";
  v["utf8"] = "Café Zürich 東京 \xF0\x9F\x92\xB6";
  v["int_min"] = Json::Int64(std::numeric_limits<int64_t>::min());
  v["int_max"] = Json::Int64(std::numeric_limits<int64_t>::max());
  v["uint_max"] = Json::UInt64(std::numeric_limits<uint64_t>::max());
  v["negative"] = -42;
  v["zero"] = 0;
  v["true"] = true;
  v["false"] = false;
  v["null"] = Json::nullValue;
  v["empty_object"] = Json::Value(Json::objectValue);
  v["empty_array"] = Json::Value(Json::arrayValue);
  v["nested"]["list"].append(1);
  v["nested"]["list"].append("two");
  v["nested"]["list"].append(Json::Value(Json::objectValue));
  v["nested"]["a key with \"quotes\""] = "x";
  const std::string ours = psa::json::write(v);
  CHECK(ours == jsoncpp_write(v));
  CHECK(psa::json::parse(ours) == v);
}

TEST_CASE("the SDK writer escapes every control character", "[sdk][json]") {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all += static_cast<char>(c);
  const std::string out = psa::json::write(Json::Value(all));
  for (char c : out) CHECK(static_cast<unsigned char>(c) >= 0x20);
  CHECK(psa::json::parse(out).asString() == all);
}

TEST_CASE("malformed JSON is a HookError with PSA_INVALID_ARGUMENT", "[sdk][json]") {
  try {
    psa::json::parse("{\"a\":");
    FAIL("no exception");
  } catch (const psa::HookError& e) {
    CHECK(e.code() == PSA_INVALID_ARGUMENT);
  }
}
