// A test connector standing in for an accounting system: it reports a configured last invoice
// number and, on invoice.issued, drives the invoice host calls an accounting connector uses,
// appending what each answered to its key/value entry "log" for the test to read.
#include <psa/sdk.hpp>

#include <mutex>
#include <string>

namespace {

class AccountingStub final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    host_ = &host;
    config_ = config;
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "command.last_invoice_number") return last_number();
    if (hook == "event.handle") return on_issued(request);
    throw psa::HookError(PSA_NOT_FOUND, "accounting-stub does not handle " + std::string(hook));
  }

 private:
  Json::Value last_number() const {
    if (config_["fail"].asBool()) throw std::runtime_error("the stub's books are unreachable");
    Json::Value out;
    out["system"] = config_["system"];
    const std::string last = config_["last_number"].asString();
    out["last_number"] = last.empty() ? Json::Value() : Json::Value(last);
    return out;
  }

  Json::Value on_issued(const Json::Value& event) {
    Json::Value done;
    done["ok"] = true;
    if (!config_["push"].asBool() || event["type"].asString() != "invoice.issued") return done;
    const std::string tenant = event["tenant_id"].asString();
    const std::string number = event["data"]["number"].asString();
    Json::Value find;
    find["tenant_id"] = tenant;
    find["number"] = number;
    const Json::Value found = host_->call("invoices.find", find);
    const std::string id = found["id"].asString();
    log(number + " found " + (id == event["object"]["id"].asString() ? "same" : "other"));
    Json::Value get;
    get["tenant_id"] = tenant;
    get["invoice_id"] = id;
    const Json::Value got = host_->call("invoices.get", get);
    log(number + " get lines=" + std::to_string(got["lines"].size()) +
        (got == found ? " same" : " other"));
    find["number"] = number + "-missing";
    try {
      host_->call("invoices.find", find);
      log(number + " missing found");
    } catch (const psa::HostError& e) {
      log(number + " missing refused " + std::to_string(e.code()));
    }

    Json::Value external;
    external["tenant_id"] = tenant;
    external["invoice_id"] = id;
    external["system"] = config_["system"];
    external["external_id"] = "SB-" + number;
    log(number + " external_id changed=" +
        (host_->call("invoices.set_external_id", external)["changed"].asBool() ? "yes" : "no"));
    if (!config_["mark_paid"].asBool()) return done;
    Json::Value paid;
    paid["tenant_id"] = tenant;
    paid["invoice_id"] = id;
    paid["status"] = "paid";
    paid["source"] = config_["system"];
    paid["reason"] = "payment received";
    for (int i = 0; i < 2; ++i) {
      log(number + " paid changed=" +
          (host_->call("invoices.set_status", paid)["changed"].asBool() ? "yes" : "no"));
    }
    paid["status"] = "void";
    try {
      host_->call("invoices.set_status", paid);
      log(number + " void allowed");
    } catch (const psa::HostError& e) {
      log(number + " void refused " + std::to_string(e.code()));
    }
    return done;
  }

  void log(const std::string& line) {
    std::lock_guard lock(mutex_);
    const auto before = host_->kv_get("log");
    host_->kv_put("log", before.value_or("") + line + "\n");
  }

  const psa::Host* host_ = nullptr;
  Json::Value config_;
  std::mutex mutex_;
};

}  // namespace

PSA_PLUGIN(
    AccountingStub,
    R"({"id":"accounting-stub","version":"0.1.0","hooks":["command.last_invoice_number","event.handle"]})")
