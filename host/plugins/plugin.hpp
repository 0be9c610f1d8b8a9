// One loaded, initialised plugin: its manifest, and either its library and state (in-process,
// called on the hook pool) or its runner (a child process); the host API table it was given.
// Calls go through call(), which answers by the hook's deadline whatever the plugin does.
#pragma once

#include "plugins/host_calls.hpp"
#include "plugins/library.hpp"
#include "plugins/manifest.hpp"

#include <json/value.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct psa_host_context;

namespace psahost {
class Logger;
class Metrics;
namespace store {
class Store;
}
namespace net {
class HttpsClient;
}
namespace crypto {
class SecretBox;
}
}  // namespace psahost

namespace psahost::plugins {

class HookPool;
class ProcessRunner;
class RemoteHook;
struct RunnerSettings;

struct PluginEnv {
  const HostCalls& calls;
  store::Store* store;  // for the plugin's key/value store; null disables it
  Logger& log;
  Metrics* metrics;
  // Where in-process hooks run (the registry provides one). Without a pool a hook runs on the
  // caller's thread, with no deadline: only for tests of the ABI itself.
  HookPool* pool = nullptr;
  // Remote plugins: the client their hook calls go out on (with the host's address policy) and
  // the box their signing secrets are sealed in. Without either, a remote plugin's calls fail.
  net::HttpsClient* remote_client = nullptr;
  const crypto::SecretBox* secrets = nullptr;
};

struct HookResult {
  int32_t code = PSA_ERROR;
  Json::Value body;  // the plugin's answer, or {"error":{"message":...}}
  bool ok() const { return code == PSA_OK; }
  std::string error_message() const;
};

class Plugin : public std::enable_shared_from_this<Plugin> {
 public:
  // In-process: runs the library's init() with config; throws LoadError("init", ...) carrying
  // the plugin's own last error when it refuses to start.
  Plugin(Manifest manifest, std::shared_ptr<PluginLibrary> library, const Json::Value& config,
         PluginEnv env);
  // Process-isolated: starts a runner on library (a verified copy) and runs init there; throws
  // LoadError as the in-process constructor does.
  Plugin(Manifest manifest, const std::filesystem::path& library, const Json::Value& config,
         PluginEnv env, const RunnerSettings& runner);
  // Remote (isolation "remote"): hook calls are POSTed to the manifest's URL; no library, no
  // init, no host calls.
  Plugin(Manifest manifest, PluginEnv env);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const Manifest& manifest() const { return manifest_; }
  const std::string& id() const { return manifest_.id; }

  // Calls a hook and answers by its deadline (timeout 0: the manifest's timeout_ms). A late,
  // crashed or malformed answer becomes an error result; nothing the plugin does can throw here.
  HookResult call(std::string_view hook, const Json::Value& request,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  HookResult call_json(std::string_view hook, const std::string& request_json,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // Calls a hook without waiting for it: answer runs exactly once, by the deadline (timeout 0:
  // the manifest's timeout_ms), on a pool, runner or timer thread, or at once when the call
  // cannot start. answer must not block; it is how a request thread hands its plugin call off
  // and goes on serving others.
  using Answer = std::function<void(HookResult)>;
  void call_async(std::string_view hook, std::string request_json, Answer answer,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // For a pure hook whose caller needs many answers in a row, each request made from the answer
  // before: calls hook with first, then with next(request, answer) until count answers, an
  // error, or a null request; in-process, all on one pool thread, for one hand-off instead of
  // count. The whole sequence has one call's timeout; a sequence that misses it answers nothing
  // (and counts as a stuck call until it returns). Process-isolated and remote plugins answer
  // nothing here: their calls are made one by one as they are needed. Returns each request
  // (compact JSON, as call() sends it) with its answer.
  using NextRequest = std::function<Json::Value(const Json::Value& request, const HookResult&)>;
  std::vector<std::pair<std::string, HookResult>> call_sequence(std::string_view hook,
                                                                Json::Value first, NextRequest next,
                                                                std::size_t count);

  // "in_process", "process" or "remote": how it actually runs (configuration may force process).
  const char* isolation() const { return remote_ ? "remote" : runner_ ? "process" : "in_process"; }
  // Why the plugin is given up on (a runner out of restarts), or "".
  std::string failure() const;
  // Re-enabled: a failed runner gets a fresh restart budget.
  void reset();
  int restarts() const;
  // In-process calls past their deadline that have not returned yet.
  int stuck() const { return stuck_.load(std::memory_order_relaxed); }

  uint64_t call_count() const { return calls_.load(std::memory_order_relaxed); }
  uint64_t error_count() const { return errors_.load(std::memory_order_relaxed); }

 private:
  friend struct ::psa_host_context;
  Manifest manifest_;
  std::shared_ptr<PluginLibrary> library_;  // declared first: released last
  PluginEnv env_;
  std::unique_ptr<psa_host_context> context_;
  std::unique_ptr<psa_host_api> host_api_;
  psa_plugin_state* state_ = nullptr;
  std::unique_ptr<ProcessRunner> runner_;  // process isolation; stopped before the table goes
  std::unique_ptr<RemoteHook> remote_;     // remote isolation
  HookResult call_here(const std::string& hook, const std::string& request_json);
  void account(const std::string& hook, const HookResult& result,
               std::chrono::steady_clock::time_point started);
  void install_host_api();
  std::atomic<int> stuck_{0};
  std::atomic<uint64_t> calls_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace psahost::plugins
