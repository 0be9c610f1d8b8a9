// Which optional plugins and connectors act for which tenant: each tenant's admin switches them
// for its own tenant only (tenant_plugin_settings); the host-wide switch stays the operator's.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace psahost::store {
class Store;
class Tx;
}  // namespace psahost::store

namespace psahost::plugins {

class TenantSwitches {
 public:
  // Reads every tenant's switches from store once; a null store means no tenant switched
  // anything off (tools that load plugins without a database).
  explicit TenantSwitches(store::Store* store);

  // Whether plugin_id acts for tenant_id; a plugin nobody switched acts for every tenant.
  bool enabled_for(std::string_view tenant_id, std::string_view plugin_id) const;
  // The tenant's own switch, or nullopt when it never set one.
  std::optional<bool> switch_of(std::string_view tenant_id, std::string_view plugin_id) const;

  // Stores the tenant's switch (inside the caller's write, so it commits with the audit entry)
  // and applies it once the write has committed: call apply() after the write returns.
  static void persist(store::Tx& tx, std::string_view tenant_id, std::string_view plugin_id,
                      bool enabled);
  void apply(std::string_view tenant_id, std::string_view plugin_id, bool enabled);

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, bool, std::less<>> switches_;
};

}  // namespace psahost::plugins
