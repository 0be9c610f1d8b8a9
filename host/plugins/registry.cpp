#include "plugins/registry.hpp"

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "store/store.hpp"

#include <json/reader.h>

#include <algorithm>
#include <mutex>
#include <sstream>

namespace psahost::plugins {
namespace fs = std::filesystem;

namespace {

bool handles_event(const Manifest& m, std::string_view type) {
  return std::any_of(m.hooks.events.begin(), m.hooks.events.end(),
                     [&](const std::string& e) { return e == "*" || e == type; });
}

// Defaults first, the partner's settings over them, one member deep (settings are flat).
Json::Value merge(const Json::Value& defaults, const Json::Value& settings) {
  Json::Value out = defaults.isObject() ? defaults : Json::Value(Json::objectValue);
  if (settings.isObject()) {
    for (const auto& name : settings.getMemberNames()) out[name] = settings[name];
  }
  return out;
}

}  // namespace

PluginRegistry::PluginRegistry(RegistryOptions options, PluginEnv env)
    : options_(std::move(options)),
      trust_(options_.trust ? *options_.trust : default_trust_policy()),
      env_(env),
      tenant_switches_(env.store) {
  if (!env_.pool) {
    pool_ = std::make_unique<HookPool>();
    env_.pool = pool_.get();
  }
  if (options_.runner.executable.empty()) {
    std::error_code ec;
    options_.runner.executable = fs::read_symlink("/proc/self/exe", ec);
  }
}

bool PluginRegistry::runs_in_process_runner(const Manifest& manifest, bool is_signed) const {
  if (manifest.isolation == "remote") return false;  // no library to run anywhere
  // Code no trusted publisher vouches for never shares the host's address space.
  if (manifest.isolation == "process" || !is_signed) return true;
  return std::any_of(options_.isolate.begin(), options_.isolate.end(),
                     [&](const std::string& id) { return id == "all" || id == manifest.id; });
}

TrustPolicy PluginRegistry::trust() const {
  std::lock_guard lock(trust_mutex_);
  return trust_;
}

std::size_t PluginRegistry::stop_calls(std::chrono::milliseconds grace) {
  return pool_ ? pool_->stop(grace) : 0;
}

PluginRegistry::~PluginRegistry() {
  // Plugins are destroyed before their libraries (Plugin holds its library) and before the
  // registry's own members; nothing else may hold them past this point.
  std::unique_lock lock(mutex_);
  entries_.clear();
}

Json::Value PluginRegistry::config_for(const Manifest& manifest) const {
  Json::Value settings(Json::objectValue);
  if (env_.store) {
    env_.store->read([&](store::Tx& tx) {
      auto row =
          tx.query_one("SELECT config FROM plugin_settings WHERE plugin_id = ?", {manifest.id});
      if (!row) return;
      Json::CharReaderBuilder rb;
      std::string errors;
      std::istringstream in(row->text(0));
      if (!Json::parseFromStream(rb, in, &settings, &errors)) {
        throw LoadError("config",
                        "stored settings for " + manifest.id + " are not JSON: " + errors);
      }
    });
  }
  return merge(manifest.config_defaults, settings);
}

SignatureStatus PluginRegistry::check_trust(const Json::Value& document,
                                            const Manifest& manifest) const {
  const SignatureStatus status = check_signature(document, manifest.id, trust());
  if (!status.is_signed && manifest.isolation == "in_process") {
    Json::Value f;
    f["plugin"] = manifest.id;
    env_.log.warn(
        "unsigned plugin let in by allow_unsigned_plugins; it runs in a child process, not in "
        "the host",
        f);
  }
  return status;
}

std::shared_ptr<Plugin> PluginRegistry::instantiate(const Manifest& manifest,
                                                    bool is_signed) const {
  // A remote plugin is a service elsewhere: no library to verify, no init, no configuration.
  if (manifest.isolation == "remote") return std::make_shared<Plugin>(manifest, env_);
  const Json::Value config = config_for(manifest);
  if (auto errors = check_config(manifest.config_schema, config); !errors.empty()) {
    std::string msg = "configuration does not match the manifest's config schema:";
    for (const auto& e : errors) msg += " " + e.field + ": " + e.message + ";";
    throw LoadError("config", msg);
  }
  if (runs_in_process_runner(manifest, is_signed)) {
    // The host verifies and copies the library but never loads it; the runner does.
    const fs::path copy = verified_copy(manifest, options_.cache_dir, options_.host_abi);
    return std::make_shared<Plugin>(manifest, copy, config, env_, options_.runner);
  }
  auto library = PluginLibrary::load(manifest, options_.cache_dir, options_.host_abi);
  return std::make_shared<Plugin>(manifest, std::move(library), config, env_);
}

PluginRegistry::Entry PluginRegistry::failed_entry(Manifest manifest, const std::string& message,
                                                   std::string signature) const {
  if (manifest.id.empty()) manifest.id = manifest.manifest_path.stem().string();
  Json::Value f;
  f["manifest"] = manifest.manifest_path.string();
  f["plugin"] = manifest.id;
  f["error"] = message;
  env_.log.error("plugin not loaded", f);
  Entry entry{std::move(manifest), nullptr, "failed", message, std::move(signature), "", ""};
  if (entry.manifest.signature) entry.signature_key_id = entry.manifest.signature->key_id;
  return entry;
}

PluginRegistry::Entry PluginRegistry::make_entry(const fs::path& manifest_path,
                                                 const fs::path& replacing,
                                                 std::string* failed_field) const {
  std::error_code ec;
  const std::string digest =
      fs::is_regular_file(manifest_path, ec) ? crypto::sha256_file_hex(manifest_path) : "";
  const auto fail = [&](Manifest manifest, const std::string& field, const std::string& message,
                        std::string signature) {
    if (failed_field) *failed_field = field;
    Entry entry = failed_entry(std::move(manifest), message, std::move(signature));
    entry.digest = digest;
    return entry;
  };
  // The signature is checked over exactly the document that is then parsed and used.
  auto read = read_manifest_file(manifest_path);
  auto parsed = read.document ? parse_manifest(*read.document, manifest_path)
                              : ManifestResult{std::nullopt, std::move(read.errors)};
  if (!parsed.errors.empty()) {
    Manifest unreadable;
    unreadable.manifest_path = manifest_path;
    return fail(std::move(unreadable), parsed.errors.front().field,
                describe(manifest_path, parsed.errors), "unchecked");
  }
  const Manifest& manifest = *parsed.manifest;
  {
    std::shared_lock lock(mutex_);
    for (const auto& e : entries_) {
      if (e.manifest.id == manifest.id && e.state != "failed" &&
          e.manifest.manifest_path != replacing) {
        return fail(manifest, "id",
                    manifest_path.string() + ": id: plugin '" + manifest.id +
                        "' is already loaded from " + e.manifest.manifest_path.string(),
                    "unchecked");
      }
    }
  }
  SignatureStatus signature;
  try {
    signature = check_trust(*read.document, manifest);
  } catch (const LoadError& e) {
    return fail(manifest, e.field(), manifest_path.string() + ": " + e.field() + ": " + e.what(),
                "refused");
  }
  const std::string signature_state = signature.is_signed ? "trusted" : "unsigned";
  try {
    auto plugin = instantiate(manifest, signature.is_signed);
    bool enabled = true;
    if (env_.store) {
      env_.store->read([&](store::Tx& tx) {
        auto row =
            tx.query_one("SELECT enabled FROM plugin_settings WHERE plugin_id = ?", {manifest.id});
        if (row) enabled = row->integer(0) != 0;
      });
    }
    Json::Value f;
    f["plugin"] = manifest.id;
    f["version"] = manifest.version;
    f["enabled"] = enabled;
    f["trust"] = signature_state;  // not "signature": the log redacts members of that name
    if (signature.is_signed) f["key_id"] = signature.key_id;
    env_.log.info("plugin loaded", f);
    return Entry{manifest, std::move(plugin), enabled ? "loaded" : "disabled",
                 "",       signature_state,   signature.key_id,
                 digest};
  } catch (const LoadError& e) {
    return fail(manifest, e.field(), manifest_path.string() + ": " + e.field() + ": " + e.what(),
                signature_state);
  }
}

bool PluginRegistry::load(const fs::path& manifest_path) {
  std::string failed_field;
  Entry entry = make_entry(manifest_path, fs::path(), &failed_field);
  const bool loaded = entry.state != "failed";
  if (!loaded && options_.strict) throw LoadError(failed_field, entry.last_error);
  std::unique_lock lock(mutex_);
  entries_.push_back(std::move(entry));
  return loaded;
}

PluginRegistry::ReloadResult PluginRegistry::reload(const std::vector<fs::path>& manifests) {
  const std::lock_guard one_at_a_time(reload_mutex_);
  ReloadResult result;
  // A publisher key added to (or removed from) a trusted folder counts from this reload on.
  bool keys_changed = false;
  try {
    TrustPolicy fresh = trust().reread();
    if (fresh.key_ids() != trust().key_ids()) {
      Json::Value f;
      f["keys"] = static_cast<Json::UInt64>(fresh.keys.size());
      env_.log.info("trusted publisher keys changed; every plugin is checked again", f);
      std::lock_guard lock(trust_mutex_);
      trust_ = std::move(fresh);
      keys_changed = true;
    }
  } catch (const std::runtime_error& e) {
    Json::Value f;
    f["error"] = e.what();
    env_.log.error("trusted publisher keys could not be read again; the keys read before stay", f);
  }
  std::vector<std::pair<fs::path, std::string>> wanted;  // path, digest now
  for (const auto& m : manifests) {
    std::error_code ec;
    wanted.emplace_back(m, fs::is_regular_file(m, ec) ? crypto::sha256_file_hex(m) : "");
  }
  // Plugins dropped here are destroyed outside the lock, once no call holds them any more.
  std::vector<std::shared_ptr<Plugin>> dropped;
  {
    std::unique_lock lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      const bool still_there = std::any_of(wanted.begin(), wanted.end(), [&](const auto& w) {
        return w.first == it->manifest.manifest_path;
      });
      if (still_there) {
        ++it;
        continue;
      }
      if (it->state != "failed") {
        result.removed.push_back(it->manifest.id);
        Json::Value f;
        f["plugin"] = it->manifest.id;
        f["manifest"] = it->manifest.manifest_path.string();
        env_.log.info("plugin removed", f);
      }
      dropped.push_back(std::move(it->plugin));
      it = entries_.erase(it);
    }
  }
  for (const auto& [path, digest] : wanted) {
    bool known = false;
    bool unchanged = false;
    {
      std::shared_lock lock(mutex_);
      for (const auto& e : entries_) {
        if (e.manifest.manifest_path != path) continue;
        known = true;
        unchanged = !keys_changed && e.digest == digest && e.state != "failed";
      }
    }
    if (unchanged) continue;
    // The replacement is made first and swapped in whole: a reviewer is never missing between
    // the old plugin and the new one.
    Entry entry = make_entry(path, known ? path : fs::path(), nullptr);
    const bool ok = entry.state != "failed";
    const std::string id = entry.manifest.id;
    std::unique_lock lock(mutex_);
    auto old = std::find_if(entries_.begin(), entries_.end(),
                            [&](const Entry& e) { return e.manifest.manifest_path == path; });
    if (old != entries_.end()) {
      if (ok) (old->state != "failed" ? result.replaced : result.loaded).push_back(id);
      dropped.push_back(std::move(old->plugin));
      *old = std::move(entry);
    } else {
      if (ok) result.loaded.push_back(id);
      entries_.push_back(std::move(entry));
    }
    if (!ok) result.failed.push_back(id);
  }
  return result;
}

