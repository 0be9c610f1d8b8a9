#include "plugins/installer.hpp"

#include "plugins/bundle.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace psahost::plugins {
namespace fs = std::filesystem;

namespace {

bool is_tar_gz(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.ends_with(".tar.gz") || name.ends_with(".tgz");
}

// A private folder (0700) removed with everything in it.
struct Scratch {
  fs::path path;
  explicit Scratch(const fs::path& parent, const std::string& prefix) {
    std::string pattern = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot create a staging folder in " + parent.string());
    }
    path = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

void copy_with_mode(const fs::path& from, const fs::path& to, fs::perms mode) {
  fs::copy_file(from, to);
  fs::permissions(to, mode, fs::perm_options::replace);
}

constexpr auto kReadable =
    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
constexpr auto kFolder = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                         fs::perms::others_read | fs::perms::others_exec;

}  // namespace

std::vector<fs::path> installed_manifests(const fs::path& plugins_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(plugins_dir, ec)) return out;
  for (const auto& dir : fs::directory_iterator(plugins_dir)) {
    // Staging and replaced folders start with a dot; they are never loaded.
    if (!dir.is_directory() || dir.path().filename().string().starts_with(".")) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      if (file.is_regular_file() && file.path().extension() == ".json") out.push_back(file.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

InstallResult install_plugin(const fs::path& source, const fs::path& plugins_dir,
                             const RegistryOptions& options, const PluginEnv& env,
                             const std::vector<std::pair<std::string, fs::path>>& taken_ids) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(source, ec))) {
    throw BundleError("no bundle at " + source.string());
  }
  const Scratch stage(fs::temp_directory_path(), "psahost-install-");
  const fs::path unpacked = stage.path / "bundle";
  fs::create_directory(unpacked);
  fs::permissions(unpacked, fs::perms::owner_all, fs::perm_options::replace);
  if (fs::is_directory(fs::symlink_status(source, ec))) {
    copy_bundle_folder(source, unpacked);
  } else if (is_tar_gz(source)) {
    unpack_tar_gz(source, unpacked);
  } else {
    throw BundleError(source.string() + " is neither a folder nor a .tar.gz bundle");
  }
  const fs::path root = bundle_root(unpacked);
  std::vector<fs::path> manifests;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".json") manifests.push_back(e.path());
  }
  if (manifests.size() != 1) {
    throw BundleError("the bundle must hold exactly one manifest (*.json) beside its library; " +
                      std::string(manifests.empty() ? "it holds none" : "it holds several"));
  }
  const fs::path staged_manifest = manifests.front();
  auto parsed = load_manifest(staged_manifest);
  if (!parsed.manifest) {
    throw LoadError(parsed.errors.front().field,
                    describe(source.filename() / staged_manifest.filename(), parsed.errors));
  }
  const Manifest& manifest = *parsed.manifest;
  if (manifest.isolation != "remote") {
    // The library sits beside the manifest: a name that the bundle does not hold there would be
    // looked for outside it, wherever the bundle is installed.
    if (!fs::is_regular_file(fs::symlink_status(root / manifest.library, ec))) {
      throw LoadError("library", "plugin '" + manifest.id + "': the manifest names library " +
                                     manifest.library + ", which is not in the bundle");
    }
  }
  for (const auto& [id, where] : taken_ids) {
    if (id == manifest.id) {
      throw LoadError("id", "plugin '" + manifest.id + "' is already provided by " +
                                where.string() + "; an installed copy would never load");
    }
  }

  // Everything the host checks at load, on the staged copy: signature, sha256, ABI, load, init.
  RegistryOptions verify_options = options;
  verify_options.cache_dir = stage.path / "cache";
  verify_options.strict = false;
  PluginRegistry verifier(verify_options, env);
  const VerifyResult verified = verifier.verify(staged_manifest);
  if (!verified.errors.empty()) {
    const auto& e = verified.errors.front();
    throw LoadError(e.field, e.message);
  }

  InstallResult result;
  result.id = manifest.id;
  result.version = manifest.version;
  result.signature = verified.signature;
  result.key_id = verified.signature_key_id;
  result.isolation =
      manifest.isolation == "remote" ? "remote"
      : verified.signature == "unsigned" || manifest.isolation == "process" ||
              std::any_of(options.isolate.begin(), options.isolate.end(),
                          [&](const std::string& id) { return id == "all" || id == manifest.id; })
          ? "process"
          : "in_process";
  result.dir = plugins_dir / manifest.id;

  // Copied beside the final folder, then renamed into place: a host reloading meanwhile sees
  // the old plugin or the new one, never half of one.
  fs::create_directories(plugins_dir);
  fs::permissions(plugins_dir, kFolder, fs::perm_options::replace, ec);
  const Scratch incoming(plugins_dir, "." + manifest.id + ".incoming-");
  fs::permissions(incoming.path, kFolder, fs::perm_options::replace);
  copy_with_mode(staged_manifest, incoming.path / (manifest.id + ".json"), kReadable);
  if (manifest.isolation != "remote") {
    copy_with_mode(
        root / manifest.library, incoming.path / manifest.library,
        kReadable | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec);
  }
  const Scratch replaced(plugins_dir, "." + manifest.id + ".replaced-");
  if (fs::exists(result.dir, ec)) {
    for (const auto& m : installed_manifests(plugins_dir)) {
      if (m.parent_path() != result.dir) continue;
      if (auto old = load_manifest(m); old.manifest)
        result.replaced_version = old.manifest->version;
    }
    fs::rename(result.dir, replaced.path / manifest.id);
  }
  fs::rename(incoming.path, result.dir);
  return result;
}

bool uninstall_plugin(const fs::path& plugins_dir, const std::string& id) {
  std::error_code ec;
  const fs::path dir = plugins_dir / id;
  if (id.empty() || id.front() == '.' || id.find('/') != std::string::npos ||
      !fs::is_directory(fs::symlink_status(dir, ec))) {
    return false;
  }
  // Renamed away first, so a host reloading meanwhile never finds half a plugin.
  const Scratch removed(plugins_dir, "." + id + ".removed-");
  fs::rename(dir, removed.path / id);
  return true;
}

}  // namespace psahost::plugins
