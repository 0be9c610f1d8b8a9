// A test plugin: allows every invoice.issue after delay_ms, so a billing run lasts long enough
// for a test to kill the host in the middle of it.
#include <psa/sdk.hpp>

#include <chrono>
#include <thread>

namespace {

class SlowGate final : public psa::Plugin {
 public:
  void init(const psa::Host&, const Json::Value& config) override {
    delay_ = std::chrono::milliseconds(config["delay_ms"].asInt());
  }

  Json::Value handle(std::string_view hook, const Json::Value&) override {
    if (hook != "admission.review") throw psa::HookError(PSA_NOT_FOUND, "no such hook");
    std::this_thread::sleep_for(delay_);
    Json::Value allow;
    allow["allowed"] = true;
    return allow;
  }

 private:
  std::chrono::milliseconds delay_{0};
};

}  // namespace

PSA_PLUGIN(SlowGate, R"({"id":"slow-gate","version":"0.1.0","hooks":["admission.review"]})")
