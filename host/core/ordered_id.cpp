#include "core/ordered_id.hpp"

#include "core/crypto.hpp"

#include <chrono>
#include <cstdio>

namespace psahost {

std::string ordered_id(std::string_view prefix) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  char stamp[24];
  std::snprintf(stamp, sizeof stamp, "%013llx", static_cast<unsigned long long>(micros));
  return std::string(prefix) + "_" + stamp + crypto::random_token(6);
}

}  // namespace psahost
