// A plugin library verified and loaded: checked where it lies, copied into a host-owned folder,
// its copy hashed against the manifest, loaded RTLD_NOW|RTLD_LOCAL, and its ABI table checked.
#pragma once

#include "plugins/manifest.hpp"

#include <psa/plugin_api.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace psahost::plugins {

// A verification or load failure; field names the manifest member it concerns ("sha256",
// "sdk", "library", "hooks") so that messages read "manifest.json: sha256: ...".
class LoadError : public std::runtime_error {
 public:
  LoadError(std::string field, const std::string& message)
      : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

struct AbiVersion {
  uint32_t major = PSA_PLUGIN_API_VERSION_MAJOR;
  uint32_t minor = PSA_PLUGIN_API_VERSION_MINOR;
};

// The host's rule: same major, and a minor no newer than the host's. Returns "" when
// compatible, otherwise what is wrong.
std::string check_abi(AbiVersion host, uint32_t plugin_major, uint32_t plugin_minor);

// Checks the library's ABI range against the host and the manifest, its location, and its
// sha256; copies it into cache_dir/<id>/ and returns the verified copy (for a runner to load).
std::filesystem::path verified_copy(const Manifest& manifest,
                                    const std::filesystem::path& cache_dir,
                                    AbiVersion host_abi = {});

// Checks a library's describe() document against its manifest: the same id, and every hook the
// manifest declares handled (all missing ones named at once). source names the library.
void check_description(const Manifest& manifest, const std::string& described_json,
                       const std::string& source);

class PluginLibrary {
 public:
  // Verifies manifest.library_path() and loads a verified copy from cache_dir. Throws LoadError.
  static std::shared_ptr<PluginLibrary> load(const Manifest& manifest,
                                             const std::filesystem::path& cache_dir,
                                             AbiVersion host_abi = {});
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const psa_plugin_api& api() const { return *api_; }
  const std::filesystem::path& loaded_from() const { return copy_; }

 private:
  struct Handle;
  PluginLibrary(std::unique_ptr<Handle> handle, const psa_plugin_api* api,
                std::filesystem::path copy);
  std::unique_ptr<Handle> handle_;
  const psa_plugin_api* api_;
  std::filesystem::path copy_;
};

// Checks the file and its folder: a regular file, owned by us or root, and writable by no one
// else. Throws LoadError("library", ...).
void check_library_location(const std::filesystem::path& library);

}  // namespace psahost::plugins
