#include "core/log.hpp"

#include "core/clock.hpp"

#include <psa/sdk.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>

namespace psahost {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

Json::Value redacted(const Json::Value& v) {
  if (!v.isObject()) return v;
  Json::Value out(Json::objectValue);
  for (const auto& name : v.getMemberNames()) {
    out[name] = Logger::is_secret_field(name) ? Json::Value("[redacted]") : redacted(v[name]);
  }
  return out;
}

}  // namespace

Logger::Logger(LogLevel min_level, std::FILE* out) : min_level_(min_level), out_(out) {}

bool Logger::is_secret_field(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"secret", "token", "password", "authorization", "key", "signature"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

std::optional<LogLevel> Logger::parse_level(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warn") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  return std::nullopt;
}

void Logger::log(LogLevel level, std::string_view message, const Json::Value& fields) const {
  if (!enabled(level)) return;
  Json::Value line = redacted(fields.isObject() ? fields : Json::Value(Json::objectValue));
  line["ts"] = now_rfc3339();
  line["level"] = level_name(level);
  line["msg"] = std::string(message);
  const std::string text = psa::json::write(line) + "\n";
  std::lock_guard lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace psahost
