// GET /v1/plugins and POST /v1/plugins/{id}/enable|disable: a tenant's admin switches plugins for
// that tenant only; the host-wide switch is the operator's (psahost plugins enable|disable).
#include "api/context.hpp"
#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"

namespace psahost::api {
namespace {

// state is what the tenant sees: a plugin it switched off is disabled for it; host_state is the
// operator's switch.
Json::Value to_json(const ApiContext& ctx, const std::string& tenant_id,
                    const plugins::PluginInfo& info) {
  Json::Value v;
  v["id"] = info.id;
  v["name"] = info.name;
  v["version"] = info.version;
  v["kind"] = info.kind;
  const bool off_for_tenant = !ctx.plugins.acts_for(tenant_id, info.id);
  v["state"] = info.state == "loaded" && off_for_tenant ? "disabled" : info.state;
  v["host_state"] = info.state;
  v["enabled_for_tenant"] = !off_for_tenant;
  v["last_error"] = info.last_error.empty() ? Json::Value() : Json::Value(info.last_error);
  v["hooks"] = Json::Value(Json::arrayValue);
  for (const auto& h : info.hooks) v["hooks"].append(h);
  v["calls"] = static_cast<Json::UInt64>(info.calls);
  v["errors"] = static_cast<Json::UInt64>(info.errors);
  v["isolation"] = info.isolation;
  v["restarts"] = info.restarts;
  v["signature"]["status"] = info.signature;
  v["signature"]["key_id"] =
      info.signature_key_id.empty() ? Json::Value() : Json::Value(info.signature_key_id);
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
                 [&ctx](const http::Request&, const http::Params&, const auth::Principal& who) {
                   Json::Value body;
                   body["items"] = Json::Value(Json::arrayValue);
                   for (const auto& info : ctx.plugins.list()) {
                     body["items"].append(to_json(ctx, who.tenant_id, info));
                   }
                   return http::Response::json(200, body);
                 });

  // Picks up plugins installed, changed or removed on disk (as SIGHUP does). Loading runs plugin
  // code (init), so it runs on a background worker, never on an I/O thread; requests in flight
  // keep the plugins they hold.
  add_route(router, ctx, "POST", "/v1/plugins/reload", auth::Right::manage_plugins,
            [&ctx](const http::Request&, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              if (!ctx.reload_plugins) {
                return respond(http::problem(503, "unavailable", "Service Unavailable",
                                             "this host cannot reload plugins"));
              }
              in_background(ctx, std::move(respond),
                            [&ctx, who](std::stop_token, const http::Responder& respond) {
                              const auto r = ctx.reload_plugins();
                              Json::Value body;
                              const auto ids = [](const std::vector<std::string>& list) {
                                Json::Value a(Json::arrayValue);
                                for (const auto& id : list) a.append(id);
                                return a;
                              };
                              body["loaded"] = ids(r.loaded);
                              body["replaced"] = ids(r.replaced);
                              body["removed"] = ids(r.removed);
                              body["failed"] = ids(r.failed);
                              body["items"] = Json::Value(Json::arrayValue);
                              for (const auto& info : ctx.plugins.list()) {
                                body["items"].append(to_json(ctx, who.tenant_id, info));
                              }
                              respond(http::Response::json(200, body));
                            });
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
          if (enable && info->state == "disabled") {
            return http::problem(409, "plugin-disabled-by-operator", "Conflict",
                                 "plugin " + id +
                                     " is switched off for the whole host by its operator; only "
                                     "the operator can switch it on (psahost plugins enable " +
                                     id + ")");
          }
          const auto manifest = ctx.plugins.manifest_of(id);
          if (!enable && manifest && manifest->hooks.numbering) {
            // Every tenant's invoices need a number; a tenant cannot opt out of numbering.
            return http::problem(409, "plugin-required", "Conflict",
                                 "plugin " + id +
                                     " numbers invoices and cannot be switched off for one "
                                     "tenant; an operator can switch it off for the whole host "
                                     "(psahost plugins disable " +
                                     id + ")");
          }
          const bool before = ctx.plugins.acts_for(who.tenant_id, id);
          // Persist first: the setting must survive a restart before we report it applied.
          ctx.store.write([&](store::Tx& tx) {
            plugins::TenantSwitches::persist(tx, who.tenant_id, id, enable);
            audit::record(tx,
                          {who.tenant_id, who.token_id, enable ? "plugin.enable" : "plugin.disable",
                           "plugin", id, std::string(before ? "enabled" : "disabled"),
                           std::string(enable ? "enabled" : "disabled")});
          });
          ctx.plugins.tenant_switches().apply(who.tenant_id, id, enable);
          // The runner's restart budget is the host's, not a tenant's: enabling a plugin whose
          // runner was given up on starts it again with a fresh budget.
          const bool restarted = enable && info->runner_failed;
          if (restarted) ctx.plugins.set_enabled(id, true);
          // Wakes the dispatcher, so the switch applies from the next event on.
          if (ctx.events_committed) ctx.events_committed();
          Json::Value f;
          f["plugin"] = id;
          f["by"] = who.token_id;
          f["tenant"] = who.tenant_id;
          if (restarted) f["restarted"] = true;
          ctx.log.info(enable ? "plugin enabled" : "plugin disabled", f);
          return http::Response::json(200, to_json(ctx, who.tenant_id, *find_info(ctx, id)));
        });
  }
}

}  // namespace psahost::api
