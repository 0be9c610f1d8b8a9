// Example plugin: refuses sales items whose quantity is above max_quantity.
#include <psa/sdk.hpp>

namespace {

class QuantityLimit final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    max_quantity_ = config["max_quantity"].asInt64();
    host.info("quantity limit is " + std::to_string(max_quantity_));
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook != "admission.review") throw psa::HookError(PSA_NOT_FOUND, "unknown hook");
    Json::Value verdict;
    const auto quantity = request["object"]["quantity"].asInt64();
    verdict["allowed"] = quantity <= max_quantity_;
    if (quantity > max_quantity_) {
      verdict["type"] = "quantity-over-limit";
      verdict["reason"] = "Quantity " + std::to_string(quantity) + " is above the limit of " +
                          std::to_string(max_quantity_) + ".";
      verdict["prompt"]["action"] = "check_quantity";
    }
    return verdict;
  }

 private:
  Json::Int64 max_quantity_ = 100;
};

}  // namespace

PSA_PLUGIN(QuantityLimit,
           R"({"id":"quantity-limit","version":"1.0.0","hooks":["admission.review"]})")
