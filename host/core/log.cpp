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

Logger::Logger(LogLevel min_level, std::FILE* out, unsigned lines_per_second)
    : min_level_(min_level), out_(out), lines_per_second_(lines_per_second) {}

bool Logger::admit(std::string_view message, uint64_t* suppressed) const {
  *suppressed = 0;
  if (lines_per_second_ == 0) return true;
  const auto now = std::chrono::steady_clock::now();
  // Messages are a fixed set of texts; should that ever not hold, forget them all rather than
  // grow without bound.
  if (causes_.size() > 4096) causes_.clear();
  Cause& c = causes_[std::string(message)];
  if (now - c.window >= std::chrono::seconds(1)) {
    c.window = now;
    c.written = 0;
  }
  if (c.written >= lines_per_second_) {
    ++c.suppressed;
    return false;
  }
  ++c.written;
  *suppressed = c.suppressed;
  c.suppressed = 0;
  return true;
}

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
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(mutex_);
    if (!admit(message, &suppressed)) return;
  }
  Json::Value line = redacted(fields.isObject() ? fields : Json::Value(Json::objectValue));
  line["ts"] = now_rfc3339();
  line["level"] = level_name(level);
  line["msg"] = std::string(message);
  if (suppressed > 0) line["suppressed"] = static_cast<Json::UInt64>(suppressed);
  const std::string text = psa::json::write(line) + "\n";
  std::lock_guard lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace psahost
