#include "domain/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>

using psahost::domain::code_points;
using psahost::domain::find_invalid_utf8;
using psahost::domain::is_valid_utf8;

TEST_CASE("valid UTF-8 of every length is accepted and counted by code point", "[utf8]") {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a, é, €, 😀
  CHECK(is_valid_utf8(text));
  CHECK(code_points(text) == 4);
  CHECK(is_valid_utf8(""));
  CHECK(code_points("") == 0);
}

TEST_CASE("the first invalid sequence is found by its byte offset", "[utf8]") {
  CHECK(find_invalid_utf8("ok\x80") == 2u);            // a stray continuation byte
  CHECK(find_invalid_utf8("\xC3") == 0u);              // cut off
  CHECK(find_invalid_utf8("ab\xC3(") == 2u);           // a lead without its continuation
  CHECK(find_invalid_utf8("\xC0\xAF") == 0u);          // overlong '/'
  CHECK(find_invalid_utf8("x\xED\xA0\x80") == 1u);     // a UTF-16 surrogate
  CHECK(find_invalid_utf8("\xF4\x90\x80\x80") == 0u);  // past U+10FFFF
  CHECK(find_invalid_utf8("\xFF") == 0u);              // never a lead byte
  CHECK_FALSE(find_invalid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF itself
  CHECK_FALSE(find_invalid_utf8("\xEF\xBF\xBD"));      // U+FFFD
}
