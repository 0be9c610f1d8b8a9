// Ticket-time approval: decides which time entries may be approved, at what billed minutes and
// rate, and which workflow transitions (reject, un-approve, edit) an entry may take.
//
// What it decides:
// - workflow: submitted -> approved | rejected; approved -> submitted (un-approve) until
//   invoiced; rejected -> submitted by an edit (resubmission); invoiced entries never change;
// - billed minutes: the registered minutes rounded up, per entry, to a multiple of the client's
//   roundup (billing info; default_roundup_minutes without billing info). Registered minutes
//   are kept beside them by the host;
// - rate (minor units per hour): the client's active contract labour part for the entry's kind
//   of work (its work_type, or the catalog's default labour SKU when it has none), else the
//   catalog's default labour product priced in the client's currency. A billable entry without
//   either is refused (labour-rate-required) with a prompt to set one;
// - a non-billable entry is approved with neither billed minutes nor rate: nothing is billed.
// The host gathers the facts (time.approval_context, one call per batch) and applies the
// decisions; the same rules answer admission reviews, so the platform hears the same verdict.
#include <psa/sdk.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

struct LabourPart {
  std::string sku;
  int64_t rate = 0;
  std::string currency;
  std::string from;  // YYYY-MM-DD; "" = no bound
  std::string to;
};

struct ClientTerms {
  bool exists = false;
  std::string name;
  int roundup = 10;
  std::string currency;  // the client's billing currency; "" when unknown
  std::vector<LabourPart> parts;
  std::string default_sku;              // the catalog's default labour product, or ""
  std::optional<int64_t> default_rate;  // its price in the client's currency
};

struct Rate {
  int64_t per_hour = 0;
  std::string currency;
  std::string source;  // "contract" | "catalog"
  std::string sku;
};

using psa::admission::allow;
using psa::admission::deny;

std::string text(const Json::Value& v) {
  return v.isString() ? v.asString() : std::string();
}