std::vector<fs::path> manifests_in(const fs::path& dir) {
  std::vector<fs::path> manifests;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return manifests;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      manifests.push_back(entry.path());
    }
  }
  std::sort(manifests.begin(), manifests.end());
  return manifests;
}

void PluginRegistry::load_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    Json::Value f;
    f["dir"] = dir.string();
    env_.log.warn("plugin directory not found; no plugins loaded from it", f);
    return;
  }
  for (const auto& m : manifests_in(dir)) load(m);
}

VerifyResult PluginRegistry::verify(const fs::path& manifest_path) const {
  VerifyResult result;
  result.manifest_path = manifest_path;
  auto read = read_manifest_file(manifest_path);
  auto parsed = read.document ? parse_manifest(*read.document, manifest_path)
                              : ManifestResult{std::nullopt, std::move(read.errors)};
  if (!parsed.errors.empty()) {
    result.errors = parsed.errors;
    return result;
  }
  result.id = parsed.manifest->id;
  if (parsed.manifest->signature) result.signature_key_id = parsed.manifest->signature->key_id;
  SignatureStatus signature;
  try {
    signature = check_signature(*read.document, parsed.manifest->id, trust());
    result.signature = signature.is_signed ? "trusted" : "unsigned";
  } catch (const LoadError& e) {
    result.signature = "refused";
    result.errors.push_back({e.field(), e.what()});
    return result;
  }
  try {
    instantiate(*parsed.manifest, signature.is_signed);
  } catch (const LoadError& e) {
    result.errors.push_back({e.field(), e.what()});
  }
  return result;
}

