// Text as the external systems give it: a string member or nothing, lower case for names that
// differ only in case, text made fit for a field of ours or theirs, and percent-encoding for a
// query value.
#pragma once

#include <psa/sdk.hpp>

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

namespace connectors {

// A string member as it is; "" for anything else (absent, null, a number).
inline std::string text(const Json::Value& v) {
  return v.isString() ? v.asString() : std::string();
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Free text as it may go into another system's record: without control characters, which no
// invoice or address needs and which some systems refuse.
inline std::string clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7F) out += c;
  }
  return out;
}

// Text fit for a field of at most max characters: control characters (line breaks in notes)
// become spaces, the ends are trimmed and the rest cut at a character boundary.
inline std::string clean_text(const std::string& s, std::size_t max) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  out.erase(0, first);
  out.erase(out.find_last_not_of(' ') + 1);
  std::size_t chars = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if ((static_cast<unsigned char>(out[i]) & 0xC0) == 0x80) continue;
    if (++chars > max) {
      out.resize(i);
      out.erase(out.find_last_not_of(' ') + 1);
      break;
    }
  }
  return out;
}

// RFC 3986 percent-encoding of everything but the unreserved characters, for a query value.
inline std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace connectors
