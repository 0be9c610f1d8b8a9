#include "cli/local_host.hpp"

#include "api/host_services.hpp"
#include "app/app.hpp"
#include "auth/tokens.hpp"
#include "plugins/installer.hpp"

namespace psahost::cli {
namespace fs = std::filesystem;

po::options_description local_host_options() {
  po::options_description d("Host options");
  d.add_options()("tenant", po::value<std::string>()->default_value("default"), "tenant name")(
      "plugins-dir", po::value<std::vector<std::string>>()->composing(),
      "folder of plugin manifests to load (repeatable; default: the bundled plugins)");
  d.add(trust_options());
  return d;
}

LocalHost::LocalHost(const po::variables_map& vm, Logger& log) {
  std::vector<fs::path> dirs;
  if (vm.count("plugins-dir")) {
    for (const auto& d : vm["plugins-dir"].as<std::vector<std::string>>()) {
      std::error_code ec;
      if (!fs::is_directory(d, ec)) throw UsageError("--plugins-dir: no folder at " + d);
      dirs.emplace_back(d);
    }
  } else {
    dirs.push_back(app::bundled_plugin_dir());
  }
  store_ = open_store(vm, log);
  tenant_name_ = vm["tenant"].as<std::string>();
  const auto tenant = auth::Tokens(*store_).find_tenant(tenant_name_);
  if (!tenant) throw UsageError("--tenant: no tenant named '" + tenant_name_ + "'");
  tenant_id_ = *tenant;
  api::register_all_host_calls(calls_, *store_);
  const app::DataDir dir{vm["data-dir"].as<std::string>()};
  plugins::RegistryOptions registry_options{dir.plugin_cache(), false, {}};
  registry_options.trust = trust_policy(vm);
  registry_ = std::make_unique<plugins::PluginRegistry>(
      registry_options, plugins::PluginEnv{calls_, store_.get(), log, nullptr});
  // A plugin that fails is logged (stderr) and left out, as serve does.
  for (const auto& d : dirs) registry_->load_directory(d);
  for (const auto& m : plugins::installed_manifests(dir.installed_plugins())) registry_->load(m);
  pipeline_ = std::make_unique<admission::Pipeline>(*registry_, log);
}

LocalHost::~LocalHost() {
  // Plugins go before the store they may still write to; the store commits what is queued.
  pipeline_.reset();
  registry_.reset();
  store_->close();
}

}  // namespace psahost::cli
