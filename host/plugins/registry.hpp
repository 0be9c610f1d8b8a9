// All plugins the host knows: loaded from manifests, each loaded, failed or disabled, with its
// last error. Lookups hand out shared_ptrs so a plugin outlives any call in progress.
#pragma once

#include "plugins/plugin.hpp"
#include "plugins/tenant_switches.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace psahost::plugins {

struct RegistryOptions {
  std::filesystem::path cache_dir;  // host-owned folder for verified library copies
  bool strict = false;              // any plugin failure is fatal (throws from load_directory)
  AbiVersion host_abi;
};

struct PluginInfo {
  std::string id;
  std::string name;
  std::string version;
  std::string kind;
  std::string state;  // loaded | failed | disabled
  std::string last_error;
  std::filesystem::path manifest_path;
  std::vector<std::string> hooks;
  uint64_t calls = 0;
  uint64_t errors = 0;
};

// Outcome of checking one manifest without keeping anything loaded (plugins verify).
struct VerifyResult {
  std::filesystem::path manifest_path;
  std::string id;
  std::vector<ManifestError> errors;  // empty = good
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

  // Returns false if no plugin has that id. Disabling keeps the library loaded.
  bool set_enabled(std::string_view id, bool enabled);
  // Records a runtime error against a plugin (shown in list()).
  void record_error(std::string_view id, const std::string& message);

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
  };
  std::shared_ptr<Plugin> instantiate(const Manifest& manifest) const;
  Json::Value config_for(const Manifest& manifest) const;
  // Records a plugin that could not be loaded; manifest is what could be read of it.
  void record_failure(Manifest manifest, const std::string& message);

  RegistryOptions options_;
  PluginEnv env_;
  mutable std::shared_mutex mutex_;
  std::vector<Entry> entries_;
  TenantSwitches tenant_switches_;
};

}  // namespace psahost::plugins
