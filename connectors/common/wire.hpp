// What the accounting connectors share on the wire: request bodies with exact decimal numbers,
// record ids fit for a URL path, and ISO 3166 country codes from the free text a system keeps in
// an address (text.hpp has the rest: clean(), url_encode()).
#pragma once

#include <psa/sdk.hpp>

#include "text.hpp"

#include <cctype>
#include <string>
#include <string_view>

namespace connectors {

namespace detail {
// Marks a string member as a number to be written as its digits. Text copied into a body goes
// through clean(), which drops control characters, so no copied text can carry the mark.
inline constexpr std::string_view kDecimalTag =
    "\x01"
    "decimal:";

inline bool is_decimal(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  const auto dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  const auto digits = [](std::string_view d) {
    for (const char c : d) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  return !whole.empty() && digits(whole) && digits(fraction) &&
         (dot == std::string_view::npos || !fraction.empty());
}

inline void write(std::string& out, const Json::Value& v) {
  if (v.isString()) {
    const char* begin = nullptr;
    const char* end = nullptr;
    v.getString(&begin, &end);
    const std::string_view s(begin, static_cast<std::size_t>(end - begin));
    if (s.starts_with(kDecimalTag) && is_decimal(s.substr(kDecimalTag.size()))) {
      out += s.substr(kDecimalTag.size());
      return;
    }
    psa::json::append_string(out, s);
  } else if (v.isArray()) {
    out += '[';
    for (Json::ArrayIndex i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      write(out, v[i]);
    }
    out += ']';
  } else if (v.isObject()) {
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ',';
      first = false;
      psa::json::append_string(out, it.name());
      out += ':';
      write(out, *it);
    }
    out += '}';
  } else {
    out += psa::json::write(v);
  }
}
}  // namespace detail

// A number member written exactly as text ("129.00"), for amounts and quantities.
inline Json::Value decimal(const std::string& text) {
  return Json::Value(std::string(detail::kDecimalTag) + text);
}

// The body as JSON text, decimal() members as numbers.
inline std::string json_body(const Json::Value& body) {
  std::string out;
  detail::write(out, body);
  return out;
}

// An id from a payload, fit to be one segment of a URL path: it names a record, never a place.
inline bool is_record_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// The ISO 3166-1 alpha-2 code for what an address names as its country: a code already, an
// alpha-3 code or an English name of a country these systems are sold in; "" when not known, so
// that billing info keeps what it has instead of taking a value it would refuse.
inline std::string country_code(std::string_view text) {
  std::string t;
  for (const char c : text) {
    if (c != '.') t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(0, 1);
  if (t.size() == 2 && std::isalpha(static_cast<unsigned char>(t[0])) &&
      std::isalpha(static_cast<unsigned char>(t[1]))) {
    return t == "UK" ? "GB" : t;
  }
  struct Name {
    std::string_view text, code;
  };
  static constexpr Name kNames[] = {{"USA", "US"},
                                    {"UNITED STATES", "US"},
                                    {"UNITED STATES OF AMERICA", "US"},
                                    {"GBR", "GB"},
                                    {"UNITED KINGDOM", "GB"},
                                    {"GREAT BRITAIN", "GB"},
                                    {"ENGLAND", "GB"},
                                    {"SCOTLAND", "GB"},
                                    {"WALES", "GB"},
                                    {"NORTHERN IRELAND", "GB"},
                                    {"CAN", "CA"},
                                    {"CANADA", "CA"},
                                    {"AUS", "AU"},
                                    {"AUSTRALIA", "AU"},
                                    {"NZL", "NZ"},
                                    {"NEW ZEALAND", "NZ"},
                                    {"IRL", "IE"},
                                    {"IRELAND", "IE"},
                                    {"NLD", "NL"},
                                    {"NETHERLANDS", "NL"},
                                    {"THE NETHERLANDS", "NL"},
                                    {"BEL", "BE"},
                                    {"BELGIUM", "BE"},
                                    {"DEU", "DE"},
                                    {"GERMANY", "DE"},
                                    {"FRA", "FR"},
                                    {"FRANCE", "FR"},
                                    {"ESP", "ES"},
                                    {"SPAIN", "ES"},
                                    {"ITA", "IT"},
                                    {"ITALY", "IT"},
                                    {"ZAF", "ZA"},
                                    {"SOUTH AFRICA", "ZA"},
                                    {"SGP", "SG"},
                                    {"SINGAPORE", "SG"},
                                    {"IND", "IN"},
                                    {"INDIA", "IN"},
                                    {"HKG", "HK"},
                                    {"HONG KONG", "HK"},
                                    {"MEX", "MX"},
                                    {"MEXICO", "MX"},
                                    {"BRA", "BR"},
                                    {"BRAZIL", "BR"},
                                    {"CHE", "CH"},
                                    {"SWITZERLAND", "CH"},
                                    {"AUT", "AT"},
                                    {"AUSTRIA", "AT"},
                                    {"SWE", "SE"},
                                    {"SWEDEN", "SE"},
                                    {"DNK", "DK"},
                                    {"DENMARK", "DK"},
                                    {"NOR", "NO"},
                                    {"NORWAY", "NO"},
                                    {"PRT", "PT"},
                                    {"PORTUGAL", "PT"},
                                    {"POL", "PL"},
                                    {"POLAND", "PL"}};
  for (const auto& n : kNames) {
    if (n.text == t) return std::string(n.code);
  }
  return "";
}

}  // namespace connectors
