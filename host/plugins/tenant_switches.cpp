#include "plugins/tenant_switches.hpp"

#include "core/clock.hpp"
#include "store/store.hpp"

namespace psahost::plugins {

TenantSwitches::TenantSwitches(store::Store* store) {
  if (!store) return;
  store->read([&](store::Tx& tx) {
    for (const auto& row :
         tx.query("SELECT tenant_id, plugin_id, enabled FROM tenant_plugin_settings")) {
      switches_[{row.text(0), row.text(1)}] = row.integer(2) != 0;
    }
  });
}

std::optional<bool> TenantSwitches::switch_of(std::string_view tenant_id,
                                              std::string_view plugin_id) const {
  std::lock_guard lock(mutex_);
  const auto it = switches_.find(std::pair{std::string(tenant_id), std::string(plugin_id)});
  if (it == switches_.end()) return std::nullopt;
  return it->second;
}

bool TenantSwitches::enabled_for(std::string_view tenant_id, std::string_view plugin_id) const {
  return switch_of(tenant_id, plugin_id).value_or(true);
}

void TenantSwitches::persist(store::Tx& tx, std::string_view tenant_id, std::string_view plugin_id,
                             bool enabled) {
  tx.exec(
      "INSERT INTO tenant_plugin_settings (tenant_id, plugin_id, enabled, updated_at) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, plugin_id) DO UPDATE SET "
      "enabled = excluded.enabled, updated_at = excluded.updated_at",
      {std::string(tenant_id), std::string(plugin_id), int64_t{enabled ? 1 : 0}, now_rfc3339()});
}

void TenantSwitches::apply(std::string_view tenant_id, std::string_view plugin_id, bool enabled) {
  std::lock_guard lock(mutex_);
  switches_[{std::string(tenant_id), std::string(plugin_id)}] = enabled;
}

}  // namespace psahost::plugins
