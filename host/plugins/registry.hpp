// All plugins the host knows: loaded from manifests, each loaded, failed or disabled, with its
// last error. Lookups hand out shared_ptrs so a plugin outlives any call in progress.
#pragma once

#include "plugins/hook_pool.hpp"
#include "plugins/plugin.hpp"
#include "plugins/process_runner.hpp"
#include "plugins/signing.hpp"
#include "plugins/tenant_switches.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace psahost::plugins {

struct RegistryOptions {
  std::filesystem::path cache_dir;  // host-owned folder for verified library copies
  bool strict = false;              // any plugin failure is fatal (throws from load_directory)
  AbiVersion host_abi;
  // Plugins run in a child process whatever their manifest says (--isolate-plugins): ids, or
  // "all".
  std::vector<std::string> isolate = {};
  // The runner of process-isolated plugins: psahost itself (default: this executable).
  RunnerSettings runner = {};
  // Whose signatures make a plugin trusted, and which unsigned ones the partner lets in (those
  // always run in a runner). Unset: the keys shipped beside this executable and no unsigned
  // plugin (default_trust_policy()); every plugin's signature is checked either way.
  std::optional<TrustPolicy> trust = std::nullopt;
};

struct PluginInfo {
  std::string id;
  std::string name;
  std::string version;
  std::string kind;
  std::string state;  // loaded | failed | disabled
  std::string last_error;
  std::string isolation;  // in_process | process | remote (as it runs, after configuration)
  // trusted (signed by a trusted publisher key) | unsigned (let in by allow_unsigned_plugins) |
  // refused (see last_error) | unchecked (the manifest could not be read that far)
  std::string signature = "unchecked";
  std::string signature_key_id;  // the key the manifest says signed it, when it has one
  int restarts = 0;              // of its runner, since the host started
  bool runner_failed = false;    // failed because its runner ran out of restarts (enable retries)
  std::filesystem::path manifest_path;
  std::vector<std::string> hooks;
  uint64_t calls = 0;
  uint64_t errors = 0;
};

// Outcome of checking one manifest without keeping anything loaded (plugins verify).
struct VerifyResult {
  std::filesystem::path manifest_path;
  std::string id;
  std::vector<ManifestError> errors;    // empty = good
  std::string signature = "unchecked";  // as PluginInfo::signature
  std::string signature_key_id;
};

// What require() found for a capability.
struct Requirement {
  std::shared_ptr<Plugin> plugin;  // the one enabled plugin with it; null when none or several
  std::string disabled_id;         // a disabled plugin that has it, when none is enabled
  std::vector<std::string> enabled_ids;  // every enabled plugin with it (several: ambiguous)
};

class PluginRegistry {
 public:
  PluginRegistry(RegistryOptions options, PluginEnv env);
  ~PluginRegistry();

  // Loads every *.json manifest in dir, in name order. A plugin that fails is recorded as
  // failed, logged with its manifest and field, and skipped; with strict it throws instead.
  void load_directory(const std::filesystem::path& dir);
  // Loads one manifest; returns false (recording the failure) if it could not.
  bool load(const std::filesystem::path& manifest_path);

  struct ReloadResult {
    std::vector<std::string> loaded;    // new manifests, loaded
    std::vector<std::string> replaced;  // changed manifests, loaded again
    std::vector<std::string> removed;   // manifests gone, their plugins dropped
    std::vector<std::string> failed;    // new or changed manifests that did not load
  };
  // Brings the registry in line with manifests (every manifest the host should load now): a new
  // one loads, a plugin whose manifest is gone is dropped, a changed manifest (or a failed one)
  // is loaded again; an unchanged plugin is not touched. The trusted publisher keys are read
  // again from their folders first; when they changed, every plugin is checked and loaded again.
  // A call in flight keeps the plugin it holds until it returns. Never throws for a plugin,
  // whatever strict says.
  ReloadResult reload(const std::vector<std::filesystem::path>& manifests);

  // Full verification of a manifest and its library (loads a copy, runs init, unloads).
  VerifyResult verify(const std::filesystem::path& manifest_path) const;

