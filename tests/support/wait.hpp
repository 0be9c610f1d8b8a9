// Waiting in tests for something the host does in the background: poll a condition with a bound
// that only stops a hang, never a timing assertion.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace psahost::test {

inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10),
                       std::chrono::milliseconds every = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

}  // namespace psahost::test
