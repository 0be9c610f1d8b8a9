// GET /v1/plugins and POST /v1/plugins/{id}/enable|disable.
#include "api/context.hpp"
#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"

namespace psahost::api {
namespace {

Json::Value to_json(const plugins::PluginInfo& info) {
  Json::Value v;
  v["id"] = info.id;
  v["name"] = info.name;
  v["version"] = info.version;
  v["kind"] = info.kind;
  v["state"] = info.state;
  v["last_error"] = info.last_error.empty() ? Json::Value() : Json::Value(info.last_error);
  v["hooks"] = Json::Value(Json::arrayValue);
  for (const auto& h : info.hooks) v["hooks"].append(h);
  v["calls"] = static_cast<Json::UInt64>(info.calls);
  v["errors"] = static_cast<Json::UInt64>(info.errors);
  v["isolation"] = info.isolation;
  v["restarts"] = info.restarts;
  return v;
}

std::optional<plugins::PluginInfo> find_info(const ApiContext& ctx, const std::string& id) {
  for (auto& info : ctx.plugins.list()) {
    if (info.id == id) return info;
  }
  return std::nullopt;
}

}  // namespace

void add_plugin_routes(http::Router& router, const ApiContext& ctx) {
  add_sync_route(router, ctx, "GET", "/v1/plugins", auth::Right::read,
                 [&ctx](const http::Request&, const http::Params&, const auth::Principal&) {
                   Json::Value body;
                   body["items"] = Json::Value(Json::arrayValue);
                   for (const auto& info : ctx.plugins.list()) body["items"].append(to_json(info));
                   return http::Response::json(200, body);
                 });

  for (const bool enable : {true, false}) {
    add_sync_route(
        router, ctx, "POST", std::string("/v1/plugins/{id}/") + (enable ? "enable" : "disable"),
        auth::Right::manage_plugins,
        [&ctx, enable](const http::Request&, const http::Params& params,
                       const auth::Principal& who) {
          const std::string id = params.find("id")->second;
          const auto info = find_info(ctx, id);
          if (!info) return http::problem(404, "not-found", "Not Found", "no plugin " + id);
          // A runner given up on after its restarts is enabled again with a fresh budget.
          if (info->state == "failed" && !info->runner_failed) {
            return http::problem(409, "plugin-failed", "Conflict",
                                 "plugin " + id + " failed to load: " + info->last_error);
          }
          // Persist first: the setting must survive a restart before we report it applied.
          ctx.store.write([&](store::Tx& tx) {
            tx.exec(
                "INSERT INTO plugin_settings (plugin_id, enabled, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (plugin_id) DO UPDATE SET enabled = excluded.enabled, "
                "updated_at = excluded.updated_at",
                {id, int64_t{enable ? 1 : 0}, now_rfc3339()});
            audit::record(tx,
                          {who.tenant_id, who.token_id, enable ? "plugin.enable" : "plugin.disable",
                           "plugin", id, info->state, enable ? "loaded" : "disabled"});
          });
          ctx.plugins.set_enabled(id, enable);
          // A plugin enabled again picks up the events it missed.
          if (ctx.events_committed) ctx.events_committed();
          Json::Value f;
          f["plugin"] = id;
          f["by"] = who.token_id;
          ctx.log.info(enable ? "plugin enabled" : "plugin disabled", f);
          return http::Response::json(200, to_json(*find_info(ctx, id)));
        });
  }
}

}  // namespace psahost::api
