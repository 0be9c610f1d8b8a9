// The Autotask (Datto) PSA connector: webhooks (X-Hook-Signature, verified by the host) become
// clients, tickets and time entries in SequenceNumber order; what psahost decides about that
// time, and the contracts of Autotask companies, go back to Autotask.
#include "autotask.hpp"

#include <mutex>

namespace autotask {
namespace {

class Autotask final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& /*config*/) override { host_ = &host; }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    const RestApi api(*host_, request);
    if (hook == "webhook.map") return logged(map_webhook(api, request["payload"]));
    if (hook == "sync.push") {
      // A push that outran its timeout_ms goes on in the background while the host tries the
      // event again: the retry waits for it here, so that its lookup sees what that one made.
      std::lock_guard lock(push_mutex_);
      return push_event(api, request["event"]);
    }
    if (hook == "command.test") return test(api);
    if (hook == "command.poll") return logged(poll_changes(api, request["cursor"]));
    throw psa::HookError(PSA_NOT_FOUND, "autotask does not handle " + std::string(hook));
  }

 private:
  // psahost connections test: the zone answers the connection's API user.
  static Json::Value test(const RestApi& api) {
    Json::Value out;
    try {
      const Json::Value t = api.expect_ok("GET", "/ThresholdInformation");
      out["ok"] = true;
      read_codes(api);
      out["detail"] = "Autotask answered at " + api.connection()["base_url"].asString() + " (" +
                      t["currentTimeframeRequestCount"].asString() + " of " +
                      t["externalRequestThreshold"].asString() + " requests used this hour); " +
                      describe_codes(api);
    } catch (const std::exception& e) {
      out["ok"] = false;
      out["detail"] = e.what();
    }
    return out;
  }

  // What a delivery changed nothing for (an ignored record, a stale event) is said in the log.
  Json::Value logged(Json::Value answer) const {
    if (answer["note"].isString()) host_->info(answer["note"].asString());
    return answer;
  }

  const psa::Host* host_ = nullptr;
  std::mutex push_mutex_;
};

}  // namespace
}  // namespace autotask

PSA_PLUGIN(autotask::Autotask,
           R"({"id":"autotask","version":"1.0.0","hooks":["webhook.map","sync.push",)"
           R"("command.test","command.poll"]})")