class TimeApproval final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    host_ = &host;
    const Json::Value& roundup = config["default_roundup_minutes"];
    if (!roundup.isNull()) {
      if (!roundup.isInt() || roundup.asInt() < 1 || roundup.asInt() > 60) {
        throw std::invalid_argument("default_roundup_minutes must be an integer from 1 to 60");
      }
      default_roundup_ = roundup.asInt();
    }
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "command.approve") return approve(request);
    if (hook == "command.transition") return transition(request);
    if (hook == "admission.review") return review(request);
    throw psa::HookError(PSA_NOT_FOUND, "time-approval does not handle " + std::string(hook));
  }

 private:
  // {"tenant_id","entries":[{id,client_id,minutes,billable,work_type,work_date}]} ->
  // {"decisions":[{id,approve,billed_minutes,rate,currency,rate_source,type,reason,prompt}]},
  // one decision per entry in the order given.
  Json::Value approve(const Json::Value& request) const {
    const std::string tenant = required_tenant(request);
    const Json::Value& entries = request["entries"];
    if (!entries.isArray()) throw psa::HookError(PSA_INVALID_ARGUMENT, "entries is required");
    std::vector<std::string> client_ids;
    std::unordered_set<std::string> seen;
    for (const auto& e : entries) {
      const std::string client = text(e["client_id"]);
      if (!client.empty() && seen.insert(client).second) client_ids.push_back(client);
    }
    const auto terms = context(tenant, client_ids);
    Json::Value out;
    Json::Value& decisions = out["decisions"] = Json::Value(Json::arrayValue);
    for (const auto& e : entries) decisions.append(decide(e, terms));
    return out;
  }

  Json::Value decide(const Json::Value& entry,
                     const std::map<std::string, ClientTerms>& all) const {
    Json::Value d;
    d["id"] = entry["id"];
    d["approve"] = false;
    d["billed_minutes"] = Json::Value();
    d["rate"] = Json::Value();
    d["currency"] = Json::Value();
    const std::string client_id = text(entry["client_id"]);
    const auto it = all.find(client_id);
    if (it == all.end() || !it->second.exists) {
      d["type"] = "client-not-found";
      d["reason"] = "Client " + client_id + " is not known.";
      return d;
    }
    const ClientTerms& terms = it->second;
    const Json::Value& minutes = entry["minutes"];
    if (!minutes.isInt() || minutes.asInt() < 1 || minutes.asInt() > 24 * 60) {
      d["type"] = "invalid-entry";
      d["reason"] = "The entry's minutes must be an integer from 1 to 1440.";
      return d;
    }
    if (!is_billable(entry)) {
      d["approve"] = true;  // nothing is billed, so no rate is needed
      return d;
    }
    const auto rate = rate_for(terms, text(entry["work_type"]), text(entry["work_date"]));
    if (!rate) {
      d["type"] = "labour-rate-required";
      d["reason"] = no_rate_reason(terms, client_id);
      d["prompt"] = rate_prompt(terms, client_id);
      return d;
    }
    d["approve"] = true;
    d["billed_minutes"] = round_up(minutes.asInt(), terms.roundup);
    d["rate"] = static_cast<Json::Int64>(rate->per_hour);
    d["currency"] = rate->currency;
    d["rate_source"] = rate->source;
    return d;
  }

  // The same rules as command.approve for one client. The object is one entry (the API's single
  // approval, or the platform asking about one), {"client_id","entries":[...]} (the platform
  // asking about several; a denial names the entries without a rate in prompt.entry_ids), or a
  // bulk approval's group {"client_id","entry_ids",...}.
  Json::Value review(const Json::Value& request) const {
    if (text(request["operation"]) != "time_entry.approve") return allow();
    const std::string tenant = required_tenant(request);
    const Json::Value& object = request["object"];
    const std::string client_id = text(object["client_id"]);
    if (client_id.empty()) {
      return deny("invalid-object", "The time_entry.approve request names no client_id.",
                  Json::nullValue);
    }
    const auto all = context(tenant, {client_id});
    const ClientTerms& terms = all.at(client_id);
    if (!terms.exists) {
      return deny("client-not-found", "Client " + client_id + " is not known.", Json::nullValue);
    }
    // A bulk approval's group names its entries by id only: the host asks command.approve
    // about each of them next, by these same rules, so there is nothing to judge here.
    if (object["entry_ids"].isArray() && !object.isMember("entries")) return allow();
    const bool grouped = object["entries"].isArray();
    Json::Value single(Json::arrayValue);
    if (!grouped) single.append(object);
    const Json::Value& entries = grouped ? object["entries"] : single;
    Json::Value without_rate(Json::arrayValue);
    for (const auto& e : entries) {
      if (!is_billable(e)) continue;
      if (!rate_for(terms, text(e["work_type"]), text(e["work_date"]))) {
        without_rate.append(e["id"].isString() ? e["id"] : Json::Value());
      }
    }
    if (without_rate.empty()) return allow();
    Json::Value prompt = rate_prompt(terms, client_id);
    if (grouped) prompt["entry_ids"] = without_rate;
    return deny("labour-rate-required", no_rate_reason(terms, client_id), prompt);
  }

  // {"action":"reject"|"unapprove"|"edit","entry":{...,"status"}} ->
  // {"allowed":true,"changed":bool,"status","event"} or {"allowed":false,"type","reason"}.
  Json::Value transition(const Json::Value& request) const {
    const std::string action = text(request["action"]);
    const std::string status = text(request["entry"]["status"]);
    const std::string id = text(request["entry"]["id"]);
    auto to = [](const std::string& next, const std::string& event) {
      Json::Value v = allow();
      v["changed"] = true;
      v["status"] = next;
      v["event"] = event;
      return v;
    };
    auto unchanged = [&](const std::string& detail) {
      Json::Value v = allow();
      v["changed"] = false;
      v["status"] = status;
      v["detail"] = detail;
      return v;
    };
    auto refuse = [&](const std::string& type, const std::string& reason) {
      return deny(type, reason, Json::nullValue);
    };
    if (status == "invoiced") {
      return refuse("entry-invoiced",
                    "Time entry " + id + " is invoiced; invoiced time never changes.");
    }
    if (action == "reject") {
      if (status == "submitted") return to("rejected", "time_entry.rejected");
      if (status == "rejected") return unchanged("time entry " + id + " was already rejected");
      return refuse("invalid-transition",
                    "Time entry " + id + " is approved; un-approve it before rejecting it.");
    }
    if (action == "unapprove") {
      if (status == "approved") return to("submitted", "time_entry.unapproved");
      return refuse("invalid-transition",
                    "Time entry " + id + " is " + status + ", not approved; nothing to undo.");
    }
    if (action == "edit") {
      if (status == "submitted") return to("submitted", "time_entry.updated");
      if (status == "rejected") return to("submitted", "time_entry.resubmitted");
      return refuse("invalid-transition",
                    "Time entry " + id + " is approved; un-approve it before editing it.");
    }
    throw psa::HookError(PSA_INVALID_ARGUMENT, "unknown action '" + action + "'");
  }

  static bool is_billable(const Json::Value& entry) {
    // An entry is billable unless marked otherwise.
    return !entry["billable"].isBool() || entry["billable"].asBool();
  }

  // The contract's labour part for this kind of work wins over the catalog's default labour.
  static std::optional<Rate> rate_for(const ClientTerms& terms, const std::string& work_type,
                                      const std::string& work_date) {
    const std::string& kind = work_type.empty() ? terms.default_sku : work_type;
    if (!kind.empty()) {
      for (const auto& p : terms.parts) {
        if (p.sku != kind) continue;
        // Dates are YYYY-MM-DD, so text order is date order; an entry without a date is judged
        // by the part's existence alone.
        if (!work_date.empty() &&
            ((!p.from.empty() && work_date < p.from) || (!p.to.empty() && work_date > p.to))) {
          continue;
        }
        return Rate{p.rate, p.currency, "contract", p.sku};
      }
    }
    if (terms.default_rate) {
      return Rate{*terms.default_rate, terms.currency, "catalog", terms.default_sku};
    }
    return std::nullopt;
  }

  static std::string no_rate_reason(const ClientTerms& terms, const std::string& client_id) {
    const std::string who = terms.name.empty() ? client_id : terms.name;
    std::string why = "no active contract labour part for this kind of work and ";
    if (terms.default_sku.empty()) {
      why += "no default labour product in the catalog";
    } else if (terms.currency.empty()) {
      why += "no billing currency to price the default labour product " + terms.default_sku + " in";
    } else {
      why += "the default labour product " + terms.default_sku + " has no " + terms.currency +
             " price";
    }
    return "No labour rate for " + who + ": " + why +
           "; set one before approving its billable time.";
  }

  static Json::Value rate_prompt(const ClientTerms& terms, const std::string& client_id) {
    Json::Value prompt;
    prompt["action"] = "set_labour_rate";
    prompt["client_id"] = client_id;
    prompt["currency"] = terms.currency.empty() ? Json::Value() : Json::Value(terms.currency);
    prompt["default_labour_sku"] =
        terms.default_sku.empty() ? Json::Value() : Json::Value(terms.default_sku);
    return prompt;
  }

  static int round_up(int minutes, int roundup) {
    return (minutes + roundup - 1) / roundup * roundup;  // both bounded: no overflow
  }

  static std::string required_tenant(const Json::Value& request) {
    const std::string tenant = text(request["tenant_id"]);
    if (tenant.empty()) throw psa::HookError(PSA_INVALID_ARGUMENT, "tenant_id is required");
    return tenant;
  }

  // One host call for every client of a batch.
  std::map<std::string, ClientTerms> context(const std::string& tenant,
                                             const std::vector<std::string>& client_ids) const {
    Json::Value query;
    query["tenant_id"] = tenant;
    Json::Value& ids = query["client_ids"] = Json::Value(Json::arrayValue);
    for (const auto& id : client_ids) ids.append(id);
    const Json::Value answer = host_->call("time.approval_context", query);
    const Json::Value& clients = answer["clients"];
    std::map<std::string, ClientTerms> out;
    for (const auto& id : client_ids) {
      const Json::Value& c = clients[id];
      ClientTerms t;
      t.exists = c["exists"].asBool();
      t.name = text(c["name"]);
      t.roundup = default_roundup_;
      if (c["roundup_minutes"].isInt() && c["roundup_minutes"].asInt() >= 1 &&
          c["roundup_minutes"].asInt() <= 60) {
        t.roundup = c["roundup_minutes"].asInt();
      }
      t.currency = text(c["currency"]);
      for (const auto& p : c["labour_parts"]) {
        if (!p["rate"].isInt64() || p["rate"].asInt64() < 0) continue;
        t.parts.push_back(LabourPart{text(p["sku"]), p["rate"].asInt64(), text(p["currency"]),
                                     text(p["from"]), text(p["to"])});
      }
      const Json::Value& labour = c["default_labour"];
      t.default_sku = text(labour["sku"]);
      if (labour["rate"].isInt64() && labour["rate"].asInt64() >= 0) {
        t.default_rate = labour["rate"].asInt64();
      }
      out.emplace(id, std::move(t));
    }
    return out;
  }

  const psa::Host* host_ = nullptr;
  int default_roundup_ = 10;
};

}  // namespace

PSA_PLUGIN(TimeApproval, R"({"id":"time-approval","version":"1.0.0","hooks":["admission.review",)"
                         R"("command.approve","command.transition"]})")
