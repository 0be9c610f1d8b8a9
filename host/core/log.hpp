// Structured JSON log lines on stderr, one object per line.
// Fields whose names look like secrets are redacted before anything is written. Each message
// (one cause) writes at most lines_per_second lines a second; the next line written for it
// says how many were left out ("suppressed"), so a flood cannot fill the disk.
#pragma once

#include <json/value.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace psahost {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

class Logger {
 public:
  explicit Logger(LogLevel min_level = LogLevel::info, std::FILE* out = stderr,
                  unsigned lines_per_second = 20);

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
  struct Cause {
    std::chrono::steady_clock::time_point window;
    unsigned written = 0;
    uint64_t suppressed = 0;
  };
  // Whether a line of this message may be written now; sets *suppressed to the count of its
  // lines left out before. Called with mutex_ held.
  bool admit(std::string_view message, uint64_t* suppressed) const;

  LogLevel min_level_;
  std::FILE* out_;
  unsigned lines_per_second_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, Cause> causes_;
};

}  // namespace psahost
