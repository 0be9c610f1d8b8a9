// The billing-info gate: no time approval, no sales item, no contract activation and no invoice
// for a client whose billing information is incomplete; each refusal prompts to add it.
#include <psa/sdk.hpp>

#include <string>

namespace {

using psa::admission::allow;
using psa::admission::deny;

class BillingGate final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    host_ = &host;
    gate_invoices_ = config.get("gate_invoices", true).asBool();
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "admission.review") return review(request);
    if (hook == "event.handle") return on_event(request);
    throw psa::HookError(PSA_NOT_FOUND, "billing-gate does not handle " + std::string(hook));
  }

 private:
  // Usage synced while billing info was missing waits as held drafts; when the info becomes
  // complete, those drafts become billable without anyone having to find them.
  Json::Value on_event(const Json::Value& event) const {
    Json::Value done;
    done["ok"] = true;
    if (event["type"].asString() != "billing_info.updated" || !event["data"]["complete"].asBool()) {
      return done;
    }
    Json::Value release;
    release["tenant_id"] = event["tenant_id"];
    release["client_id"] = event["data"]["client_id"];
    const Json::Value result = host_->call("sales_items.release_held", release);
    if (result["released"].asInt64() > 0) {
      host_->info("released " + result["released"].asString() + " held sales item(s) of " +
                  event["data"]["client_id"].asString());
    }
    return done;
  }

  Json::Value review(const Json::Value& request) const {
    const std::string operation = request["operation"].asString();
    const Json::Value& object = request["object"];
    const Json::Value& old_object = request["old_object"];
    const std::string client_id = object["client_id"].asString();

    if (operation == "invoice.issue" && !gate_invoices_) return allow();
    // Editing a sales item is gated when it moves to another client or becomes billable
    // (approved); other edits pass.
    if (operation == "sales_item.update") {
      const bool moves =
          object.isMember("client_id") && object["client_id"] != old_object["client_id"];
      const bool becomes_billable = object["status"].asString() == "approved" &&
                                    old_object["status"].asString() != "approved";
      if (!moves && !becomes_billable) return allow();
    }
    if (client_id.empty()) {
      return deny("invalid-object", "The " + operation + " request names no client_id.",
                  Json::nullValue);
    }

    Json::Value query;
    query["tenant_id"] = request["tenant_id"];
    query["client_id"] = client_id;
    const Json::Value status = host_->call("billing_info.status", query);
    if (!status["exists"].asBool()) {
      return deny("client-not-found", "Client " + client_id + " is not known.", Json::nullValue);
    }
    if (status["complete"].asBool()) return allow();

    Json::Value prompt;
    prompt["action"] = "add_billing_info";
    prompt["client_id"] = client_id;
    prompt["missing"] = status["missing"];
    const std::string name = status["name"].asString();
    return deny("billing-info-required",
                "Billing information for " + (name.empty() ? client_id : name) +
                    " is incomplete; add it before " + describe(operation) + ".",
                prompt);
  }

  static std::string describe(const std::string& operation) {
    if (operation == "time_entry.approve") return "approving its ticket time";
    if (operation == "sales_item.create") return "creating a sales item for it";
    if (operation == "sales_item.update") return "billing a sales item to it";
    if (operation == "contract.activate") return "activating its contract";
    if (operation == "invoice.issue") return "invoicing it";
    return operation;
  }

  const psa::Host* host_ = nullptr;
  bool gate_invoices_ = true;
};

}  // namespace

PSA_PLUGIN(BillingGate,
           R"({"id":"billing-gate","version":"1.0.0","hooks":["admission.review","event.handle"]})")
