// Calls a plugin hook with a deadline. In-process hooks cannot be interrupted, so the call runs
// on its own thread and the caller stops waiting at the manifest's timeout_ms; a plugin with
// several calls that never came back gets no more until they do, so a hanging connector costs
// a few threads, not the host.
#pragma once

#include "plugins/plugin.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace psahost::plugins {

// Calls are made one at a time (callers on several threads take turns), on a worker thread that
// is kept between calls.
class BoundedCalls {
 public:
  explicit BoundedCalls(int max_stuck_per_plugin = 4);
  ~BoundedCalls();
  BoundedCalls(const BoundedCalls&) = delete;
  BoundedCalls& operator=(const BoundedCalls&) = delete;

  // The hook's result, or an error result ("timed out after N ms", "N earlier calls never
  // returned") when it did not answer within timeout (0 = the manifest's timeout_ms).
  HookResult call(const std::shared_ptr<Plugin>& plugin, std::string_view hook,
                  const Json::Value& request,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  int stuck(std::string_view plugin_id) const;

 private:
  struct State;
  class Worker;
  int max_stuck_;
  std::shared_ptr<State> state_ = make_state();
  static std::shared_ptr<State> make_state();
  std::mutex call_mutex_;
  std::unique_ptr<Worker> worker_;
};

}  // namespace psahost::plugins
