// The ConnectWise PSA connector: callbacks (signed with the key at Metadata.key_url, verified by
// the host) become clients, tickets and time entries; what psahost decides about that time, and
// the agreements of our contracts, go back to ConnectWise.
#include "connectwise.hpp"

#include <mutex>

namespace connectwise {
namespace {

class ConnectWise final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& /*config*/) override { host_ = &host; }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    const ManageApi api(*host_, request);
    if (hook == "webhook.map") return logged(map_callback(api, request["payload"]));
    if (hook == "sync.push") {
      // A push that outran its timeout_ms goes on in the background while the host tries the
      // event again: the retry waits for it here, so that its lookup sees what that one made.
      std::lock_guard lock(push_mutex_);
      return push_event(api, request["event"]);
    }
    if (hook == "command.test") return test(api);
    throw psa::HookError(PSA_NOT_FOUND, "connectwise does not handle " + std::string(hook));
  }

 private:
  // psahost connections test: the site answers with the connection's keys.
  static Json::Value test(const ManageApi& api) {
    Json::Value out;
    try {
      const Json::Value info = api.expect_ok("GET", "/system/info");
      out["ok"] = true;
      out["detail"] = "ConnectWise PSA " + info["version"].asString() + " answered at " +
                      api.connection()["base_url"].asString() + "; " + describe_codes(api);
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
}  // namespace connectwise

PSA_PLUGIN(connectwise::ConnectWise,
           R"({"id":"connectwise","version":"1.0.0","hooks":["webhook.map","sync.push",)"
           R"("command.test"]})")
