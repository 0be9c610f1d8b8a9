// Structured JSON log lines on stderr, one object per line.
// Fields whose names look like secrets are redacted before anything is written.
#pragma once

#include <json/value.h>

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace psahost {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

class Logger {
 public:
  explicit Logger(LogLevel min_level = LogLevel::info, std::FILE* out = stderr);

  void log(LogLevel level, std::string_view message, const Json::Value& fields = {}) const;
  void debug(std::string_view m, const Json::Value& f = {}) const { log(LogLevel::debug, m, f); }
  void info(std::string_view m, const Json::Value& f = {}) const { log(LogLevel::info, m, f); }
  void warn(std::string_view m, const Json::Value& f = {}) const { log(LogLevel::warn, m, f); }
  void error(std::string_view m, const Json::Value& f = {}) const { log(LogLevel::error, m, f); }

  bool enabled(LogLevel level) const { return level >= min_level_; }

  // True for field names that may carry a secret (token, secret, password, authorization, key).
  static bool is_secret_field(std::string_view name);
  static std::optional<LogLevel> parse_level(std::string_view name);

 private:
  LogLevel min_level_;
  std::FILE* out_;
  mutable std::mutex mutex_;
};

}  // namespace psahost
