// One loaded, initialised plugin: its manifest, its library and its state, and the host API
// table it was given. Calls go through call(); the state is destroyed before the library goes.
#pragma once

#include "plugins/host_calls.hpp"
#include "plugins/library.hpp"
#include "plugins/manifest.hpp"

#include <json/value.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

struct psa_host_context;

namespace psahost {
class Logger;
class Metrics;
namespace store {
class Store;
}
}  // namespace psahost

namespace psahost::plugins {

struct PluginEnv {
  const HostCalls& calls;
  store::Store* store;  // for the plugin's key/value store; null disables it
  Logger& log;
  Metrics* metrics;
};

struct HookResult {
  int32_t code = PSA_ERROR;
  Json::Value body;  // the plugin's answer, or {"error":{"message":...}}
  bool ok() const { return code == PSA_OK; }
  std::string error_message() const;
};

class Plugin {
 public:
  // Runs the library's init() with config; throws LoadError("init", ...) carrying the
  // plugin's own last error when it refuses to start.
  Plugin(Manifest manifest, std::shared_ptr<PluginLibrary> library, const Json::Value& config,
         PluginEnv env);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const Manifest& manifest() const { return manifest_; }
  const std::string& id() const { return manifest_.id; }

  // Calls a hook. Malformed JSON from the plugin is turned into an error result; nothing the
  // plugin returns can throw here.
  HookResult call(std::string_view hook, const Json::Value& request);
  HookResult call_json(std::string_view hook, const std::string& request_json);

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
  std::atomic<uint64_t> calls_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace psahost::plugins
