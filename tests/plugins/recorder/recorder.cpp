// A test plugin: event.handle appends the event's seq to the key/value entry "seen" and fails
// the configured event types a configured number of times, so tests can watch event delivery.
#include <psa/sdk.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Everything that must outlive a reload (what was seen, attempts per event) is kept in the
// host's key/value store rather than in this object.
class Recorder final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    host_ = &host;
    for (const auto& type : config["fail_types"]) fail_types_.push_back(type.asString());
    fail_times_ = config["fail_times"].asInt();
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook != "event.handle") throw psa::HookError(PSA_NOT_FOUND, "no such hook");
    const std::string seq = std::to_string(request["seq"].asInt64());
    const std::string type = request["type"].asString();
    increment("calls");

    if (request["data"].isObject() && request["data"]["retry"].asBool()) {
      increment("tries:" + seq);
      Json::Value answer;
      answer["retry"] = true;
      return answer;
    }
    if (std::find(fail_types_.begin(), fail_types_.end(), type) != fail_types_.end()) {
      const int64_t tries = increment("tries:" + seq);
      host_->kv_put("attempt:" + seq, std::to_string(request["attempt"].asInt()));
      if (fail_times_ < 0 || tries <= fail_times_) {
        throw std::runtime_error("recorder fails " + type + " event " + seq + " (try " +
                                 std::to_string(tries) + ")");
      }
    }
    const auto seen = host_->kv_get("seen");
    host_->kv_put("seen", seen && !seen->empty() ? *seen + "," + seq : seq);
    Json::Value answer;
    answer["ok"] = true;
    return answer;
  }

 private:
  int64_t increment(const std::string& key) const {
    const auto current = host_->kv_get(key);
    const int64_t next = (current ? std::stoll(*current) : 0) + 1;
    host_->kv_put(key, std::to_string(next));
    return next;
  }

  const psa::Host* host_ = nullptr;
  std::vector<std::string> fail_types_;
  int fail_times_ = 0;
};

}  // namespace

PSA_PLUGIN(Recorder, R"({"id":"recorder","version":"0.1.0","hooks":["event.handle"]})")
