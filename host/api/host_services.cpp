#include "api/host_services.hpp"

#include "api/client_queries.hpp"
#include "core/clock.hpp"

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

void register_host_services(plugins::HostCalls& calls, store::Store& store) {
  calls.add("clock.now", "", [](const plugins::CallerInfo&, const Json::Value&) {
    Json::Value v;
    v["now"] = now_rfc3339();
    return plugins::CallResult::ok(v);
  });

  // {"tenant_id","client_id"} -> {"exists","complete","missing":[...],"name"}
  calls.add("billing_info.status", "billing_info:read",
            [&store](const plugins::CallerInfo&, const Json::Value& request) {
              const auto tenant = required(request, "tenant_id");
              if (!tenant) return missing_field("tenant_id");
              const auto client = required(request, "client_id");
              if (!client) return missing_field("client_id");
              Json::Value status;
              store.read([&](store::Tx& tx) { status = billing_status(tx, *tenant, *client); });
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
              store.read([&](store::Tx& tx) { out = client_json(tx, *tenant, *client); });
              if (out.isNull()) return plugins::CallResult::error(PSA_NOT_FOUND, "no such client");
              return plugins::CallResult::ok(out);
            });
}

}  // namespace psahost::api