  std::vector<PluginInfo> list() const;
  std::shared_ptr<Plugin> find(std::string_view id) const;  // loaded and enabled only
  // The manifest of a plugin in any state (loaded, disabled, or failed after its manifest was
  // read), or nullopt when no manifest has that id.
  std::optional<Manifest> manifest_of(std::string_view id) const;
  // Enabled plugins that review an admission operation / handle an event type, by id order.
  std::vector<std::shared_ptr<Plugin>> reviewers_of(std::string_view operation) const;
  std::vector<std::shared_ptr<Plugin>> subscribers_of(std::string_view event_type) const;
  std::vector<std::shared_ptr<Plugin>> all_enabled() const;
  // The plugin that provides a capability, named by the hook it handles ("command.approve",
  // "numbering.allocate"): features find their plugin by what it does, not by its id.
  Requirement require(std::string_view hook) const;

  // Returns false if no plugin has that id. Disabling keeps the library loaded.
  bool set_enabled(std::string_view id, bool enabled);
  // Records a runtime error against a plugin (shown in list()).
  void record_error(std::string_view id, const std::string& message);

  // Shutdown: takes no more hook calls and waits up to grace for in-process calls still
  // running. Returns how many are still running (stuck in a plugin) after it.
  std::size_t stop_calls(std::chrono::milliseconds grace);
  // Each tenant's own switches: a plugin acts for a tenant when it is enabled host-wide (above)
  // and that tenant did not switch it off.
  TenantSwitches& tenant_switches() { return tenant_switches_; }
  const TenantSwitches& tenant_switches() const { return tenant_switches_; }
  bool acts_for(std::string_view tenant_id, std::string_view id) const {
    return tenant_switches_.enabled_for(tenant_id, id);
  }

 private:
  struct Entry {
    Manifest manifest;  // may be partial for a failed manifest
    std::shared_ptr<Plugin> plugin;
    std::string state;
    std::string last_error;
    std::string signature = "unchecked";
    std::string signature_key_id;
    std::string digest;  // SHA-256 of the manifest file as loaded, to see it changed
  };
  // Checks the signature of the document a manifest was parsed from; throws LoadError.
  SignatureStatus check_trust(const Json::Value& document, const Manifest& manifest) const;
  std::shared_ptr<Plugin> instantiate(const Manifest& manifest, bool is_signed) const;
  Json::Value config_for(const Manifest& manifest) const;
  // A plugin that could not be loaded, logged; manifest is what could be read of it.
  Entry failed_entry(Manifest manifest, const std::string& message, std::string signature) const;
  // Reads, checks and instantiates one manifest (the entry is failed, with the reason, when
  // anything is refused). replacing: the manifest path whose plugin this one will replace, so
  // its id is not taken. failed_field: set to the field at fault when it failed.
  Entry make_entry(const std::filesystem::path& manifest_path,
                   const std::filesystem::path& replacing, std::string* failed_field) const;

  // Whether a manifest runs in a runner, by its own choice, the partner's configuration, or
  // because no trusted publisher signed it.
  bool runs_in_process_runner(const Manifest& manifest, bool is_signed) const;

  RegistryOptions options_;
  // Read again by reload(); under trust_mutex_, since verify() reads it from other threads.
  TrustPolicy trust_;
  mutable std::mutex trust_mutex_;
  TrustPolicy trust() const;
  std::unique_ptr<HookPool> pool_;  // before env_ and the entries, which use it
  PluginEnv env_;
  mutable std::shared_mutex mutex_;
  std::mutex reload_mutex_;  // one reload at a time (SIGHUP and the API)
  std::vector<Entry> entries_;
  TenantSwitches tenant_switches_;
};

// The *.json manifests directly in dir, in name order; none when dir does not exist.
std::vector<std::filesystem::path> manifests_in(const std::filesystem::path& dir);

// Appends each plugin's state, isolation and runner restarts in Prometheus text format (for
// /metrics): psahost_plugin_state{plugin,state,isolation} 1, psahost_plugin_runner_restarts_total.
void render_metrics(const PluginRegistry& registry, std::string& out);

}  // namespace psahost::plugins
