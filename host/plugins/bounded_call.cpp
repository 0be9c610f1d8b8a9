#include "plugins/bounded_call.hpp"

#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace psahost::plugins {

// Shared with the threads of calls still running, which may outlive the BoundedCalls.
struct BoundedCalls::State {
  std::mutex mutex;
  std::map<std::string, int, std::less<>> stuck;  // calls past their deadline, by plugin
};

std::shared_ptr<BoundedCalls::State> BoundedCalls::make_state() {
  return std::make_shared<State>();
}

int BoundedCalls::stuck(std::string_view plugin_id) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->stuck.find(plugin_id);
  return it == state_->stuck.end() ? 0 : it->second;
}

HookResult BoundedCalls::call(const std::shared_ptr<Plugin>& plugin, std::string_view hook,
                              const Json::Value& request, std::chrono::milliseconds timeout) {
  const std::string id = plugin->id();
  if (timeout.count() <= 0) timeout = std::chrono::milliseconds(plugin->manifest().timeout_ms);
  if (const int n = stuck(id); n >= max_stuck_) {
    HookResult refused;
    refused.code = PSA_ERROR;
    refused.body["error"]["message"] = std::to_string(n) + " earlier calls to " + id +
                                       " never returned; it gets no more until they do";
    return refused;
  }
  struct Call {
    std::promise<HookResult> done;
    bool abandoned = false;  // guarded by State::mutex
  };
  auto shared = std::make_shared<Call>();
  auto future = shared->done.get_future();
  // The thread holds the plugin: its library stays loaded until the call returns.
  std::thread([plugin, hook = std::string(hook), request, shared, state = state_, id] {
    HookResult result = plugin->call(hook, request);
    std::lock_guard lock(state->mutex);
    if (shared->abandoned) {
      if (--state->stuck[id] <= 0) state->stuck.erase(id);
      return;
    }
    shared->done.set_value(std::move(result));
  }).detach();

  if (future.wait_for(timeout) == std::future_status::ready) return future.get();
  std::lock_guard lock(state_->mutex);
  // The call may have finished between the wait and the lock.
  if (future.wait_for(std::chrono::seconds(0)) == std::future_status::ready) return future.get();
  shared->abandoned = true;
  ++state_->stuck[id];
  HookResult late;
  late.code = PSA_ERROR;
  late.body["error"]["message"] = std::string(hook) + " timed out after " +
                                  std::to_string(timeout.count()) + " ms (the plugin's timeout_ms)";
  return late;
}

}  // namespace psahost::plugins
