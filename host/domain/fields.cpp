#include "domain/fields.hpp"

#include "domain/reference_data.hpp"
#include "domain/utf8.hpp"

#include <algorithm>

namespace psahost::domain {
namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

bool is_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  const int y = std::stoi(std::string(t.substr(0, 4)));
  const int m = std::stoi(std::string(t.substr(5, 2)));
  const int d = std::stoi(std::string(t.substr(8, 2)));
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + ((m == 2 && leap) ? 1 : 0);
}

std::optional<int64_t> positive_id(std::string_view text) {
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int64_t n = std::stoll(std::string(text));
  if (n < 1) return std::nullopt;
  return n;
}

std::string Fields::path(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

void Fields::error(std::string_view name, std::string message) {
  errors_.emplace_back(path(name), std::move(message));
}

Refusal Fields::to_refusal() const {
  std::vector<FieldError> fields;
  for (const auto& [field, message] : errors_) fields.push_back({field, message});
  return Refusal::invalid(std::move(fields));
}

Json::Value Fields::errors() const {
  Json::Value out(Json::arrayValue);
  for (const auto& [field, message] : errors_) {
    Json::Value e;
    e["field"] = field;
    e["message"] = message;
    out.append(e);
  }
  return out;
}

std::optional<std::string> Fields::text(std::string_view name, bool required, std::size_t max) {
  const Json::Value& v = body_[std::string(name)];
  if (v.isNull()) {
    if (required) error(name, "is required");
    return std::nullopt;
  }
  if (!v.isString()) {
    error(name, "expected a string");
    return std::nullopt;
  }
  std::string s = trim(v.asString());
  if (s.empty()) {
    if (required) error(name, "must not be empty");
    return required ? std::nullopt : std::optional<std::string>(s);
  }
  if (has_control(s)) {
    error(name, "must not contain control characters");
    return std::nullopt;
  }
  if (code_points(s) > max) {
    error(name, "must be at most " + std::to_string(max) + " characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Fields::non_empty(std::string_view name, bool required,
                                             std::size_t max) {
  auto s = text(name, required, max);
  if (s && s->empty()) {
    error(name, "must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Fields::one_of(std::string_view name, bool required,
                                          const std::vector<std::string>& allowed) {
  auto s = text(name, required);
  if (!s) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    error(name, "expected one of " + list);
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> Fields::integer(std::string_view name, bool required, int64_t min,
                                       int64_t max) {
  const Json::Value& v = body_[std::string(name)];
  if (v.isNull()) {
    if (required) error(name, "is required");
    return std::nullopt;
  }
  if (!v.isIntegral() || !v.isInt64()) {
    error(name, "expected a whole number");
    return std::nullopt;
  }
  const int64_t n = v.asInt64();
  if (n < min || n > max) {
    error(name, "must be from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> Fields::boolean(std::string_view name, bool required) {
  const Json::Value& v = body_[std::string(name)];
  if (v.isNull()) {
    if (required) error(name, "is required");
    return std::nullopt;
  }
  if (!v.isBool()) {
    error(name, "expected true or false");
    return std::nullopt;
  }
  return v.asBool();
}

std::optional<std::string> Fields::date(std::string_view name, bool required) {
  auto s = text(name, required, 10);
  if (!s) return std::nullopt;
  if (!is_date(*s)) {
    error(name, "expected a date as YYYY-MM-DD");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Fields::currency(std::string_view name, bool required) {
  auto s = text(name, required, 3);
  if (!s) return std::nullopt;
  std::string upper = *s;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  if (!domain::currency_exponent(upper)) {
    error(name, "expected an ISO 4217 currency code such as EUR or USD");
    return std::nullopt;
  }
  return upper;
}

void Fields::only(const std::vector<std::string>& allowed) {
  if (!body_.isObject()) return;
  for (const auto& name : body_.getMemberNames()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      error(name, "is not a known field");
    }
  }
}

}  // namespace psahost::domain
