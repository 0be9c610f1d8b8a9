// The generic Standard Webhooks connector: the host has verified the signature and the
// webhook-id already; this maps the event's type and data to the host's change operations.
#include <psa/sdk.hpp>

#include <set>
#include <string>

namespace {

const std::set<std::string> kOps = {
    "client.upsert",     "billing_info.put",    "services.put",      "ticket.upsert",
    "time_entry.upsert", "time_entry.approve",  "time_entry.reject", "sales_item.create",
    "invoice.status",    "invoice.external_id", "external_ref.link"};

class StandardWebhooks final : public psa::Plugin {
 public:
  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "webhook.map") return map(request["payload"]);
    throw psa::HookError(PSA_NOT_FOUND, "standard-webhooks does not handle " + std::string(hook));
  }

 private:
  // {"type": op, "data": {...}} -> one change; {"type": "changes", "data": {"changes": [...]}}
  // -> those; anything else is acknowledged with no change, and says why.
  static Json::Value map(const Json::Value& payload) {
    Json::Value out;
    out["changes"] = Json::Value(Json::arrayValue);
    const std::string type = payload["type"].isString() ? payload["type"].asString() : "";
    const Json::Value& data = payload["data"];
    if (type == "changes" && data["changes"].isArray()) {
      // Passed on as they are: the host checks each, and one it cannot use parks the delivery
      // where the partner sees it, instead of vanishing here.
      out["changes"] = data["changes"];
      return out;
    }
    if (kOps.count(type) && data.isObject()) {
      Json::Value change = data;
      change["op"] = type;
      out["changes"].append(change);
      return out;
    }
    out["note"] = type.empty() ? "the event has no type; ignored"
                               : "events of type " + type + " change nothing here; ignored";
    return out;
  }
};

}  // namespace

PSA_PLUGIN(StandardWebhooks,
           R"({"id":"standard-webhooks","version":"1.0.0","hooks":["webhook.map"]})")
