// A connector for the webhook engine's tests: its answers are chosen by what it is sent.
#include <psa/sdk.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace {

class WebhookProbe final : public psa::Plugin {
 public:
  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "webhook.map") return map(request["payload"]);
    if (hook == "sync.push") return push(request);
    if (hook == "sync.result") return result(request);
    throw psa::HookError(PSA_NOT_FOUND, "webhook-probe does not handle " + std::string(hook));
  }

 private:
  // {"changes":[...]} passes them on; {"fail":"why"} throws; {"sleep_ms":n} takes that long.
  static Json::Value map(const Json::Value& payload) {
    if (payload["sleep_ms"].isInt()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(payload["sleep_ms"].asInt()));
    }
    if (payload["fail"].isString()) throw std::runtime_error(payload["fail"].asString());
    Json::Value out;
    out["changes"] =
        payload["changes"].isArray() ? payload["changes"] : Json::Value(Json::arrayValue);
    return out;
  }

  static Json::Value push(const Json::Value& request) {
    const Json::Value& event = request["event"];
    if (event["data"]["name"].asString() == "Unpushable Ltd") {
      Json::Value out;
      out["failed"] = "the site takes no names this long";
      return out;
    }
    Json::Value r;
    r["method"] = "POST";
    r["path"] = "/clients";
    r["idempotency_key"] = "client-" + event["data"]["id"].asString();
    r["body"]["name"] = event["data"]["name"];
    r["body"]["psahost_id"] = event["data"]["id"];
    Json::Value out;
    out["requests"].append(r);
    return out;
  }

  // A 409 from the site means "already there": final, not worth another try. A 201 names the
  // id the site gave, which is linked to the client.
  static Json::Value result(const Json::Value& request) {
    Json::Value out;
    const Json::Value& response = request["response"];
    const int status = response.isObject() ? response["status"].asInt() : 0;
    if (status == 409) {
      out["outcome"] = "failed";
      out["reason"] = "the site already has this client";
    } else if (status == 201) {
      out["outcome"] = "delivered";
      const Json::Value body = psa::json::parse(response["body"].asString());
      Json::Value link;
      link["op"] = "external_ref.link";
      link["object_type"] = "client";
      link["object_id"] = psa::json::parse(request["request"]["body"].asString())["psahost_id"];
      link["ref"]["external_id"] = body["id"];
      out["changes"].append(link);
    }
    return out;
  }
};

}  // namespace

PSA_PLUGIN(WebhookProbe, R"({"id":"webhook-probe","version":"0.1.0","hooks":["webhook.map",)"
                         R"("sync.push","sync.result"]})")
