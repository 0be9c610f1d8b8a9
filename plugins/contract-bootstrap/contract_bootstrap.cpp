// Contract bootstrapping: one draft contract per client that has services assigned and no
// contract, its parts taken from those services and priced from the catalog in its currency.
//
// What it decides, per client:
// - currency: the client's billing currency; without one, the configured default_currency, and
//   the draft is flagged currency_assumed so the partner checks it;
// - a part per assigned service: the product's part type and name; a per-unit, per-hour or
//   usage product takes the assigned quantity and follows the assignment, a fixed-price product
//   is one unit at its price and does not follow it; a product with no price in the currency
//   gives a part without price, reported in unpriced_parts (activation is refused until set);
// - contact email, invoice delivery and payment method from the client's billing info.
// The host answers the questions (bootstrap.candidates) and writes the drafts
// (contracts.create_drafts), one batch of clients per call and one transaction per batch.
#include <psa/sdk.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; }));
}

class ContractBootstrap final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    host_ = &host;
    default_currency_ = config.get("default_currency", "EUR").asString();
    batch_size_ = std::clamp(config.get("batch_size", 500).asInt(), 1, 5000);
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "command.bootstrap") return bootstrap(request);
    if (hook == "event.handle") return on_event(request);
    throw psa::HookError(PSA_NOT_FOUND, "contract-bootstrap does not handle " + std::string(hook));
  }

 private:
  struct Report {
    Json::Value created = Json::Value(Json::arrayValue);
    Json::Value skipped = Json::Value(Json::arrayValue);
  };

  // {"tenant_id","actor","client_ids":[...]} or {"tenant_id","actor","all":true,"after","limit"},
  // with "dry_run" -> {"created":[...],"skipped":[...],"next_after","dry_run"}. With all, limit
  // caps the clients looked at in this call and next_after says where the next call goes on.
  Json::Value bootstrap(const Json::Value& request) const {
    const Json::Value tenant = request["tenant_id"];
    if (!tenant.isString() || tenant.asString().empty()) {
      throw psa::HookError(PSA_INVALID_ARGUMENT, "tenant_id is required");
    }
    const bool dry_run = request["dry_run"].isBool() && request["dry_run"].asBool();
    Report report;
    Json::Value next_after;
    if (request["client_ids"].isArray()) {
      std::vector<std::string> ids;
      std::unordered_set<std::string> seen;
      for (const auto& id : request["client_ids"]) {
        if (id.isString() && seen.insert(id.asString()).second) ids.push_back(id.asString());
      }
      for (std::size_t i = 0; i < ids.size(); i += static_cast<std::size_t>(batch_size_)) {
        Json::Value query;
        query["tenant_id"] = tenant;
        query["client_ids"] = Json::Value(Json::arrayValue);
        const std::size_t end = std::min(ids.size(), i + static_cast<std::size_t>(batch_size_));
        for (std::size_t j = i; j < end; ++j) query["client_ids"].append(ids[j]);
        process(request, host_->call("bootstrap.candidates", query), dry_run, report);
      }
    } else if (request["all"].isBool() && request["all"].asBool()) {
      std::string after = request["after"].isString() ? request["after"].asString() : "";
      int64_t left = request["limit"].isInt64() ? request["limit"].asInt64() : -1;
      while (left != 0) {
        Json::Value query;
        query["tenant_id"] = tenant;
        query["all"] = true;
        query["after"] = after;
        query["limit"] =
            static_cast<Json::Int64>(left < 0 ? batch_size_ : std::min<int64_t>(left, batch_size_));
        const Json::Value page = host_->call("bootstrap.candidates", query);
        process(request, page, dry_run, report);
        if (left > 0) left -= static_cast<int64_t>(page["clients"].size());
        if (!page["next_after"].isString()) break;
        after = page["next_after"].asString();
        if (left == 0) next_after = after;
      }
    } else {
      throw psa::HookError(PSA_INVALID_ARGUMENT, "give client_ids or all:true");
    }
    Json::Value out;
    out["created"] = std::move(report.created);
    out["skipped"] = std::move(report.skipped);
    out["next_after"] = next_after;
    out["dry_run"] = dry_run;
    return out;
  }

  // Decides for one batch of candidates and, unless it is a dry run, writes their drafts.
  void process(const Json::Value& request, const Json::Value& candidates, bool dry_run,
               Report& report) const {
    const Json::Value& clients = candidates["clients"];
    const Json::Value& products = candidates["products"];
    Json::Value drafts(Json::arrayValue);
    std::vector<Json::Value> planned;  // per draft: what the report says about it
    for (const auto& c : clients) {
      const std::string client_id = c["client_id"].asString();
      std::string reason;
      if (!c["exists"].asBool()) {
        reason = "not_found";
      } else if (c["has_contract"].asBool()) {
        reason = "has_contract";
      } else if (c["services"].empty()) {
        reason = "no_services";
      }
      if (!reason.empty()) {
        report.skipped.append(skip(client_id, reason));
        continue;
      }
      Json::Value plan;
      drafts.append(draft_for(c, products, plan));
      planned.push_back(std::move(plan));
    }
    if (drafts.empty()) return;
    if (dry_run) {
      for (auto& plan : planned) {
        plan["contract_id"] = Json::Value();
        report.created.append(std::move(plan));
      }
      return;
    }
    Json::Value write;
    write["tenant_id"] = request["tenant_id"];
    write["actor"] = request["actor"];
    write["drafts"] = std::move(drafts);
    const Json::Value written = host_->call("contracts.create_drafts", write);
    std::size_t next = 0;
    for (const auto& created : written["created"]) {
      // The host answers in draft order, leaving out the ones it skipped.
      while (next < planned.size() &&
             planned[next]["client_id"].asString() != created["client_id"].asString()) {
        ++next;
      }
      if (next == planned.size()) break;
      Json::Value entry = std::move(planned[next++]);
      entry["contract_id"] = created["contract_id"];
      entry["reference_number"] = created["reference_number"];
      const Json::Value& part_ids = created["part_ids"];
      for (auto& unpriced : entry["unpriced_parts"]) {
        unpriced["part_id"] = part_ids[unpriced["index"].asUInt()];
        unpriced.removeMember("index");
      }
      report.created.append(std::move(entry));
    }
    for (const auto& skipped : written["skipped"]) {
      report.skipped.append(skip(skipped["client_id"].asString(), skipped["reason"].asString()));
    }
  }

  Json::Value draft_for(const Json::Value& c, const Json::Value& products,
                        Json::Value& plan) const {
    const Json::Value& billing = c["billing"];
    const std::string billing_currency = billing["currency"].asString();
    const std::string currency = billing_currency.empty() ? default_currency_ : billing_currency;
    const std::string client_name = c["name"].asString();
    const std::string name =
        utf8_length(client_name) + 9 <= 200 ? client_name + " services" : client_name;

    Json::Value draft;
    draft["client_id"] = c["client_id"];
    draft["name"] = name;
    draft["currency"] = currency;
    const std::string email = billing["email"].asString();
    if (!email.empty()) draft["contact_email"] = email;
    const std::string delivery = billing["invoice_delivery"].asString();
    if (!delivery.empty()) draft["invoice_delivery"] = delivery;
    draft["payment_method"] = billing["direct_debit"].asBool() ? "direct_debit" : "manual";
    draft["parts"] = Json::Value(Json::arrayValue);

    plan["client_id"] = c["client_id"];
    plan["currency"] = currency;
    plan["currency_assumed"] = billing_currency.empty();
    plan["billing_info_complete"] = billing["complete"].asBool();
    plan["unpriced_parts"] = Json::Value(Json::arrayValue);
    for (const auto& service : c["services"]) {
      const std::string sku = service["sku"].asString();
      const Json::Value& product = products[sku];
      const bool fixed = product.isObject() && product["pricing"].asString() == "fixed";
      Json::Value part;
      part["sku"] = sku;
      part["type"] = product.isObject() ? product["part_type"].asString() : "default";
      part["description"] = product.isObject() ? product["name"].asString() : sku;
      part["quantity"] = fixed ? Json::Value(1) : service["quantity"];
      part["follows_assignment"] = !fixed;
      const Json::Value& price = product.isObject() ? product["prices"][currency] : Json::Value();
      if (price.isInt64() && price.asInt64() >= 0) {
        part["price"] = price;
      } else {
        // The part's id once written; until then (and in a dry run) its index in the draft.
        Json::Value unpriced;
        unpriced["index"] = draft["parts"].size();
        unpriced["sku"] = sku;
        unpriced["part_id"] = Json::Value();
        plan["unpriced_parts"].append(unpriced);
      }
      draft["parts"].append(std::move(part));
    }
    plan["parts"] = draft["parts"].size();
    return draft;
  }

  // A changed service assignment: parts that follow it take the client's new quantities.
  Json::Value on_event(const Json::Value& event) const {
    Json::Value answer;
    answer["ok"] = true;
    if (event["type"].asString() != "service.assigned") return answer;
    Json::Value request;
    request["tenant_id"] = event["tenant_id"];
    request["client_id"] = event["data"]["client_id"];
    request["event_seq"] = event["seq"];
    request["actor"] = "plugin:contract-bootstrap";
    answer["updated"] = host_->call("contracts.sync_assignment", request)["updated"].size();
    return answer;
  }

  static Json::Value skip(const std::string& client_id, const std::string& reason) {
    Json::Value v;
    v["client_id"] = client_id;
    v["reason"] = reason;
    return v;
  }

  const psa::Host* host_ = nullptr;
  std::string default_currency_ = "EUR";
  int batch_size_ = 500;
};

}  // namespace

PSA_PLUGIN(ContractBootstrap, R"({"id":"contract-bootstrap","version":"1.0.0",)"
                              R"("hooks":["command.bootstrap","event.handle"]})")
