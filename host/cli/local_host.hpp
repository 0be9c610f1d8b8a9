// The host's parts without the HTTPS server, for commands that act as `psahost serve` would: the
// data directory's store, every host call, the plugins (all of them, so that every reviewer of
// an operation is asked) and the admission pipeline.
#pragma once

#include "admission/pipeline.hpp"
#include "cli/options.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <memory>
#include <string>

namespace psahost::cli {

// --plugins-dir (repeatable) and --tenant, for the commands that use a LocalHost.
po::options_description local_host_options();

class LocalHost {
 public:
  // Opens the store of --data-dir and loads the plugins of --plugins-dir (default: the bundled
  // ones). A plugin that fails to load is logged and left out, as serve does.
  LocalHost(const po::variables_map& vm, Logger& log);
  ~LocalHost();
  LocalHost(const LocalHost&) = delete;
  LocalHost& operator=(const LocalHost&) = delete;

  store::Store& store() { return *store_; }
  plugins::PluginRegistry& plugins() { return *registry_; }
  admission::Pipeline& admission() { return *pipeline_; }
  // The id of --tenant; a UsageError naming the option when there is no such tenant.
  const std::string& tenant_id() const { return tenant_id_; }
  const std::string& tenant_name() const { return tenant_name_; }

 private:
  std::unique_ptr<store::Store> store_;
  plugins::HostCalls calls_;
  std::unique_ptr<plugins::PluginRegistry> registry_;
  std::unique_ptr<admission::Pipeline> pipeline_;
  std::string tenant_id_;
  std::string tenant_name_;
};

}  // namespace psahost::cli
