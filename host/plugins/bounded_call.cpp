#include "plugins/bounded_call.hpp"

#include <psa/sdk.hpp>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace psahost::plugins {

// Shared with worker threads, which may outlive the BoundedCalls when a call never returns.
struct BoundedCalls::State {
  std::mutex mutex;
  std::map<std::string, int, std::less<>> stuck;  // calls past their deadline, by plugin
};

// One thread that runs the calls handed to it, one at a time. It stays for the next call, so a
// call costs a hand-over rather than a new thread. When a call runs past its deadline the
// worker is abandoned: it finishes that call (nothing can stop it), reports its return, and ends.
class BoundedCalls::Worker {
 public:
  Worker() : shared_(std::make_shared<Shared>()) {
    std::thread([shared = shared_] {
      std::unique_lock lock(shared->mutex);
      for (;;) {
        shared->changed.wait(lock, [&] { return shared->job || shared->abandoned; });
        if (!shared->job) return;  // abandoned while idle
        auto job = std::move(shared->job);
        shared->job = nullptr;
        lock.unlock();
        HookResult result = job();
        lock.lock();
        if (shared->abandoned) {
          if (shared->late_return) shared->late_return();
          return;
        }
        shared->result = std::move(result);
        shared->changed.notify_all();
      }
    }).detach();
  }
  ~Worker() {
    std::lock_guard lock(shared_->mutex);
    shared_->abandoned = true;
    shared_->changed.notify_all();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs job and returns its result, or, after timeout, calls abandon() and returns nullopt;
  // late_return runs on the worker's thread if the job comes back after all.
  std::optional<HookResult> run(std::function<HookResult()> job, std::chrono::milliseconds timeout,
                                const std::function<void()>& abandon,
                                std::function<void()> late_return) {
    std::unique_lock lock(shared_->mutex);
    shared_->result.reset();
    shared_->job = std::move(job);
    shared_->changed.notify_all();
    if (shared_->changed.wait_for(lock, timeout, [&] { return shared_->result.has_value(); })) {
      auto result = std::move(shared_->result);
      shared_->result.reset();
      return result;
    }
    shared_->abandoned = true;
    shared_->late_return = std::move(late_return);
    abandon();
    return std::nullopt;
  }

 private:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::function<HookResult()> job;
    std::optional<HookResult> result;
    bool abandoned = false;
    std::function<void()> late_return;
  };
  std::shared_ptr<Shared> shared_;
};

std::shared_ptr<BoundedCalls::State> BoundedCalls::make_state() {
  return std::make_shared<State>();
}

BoundedCalls::BoundedCalls(int max_stuck_per_plugin) : max_stuck_(max_stuck_per_plugin) {}

BoundedCalls::~BoundedCalls() = default;

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
  std::lock_guard serial(call_mutex_);
  if (!worker_) worker_ = std::make_unique<Worker>();
  // The job holds the plugin: its library stays loaded until the call returns, even abandoned.
  auto result = worker_->run(
      [plugin, hook = std::string(hook), text = psa::json::write(request)] {
        return plugin->call_json(hook, text);
      },
      timeout,
      [this, &id] {
        std::lock_guard lock(state_->mutex);
        ++state_->stuck[id];
      },
      [state = state_, id] {
        std::lock_guard lock(state->mutex);
        if (auto it = state->stuck.find(id); it != state->stuck.end() && --it->second <= 0) {
          state->stuck.erase(it);
        }
      });
  if (result) return std::move(*result);
  worker_.reset();  // the next call gets a new worker
  HookResult late;
  late.code = PSA_ERROR;
  late.body["error"]["message"] = std::string(hook) + " timed out after " +
                                  std::to_string(timeout.count()) + " ms (the plugin's timeout_ms)";
  return late;
}

}  // namespace psahost::plugins
