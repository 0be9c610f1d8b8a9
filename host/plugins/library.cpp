#include "plugins/library.hpp"

#include "core/crypto.hpp"

#include <json/reader.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <sstream>

namespace psahost::plugins {
namespace fs = std::filesystem;

struct PluginLibrary::Handle {
  boost::dll::shared_library lib;
};

namespace {

void check_not_writable_by_others(const fs::path& p, const char* what) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    throw LoadError("library", std::string("cannot stat ") + what + " " + p.string());
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    throw LoadError("library", std::string("refusing ") + what + " " + p.string() +
                                   ": owned by uid " + std::to_string(st.st_uid) +
                                   ", not by this host's user or root");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    throw LoadError("library", std::string("refusing ") + what + " " + p.string() +
                                   ": writable by group or others (chmod go-w it)");
  }
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw LoadError("library", "cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes bytes to dir/name through a temporary file and a rename, readable only by us.
fs::path write_private_copy(const fs::path& dir, const std::string& name,
                            const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw LoadError("library", "cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const fs::path target = dir / name;
  const fs::path tmp = dir / (name + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw LoadError("library", "cannot write " + tmp.string());
  }
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace,
                  ec);
  fs::rename(tmp, target, ec);
  if (ec) throw LoadError("library", "cannot place " + target.string() + ": " + ec.message());
  return target;
}

}  // namespace

std::string check_abi(AbiVersion host, uint32_t plugin_major, uint32_t plugin_minor) {
  const std::string host_v = std::to_string(host.major) + "." + std::to_string(host.minor);
  const std::string plugin_v = std::to_string(plugin_major) + "." + std::to_string(plugin_minor);
  if (plugin_major != host.major) {
    return "plugin ABI " + plugin_v + " has another major version than this host's " + host_v;
  }
  if (plugin_minor > host.minor) {
    return "plugin ABI " + plugin_v + " is newer than this host's " + host_v +
           "; upgrade psahost to load it";
  }
  return "";
}

void check_library_location(const fs::path& library) {
  std::error_code ec;
  const auto status = fs::symlink_status(library, ec);
  if (ec || !fs::exists(status))
    throw LoadError("library", "no library file at " + library.string());
  if (!fs::is_regular_file(status)) {
    throw LoadError("library", library.string() + " is not a regular file");
  }
  check_not_writable_by_others(library, "library");
  check_not_writable_by_others(library.parent_path(), "library folder");
}

PluginLibrary::PluginLibrary(std::unique_ptr<Handle> handle, const psa_plugin_api* api,
                             fs::path copy)
    : handle_(std::move(handle)), api_(api), copy_(std::move(copy)) {}

PluginLibrary::~PluginLibrary() = default;

fs::path verified_copy(const Manifest& manifest, const fs::path& cache_dir, AbiVersion host_abi) {
  if (const auto why = check_abi(host_abi, static_cast<uint32_t>(manifest.sdk_major),
                                 static_cast<uint32_t>(manifest.sdk_minor));
      !why.empty()) {
    throw LoadError("sdk", why);
  }
  const fs::path source = manifest.library_path();
  check_library_location(source);

  // Hash what we read, then load only the private copy, so nothing can swap the file between
  // the check and the load.
  const std::string bytes = read_file(source);
  const std::string digest = crypto::sha256_hex(bytes);
  if (!crypto::constant_time_equal(digest, manifest.sha256)) {
    throw LoadError("sha256", "plugin '" + manifest.id + "': library " + source.string() +
                                  " has sha256 " + digest + " but the manifest expects " +
                                  manifest.sha256 +
                                  "; the file was changed or the manifest is stale");
  }
  const fs::path copy = write_private_copy(cache_dir / manifest.id, digest + ".so", bytes);
  if (crypto::sha256_file_hex(copy) != manifest.sha256) {
    throw LoadError("sha256", "the private copy " + copy.string() + " does not match the manifest");
  }
  return copy;
}

void check_description(const Manifest& manifest, const std::string& described_json,
                       const std::string& source) {
  // The library must handle every hook its manifest promises; list all that are missing at once.
  Json::Value described;
  Json::CharReaderBuilder builder;
  std::string errors;
  std::istringstream in(described_json);
  if (!Json::parseFromStream(builder, in, &described, &errors) || !described.isObject()) {
    throw LoadError("library", source + " describes itself with malformed JSON: " + errors);
  }
  if (described["id"].asString() != manifest.id) {
    throw LoadError("id", "the library says it is '" + described["id"].asString() +
                              "' but the manifest is for '" + manifest.id + "'");
  }
  std::vector<std::string> handled;
  for (const auto& h : described["hooks"]) handled.push_back(h.asString());
  std::string missing;
  for (const auto& hook : manifest.hooks.hook_names()) {
    if (std::find(handled.begin(), handled.end(), hook) == handled.end()) {
      missing += (missing.empty() ? "" : ", ") + hook;
    }
  }
  if (!missing.empty()) {
    throw LoadError("hooks", "the manifest declares hooks the library does not handle: " + missing);
  }
}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const Manifest& manifest,
                                                   const fs::path& cache_dir, AbiVersion host_abi) {
  const fs::path source = manifest.library_path();
  const fs::path copy = verified_copy(manifest, cache_dir, host_abi);

  auto handle = std::make_unique<Handle>();
  try {
    handle->lib = boost::dll::shared_library(
        copy, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw LoadError("library", "cannot load " + source.string() + ": " + e.what());
  }
  if (!handle->lib.has(PSA_PLUGIN_ENTRY_SYMBOL)) {
    throw LoadError("library", source.string() +
                                   " does not export " PSA_PLUGIN_ENTRY_SYMBOL
                                   "; build it with psa_add_plugin() and PSA_PLUGIN(...)");
  }
  const auto entry = handle->lib.get<const psa_plugin_api*()>(PSA_PLUGIN_ENTRY_SYMBOL);
  const psa_plugin_api* api = entry();
  constexpr auto kV1Size = offsetof(psa_plugin_api, free_response) + sizeof(api->free_response);
  if (api == nullptr || api->size < kV1Size) {
    throw LoadError("library", source.string() + " returned no plugin table or a truncated one");
  }
  if (const auto why = check_abi(host_abi, api->abi_major, api->abi_minor); !why.empty()) {
    throw LoadError("sdk", why);
  }
  if (api->abi_major != static_cast<uint32_t>(manifest.sdk_major) ||
      api->abi_minor != static_cast<uint32_t>(manifest.sdk_minor)) {
    throw LoadError("sdk", "the library was built against ABI " + std::to_string(api->abi_major) +
                               "." + std::to_string(api->abi_minor) +
                               " but the manifest declares " + manifest.sdk);
  }
  for (auto fn :
       {reinterpret_cast<const void*>(api->describe), reinterpret_cast<const void*>(api->init),
        reinterpret_cast<const void*>(api->destroy),
        reinterpret_cast<const void*>(api->get_last_error),
        reinterpret_cast<const void*>(api->handle),
        reinterpret_cast<const void*>(api->free_response)}) {
    if (fn == nullptr)
      throw LoadError("library", source.string() + " has a null function in its table");
  }

  const char* text = api->describe();
  check_description(manifest, text ? text : "", source.string());
  return std::shared_ptr<PluginLibrary>(new PluginLibrary(std::move(handle), api, copy));
}

}  // namespace psahost::plugins