std::vector<PluginInfo> PluginRegistry::list() const {
  std::shared_lock lock(mutex_);
  std::vector<PluginInfo> out;
  for (const auto& e : entries_) {
    PluginInfo info;
    info.id = e.manifest.id;
    info.name = e.manifest.name;
    info.version = e.manifest.version;
    info.kind = e.manifest.kind;
    info.state = e.state;
    info.last_error = e.last_error;
    info.manifest_path = e.manifest.manifest_path;
    info.hooks = e.manifest.hooks.hook_names();
    info.signature = e.signature;
    info.signature_key_id = e.signature_key_id;
    info.isolation = runs_in_process_runner(e.manifest, e.signature != "unsigned")
                         ? "process"
                         : e.manifest.isolation;
    if (e.plugin) {
      info.calls = e.plugin->call_count();
      info.errors = e.plugin->error_count();
      info.isolation = e.plugin->isolation();
      info.restarts = e.plugin->restarts();
      if (const auto failure = e.plugin->failure(); !failure.empty() && e.state == "loaded") {
        info.state = "failed";
        info.last_error = failure;
        info.runner_failed = true;
      }
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::shared_ptr<Plugin> PluginRegistry::find(std::string_view id) const {
  std::shared_lock lock(mutex_);
  for (const auto& e : entries_) {
    if (e.manifest.id == id && e.state == "loaded") return e.plugin;
  }
  return nullptr;
}

std::optional<Manifest> PluginRegistry::manifest_of(std::string_view id) const {
  std::shared_lock lock(mutex_);
  for (const auto& e : entries_) {
    if (e.manifest.id == id) return e.manifest;
  }
  return std::nullopt;
}

std::vector<std::shared_ptr<Plugin>> PluginRegistry::reviewers_of(
    std::string_view operation) const {
  std::shared_lock lock(mutex_);
  std::vector<std::shared_ptr<Plugin>> out;
  for (const auto& e : entries_) {
    const auto& ops = e.manifest.hooks.admission;
    if (e.state == "loaded" && std::find(ops.begin(), ops.end(), operation) != ops.end()) {
      out.push_back(e.plugin);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
  return out;
}

std::vector<std::shared_ptr<Plugin>> PluginRegistry::subscribers_of(std::string_view type) const {
  std::shared_lock lock(mutex_);
  std::vector<std::shared_ptr<Plugin>> out;
  for (const auto& e : entries_) {
    if (e.state == "loaded" && handles_event(e.manifest, type)) out.push_back(e.plugin);
  }
  return out;
}

std::vector<std::shared_ptr<Plugin>> PluginRegistry::all_enabled() const {
  std::shared_lock lock(mutex_);
  std::vector<std::shared_ptr<Plugin>> out;
  for (const auto& e : entries_) {
    if (e.state == "loaded") out.push_back(e.plugin);
  }
  return out;
}

Requirement PluginRegistry::require(std::string_view hook) const {
  std::shared_lock lock(mutex_);
  Requirement out;
  for (const auto& e : entries_) {
    if (!e.plugin) continue;
    const auto names = e.manifest.hooks.hook_names();
    if (std::find(names.begin(), names.end(), hook) == names.end()) continue;
    if (e.state == "loaded") {
      out.enabled_ids.push_back(e.manifest.id);
      out.plugin = e.plugin;
    } else if (e.state == "disabled" && out.disabled_id.empty()) {
      out.disabled_id = e.manifest.id;
    }
  }
  if (out.enabled_ids.size() > 1) out.plugin.reset();
  return out;
}

bool PluginRegistry::set_enabled(std::string_view id, bool enabled) {
  std::unique_lock lock(mutex_);
  for (auto& e : entries_) {
    if (e.manifest.id != id || !e.plugin) continue;
    e.state = enabled ? "loaded" : "disabled";
    if (enabled) e.plugin->reset();  // a failed runner gets a fresh restart budget
    return true;
  }
  return false;
}

void PluginRegistry::record_error(std::string_view id, const std::string& message) {
  std::unique_lock lock(mutex_);
  for (auto& e : entries_) {
    if (e.manifest.id == id) e.last_error = message;
  }
}

void render_metrics(const PluginRegistry& registry, std::string& out) {
  const auto list = registry.list();  // ids are [a-z0-9-]: nothing to escape in a label
  out += "# HELP psahost_plugin_state Plugins by state (loaded, disabled, failed) and isolation.\n";
  out += "# TYPE psahost_plugin_state gauge\n";
  for (const auto& p : list) {
    out += "psahost_plugin_state{plugin=\"" + p.id + "\",state=\"" + p.state + "\",isolation=\"" +
           p.isolation + "\"} 1\n";
  }
  out += "# HELP psahost_plugin_runner_restarts_total Restarts of process-isolated plugins.\n";
  out += "# TYPE psahost_plugin_runner_restarts_total counter\n";
  for (const auto& p : list) {
    if (p.isolation != "process") continue;
    out += "psahost_plugin_runner_restarts_total{plugin=\"" + p.id + "\"} " +
           std::to_string(p.restarts) + "\n";
  }
}

}  // namespace psahost::plugins
