#include "api/client_queries.hpp"

#include <chrono>
#include <ctime>

namespace psahost::api {

std::string today() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace psahost::api
