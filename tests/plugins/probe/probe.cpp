// A test plugin: its invoice.issue review performs the actions listed in object.probe and
// reports each outcome as a warning, so a test can see what the host allowed it to do.
#include <psa/sdk.hpp>

#include <chrono>
#include <thread>

namespace {

class Probe final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    host_ = &host;
    label_ = config["label"].asString();
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook != "admission.review") throw psa::HookError(PSA_NOT_FOUND, "no such hook");
    Json::Value answer;
    answer["allowed"] = true;
    answer["warnings"] = Json::Value(Json::arrayValue);
    for (const auto& step : request["object"]["probe"]) {
      answer["warnings"].append(run(step));
    }
    if (request["object"]["deny"].asBool()) {
      answer["allowed"] = false;
      answer["type"] = "probe-denied";
      answer["reason"] = "denied by " + label_;
    }
    if (request["object"]["garbage"].asBool()) answer = Json::Value("not an object");
    return answer;
  }

 private:
  std::string run(const Json::Value& step) const {
    if (step.isMember("sleep_ms")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(step["sleep_ms"].asInt()));
      return "slept";
    }
    if (step.isMember("throw")) throw std::runtime_error(step["throw"].asString());
    if (step.isMember("call")) {
      try {
        host_->call(step["call"].asString());
        return "call " + step["call"].asString() + ": ok";
      } catch (const psa::HostError& e) {
        return "call " + step["call"].asString() + ": error " + std::to_string(e.code());
      }
    }
    if (step.isMember("kv_put")) {
      host_->kv_put(step["kv_put"].asString(), step["value"].asString());
      return "kv_put ok";
    }
    if (step.isMember("kv_get")) {
      auto v = host_->kv_get(step["kv_get"].asString());
      return v ? "kv_get " + *v : "kv_get missing";
    }
    return "unknown step";
  }

  const psa::Host* host_ = nullptr;
  std::string label_;
};

}  // namespace

PSA_PLUGIN(Probe, R"({"id":"probe","version":"0.1.0","hooks":["admission.review"]})")
