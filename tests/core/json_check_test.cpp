#include "core/json_check.hpp"

#include <catch2/catch.hpp>

#include <string>

using psahost::is_json;

TEST_CASE("is_json accepts every kind of JSON document", "[json]") {
  for (const char* doc :
       {"{}", "[]", "0", "-0", "1.5e-3", "-12E+4", "\"\"", "true", "false", "null",
        " {\"a\": [1, 2, {\"b\": null}], \"c\": \"x\\\"y\\\\z\\u00e9\\n\"} ",
        "[\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"]", "{\"events\":[],\"entropy\":\"QWERTY\"}"}) {
    INFO(doc);
    CHECK(is_json(doc));
  }
}

TEST_CASE("is_json refuses what is not exactly one JSON document", "[json]") {
  for (const char* doc : {"",
                          " ",
                          "{",
                          "}",
                          "[1,]",
                          "{\"a\":1,}",
                          "{a:1}",
                          "{\"a\" 1}",
                          "01",
                          "1.",
                          ".5",
                          "+1",
                          "1e",
                          "tru",
                          "nul",
                          "\"open",
                          "\"bad \\x escape\"",
                          "\"\\u12G4\"",
                          "{} {}",
                          "[1] x",
                          "NaN",
                          "Infinity",
                          "'single'",
                          "{\"a\":1}\x01"}) {
    INFO(doc);
    CHECK_FALSE(is_json(doc));
  }
  CHECK_FALSE(is_json(std::string("\"a\0b\"", 5)));  // raw control character
  CHECK_FALSE(is_json("\"\xC3\""));                  // cut UTF-8
  CHECK_FALSE(is_json("\"\xC0\xAF\""));              // overlong
  CHECK_FALSE(is_json("\"\xED\xA0\x80\""));          // a surrogate
  CHECK_FALSE(is_json("\"\xF4\x90\x80\x80\""));      // beyond U+10FFFF
}

TEST_CASE("is_json bounds nesting", "[json]") {
  CHECK(is_json(std::string(200, '[') + std::string(200, ']')));
  CHECK_FALSE(is_json(std::string(300, '[') + std::string(300, ']')));
  CHECK_FALSE(is_json(std::string(100000, '[')));  // no stack overflow either
}

TEST_CASE("is_unicode_json refuses escaped surrogates that are not a pair", "[json]") {
  using psahost::is_unicode_json;
  CHECK(is_unicode_json(R"({"a":"\ud83d\ude00 and \u00e9"})", 64));
  CHECK(is_unicode_json(R"("\uD83D\uDE00")", 64));
  CHECK_FALSE(is_unicode_json(R"("\ud800")", 64));
  CHECK_FALSE(is_unicode_json(R"("\udc00")", 64));
  CHECK_FALSE(is_unicode_json(R"("\ud800\u0041")", 64));
  CHECK_FALSE(is_unicode_json(R"("\ud800x")", 64));
  CHECK_FALSE(is_unicode_json(R"("\ud83d\ud83d")", 64));
  CHECK_FALSE(is_unicode_json("\"\xED\xA0\x80\"", 64));
  CHECK_FALSE(is_unicode_json(R"({"a":1,})", 64));
  CHECK_FALSE(is_unicode_json(R"({"a":1 /* no */})", 64));
  CHECK_FALSE(is_unicode_json(std::string(65, '[') + std::string(65, ']'), 64));
  // is_json itself keeps accepting them: inbound webhooks are stored as sent.
  CHECK(psahost::is_json(R"("\ud800")"));
}
