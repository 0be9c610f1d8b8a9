// psahost plugins install / uninstall: a bundle (folder or .tar.gz) is staged privately, checked
// as the host would load it (manifest, publisher signature, library sha256 and ABI, a real load
// and init), and only then copied into the installed-plugins folder, one folder per plugin.
#pragma once

#include "plugins/registry.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace psahost::plugins {

struct InstallResult {
  std::string id;
  std::string version;
  std::string signature;  // trusted | unsigned
  std::string key_id;
  std::string isolation;  // as it will run
  std::filesystem::path dir;
  std::string replaced_version;  // set when an installed version was replaced
};

// Installs source into plugins_dir/<id>/ (the manifest as <id>.json beside its library). Throws
// BundleError for a bundle that escapes its folder, or LoadError(field, message) naming the
// plugin for anything the host would refuse to load; nothing is written to plugins_dir then.
// taken_ids: plugins the host loads from elsewhere (bundled), which an install may not shadow.
InstallResult install_plugin(
    const std::filesystem::path& source, const std::filesystem::path& plugins_dir,
    const RegistryOptions& options, const PluginEnv& env,
    const std::vector<std::pair<std::string, std::filesystem::path>>& taken_ids);

// Removes plugins_dir/<id>/; false when no plugin with that id is installed there.
bool uninstall_plugin(const std::filesystem::path& plugins_dir, const std::string& id);

// The manifests of installed plugins: plugins_dir/<id>/*.json, in name order; none when the
// folder does not exist.
std::vector<std::filesystem::path> installed_manifests(const std::filesystem::path& plugins_dir);

}  // namespace psahost::plugins
