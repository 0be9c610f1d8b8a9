#include "api/host_services.hpp"

#include "approval/approval.hpp"
#include "billing/invoices.hpp"
#include "billing/numbering.hpp"
#include "catalog/catalog.hpp"
#include "clients/clients.hpp"
#include "contracts/host_calls.hpp"
#include "core/clock.hpp"
#include "events/event_log.hpp"
#include "sales/sales.hpp"
#include "store/json_column.hpp"

namespace psahost::api {
namespace {

std::optional<std::string> required(const Json::Value& request, const char* name) {
  const Json::Value& v = request[name];
  if (!v.isString() || v.asString().empty()) return std::nullopt;
  return v.asString();
}

plugins::CallResult missing_field(const char* name) {
  return plugins::CallResult::error(PSA_INVALID_ARGUMENT, std::string(name) + " is required");
}

}  // namespace

// Sales items an integration synced while the client had no billing info wait as drafts with
// hold_reason 'billing-info-required'; once the info is complete they become billable.
int64_t release_held_sales_items(store::Store& store, const std::string& tenant_id,
                                 const std::string& client_id, const std::string& actor) {
  int64_t released = 0;
  store.write(
      [&](store::Tx& tx) { released = sales::release_held(tx, tenant_id, client_id, actor); });
  return released;
}

void register_host_services(plugins::HostCalls& calls, store::Store& store) {
  calls.add("clock.now", "", [](const plugins::CallerInfo&, const Json::Value&) {
    Json::Value v;
    v["now"] = now_rfc3339();
    return plugins::CallResult::ok(v);
  });

  // {"tenant_id","client_id"} -> {"exists","complete","missing":[...],"name"}
  calls.add(
      "billing_info.status", "billing_info:read",
      [&store](const plugins::CallerInfo&, const Json::Value& request) {
        const auto tenant = required(request, "tenant_id");
        if (!tenant) return missing_field("tenant_id");
        const auto client = required(request, "client_id");
        if (!client) return missing_field("client_id");
        Json::Value status;
        store.read([&](store::Tx& tx) { status = clients::billing_status(tx, *tenant, *client); });
        return plugins::CallResult::ok(status);
      });

  // {"tenant_id","client_id"} -> the client as the API shows it, or PSA_NOT_FOUND.
  calls.add("clients.get", "clients:read",
            [&store](const plugins::CallerInfo&, const Json::Value& request) {
              const auto tenant = required(request, "tenant_id");
              if (!tenant) return missing_field("tenant_id");
              const auto client = required(request, "client_id");
              if (!client) return missing_field("client_id");
              Json::Value out;
              store.read([&](store::Tx& tx) { out = clients::client_json(tx, *tenant, *client); });
              if (out.isNull()) return plugins::CallResult::error(PSA_NOT_FOUND, "no such client");
              return plugins::CallResult::ok(out);
            });

  // {"tenant_id","object_type","object_id"} -> {"external_id": "..."|null}, or
  // {"tenant_id","object_type","external_id"} -> {"object_id": "..."|null}: the links a
  // connector's changes made, in the caller's own system only. A connector pushing an approval
  // back needs the id its system knows the entry by; one mapping a time entry needs to know
  // whether its ticket is here yet. Another system's links are not its business.
  calls.add("external_refs.find", "",
            [&store](const plugins::CallerInfo& caller, const Json::Value& request) {
              const auto tenant = required(request, "tenant_id");
              if (!tenant) return missing_field("tenant_id");
              const auto type = required(request, "object_type");
              if (!type) return missing_field("object_type");
              const auto object_id = required(request, "object_id");
              const auto external_id = required(request, "external_id");
              if (object_id.has_value() == external_id.has_value()) {
                return plugins::CallResult::error(PSA_INVALID_ARGUMENT,
                                                  "give either object_id or external_id");
              }
              Json::Value out;
              store.read([&](store::Tx& tx) {
                if (object_id) {
                  // The oldest link wins should an object have been linked twice.
                  const auto row = tx.query_one(
                      "SELECT external_id FROM external_refs WHERE tenant_id = ? AND "
                      "object_type = ? AND object_id = ? AND system = ? ORDER BY created_at, "
                      "external_id LIMIT 1",
                      {*tenant, *type, *object_id, caller.plugin_id});
                  out["external_id"] = row ? Json::Value(row->text(0)) : Json::Value();
                } else {
                  const auto row = tx.query_one(
                      "SELECT object_id FROM external_refs WHERE tenant_id = ? AND system = ? "
                      "AND object_type = ? AND external_id = ?",
                      {*tenant, caller.plugin_id, *type, *external_id});
                  out["object_id"] = row ? Json::Value(row->text(0)) : Json::Value();
                }
              });
              return plugins::CallResult::ok(out);
            });

  // {"tenant_id","client_id"} -> {"released": n}
  calls.add("sales_items.release_held", "sales_items:write",
            [&store](const plugins::CallerInfo& caller, const Json::Value& request) {
              const auto tenant = required(request, "tenant_id");
              if (!tenant) return missing_field("tenant_id");
              const auto client = required(request, "client_id");
              if (!client) return missing_field("client_id");
              Json::Value out;
              out["released"] = static_cast<Json::Int64>(
                  release_held_sales_items(store, *tenant, *client, caller.plugin_id));
              return plugins::CallResult::ok(out);
            });
}

void register_all_host_calls(plugins::HostCalls& calls, store::Store& store) {
  register_host_services(calls, store);
  approval::register_time_host_calls(calls, store);
  contracts::register_contract_host_calls(calls, store);
  billing::register_numbering_host_calls(calls, store);
  billing::register_invoice_host_calls(calls, store);
}

}  // namespace psahost::api
