// A plugin run in a child process of its own (isolation "process"): the host's side of the
// runner. It starts `psahost plugin-runner`, checks its handshake, runs init, sends hook calls
// with request ids and serves the plugin's host calls; a crash fails the calls in flight and
// restarts the runner with backoff, until a budget of restarts per window runs out.
#pragma once

#include "plugins/manifest.hpp"

#include <psa/plugin_api.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace psahost {
class Logger;
}

namespace psahost::plugins {

class HookPool;
struct HookResult;

struct RunnerSettings {
  std::filesystem::path executable;  // psahost itself (the hidden plugin-runner command)
  int restart_budget = 5;            // restarts allowed per window before the plugin is failed
  std::chrono::seconds restart_window{60};
  int missed_deadlines_before_kill = 3;  // in a row
  std::chrono::milliseconds handshake_timeout{10000};
};

class ProcessRunner {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts the runner on library (a verified copy) and waits for its handshake and init.
  // host_api serves the plugin's host calls, with the same permission checks as in-process.
  // Throws LoadError (field "sdk", "id", "hooks" or "init") when the runner cannot start.
  ProcessRunner(const Manifest& manifest, std::filesystem::path library, std::string config_json,
                const psa_host_api* host_api, HookPool& pool, Logger& log, RunnerSettings settings);
  ~ProcessRunner();  // asks the runner to exit, and kills it after a short grace
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  // Sends one hook call; answer runs once, with the runner's answer (on its reader thread), a
  // failure, or a timeout at deadline (on the pool's timer thread). Never throws; answer must
  // not block. Several calls are in flight at once.
  void call_async(const std::string& hook, const std::string& request_json,
                  Clock::time_point deadline, std::function<void(HookResult)> answer);
  // The same, waiting for the answer. Never throws.
  HookResult call(const std::string& hook, const std::string& request_json,
                  Clock::time_point deadline);

  // Why the plugin was given up on (its restart budget ran out), or "".
  std::string failure() const;
  // Clears a failure and the restart budget; a failed runner is started again.
  void reset();
  int restarts() const;
  int pid() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace psahost::plugins
