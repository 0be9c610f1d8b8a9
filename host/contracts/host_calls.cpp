// The host calls of the contract-bootstrap plugin. The plugin decides what each client's draft
// holds; the host checks what it is given and writes it through host/contracts.
#include "contracts/host_calls.hpp"

#include "contracts/contracts.hpp"
#include "core/clock.hpp"
#include "domain/billing_info.hpp"
#include "domain/contract.hpp"
#include "domain/fields.hpp"

#include <json/reader.h>

#include <memory>
#include <unordered_map>
#include <utility>

namespace psahost::contracts {
namespace {

constexpr int64_t kMaxBatch = 5000;

std::optional<std::string> required_text(const Json::Value& request, const char* name) {
  const Json::Value& v = request[name];
  if (!v.isString() || v.asString().empty()) return std::nullopt;
  return v.asString();
}

plugins::CallResult invalid(const std::string& message) {
  return plugins::CallResult::error(PSA_INVALID_ARGUMENT, message);
}

std::string describe_errors(const Json::Value& errors) {
  std::string text;
  for (const auto& e : errors) {
    text += (text.empty() ? "" : "; ") + e["field"].asString() + ": " + e["message"].asString();
  }
  return text;
}

// The actor recorded for a plugin's write: the token that asked for it, when the plugin passes
// it on, else the plugin itself.
std::string actor_of(const plugins::CallerInfo& caller, const Json::Value& request) {
  const Json::Value& actor = request["actor"];
  if (actor.isString() && !actor.asString().empty() && actor.asString().size() <= 100) {
    return actor.asString();
  }
  return "plugin:" + caller.plugin_id;
}

// Fills out[id] for each of ids that is a client of the tenant: its name, billing summary,
// whether it has a contract, and its assigned services; products[sku] gets the catalog entry of
// each product those services name (once per call, not once per service). Clients are
// read one by one by primary key; services by one scan of the (tenant, client) index when the
// ids are a sorted page (contiguous), else one scan per client.
void describe_clients(store::Tx& tx, const std::string& tenant, const std::vector<std::string>& ids,
                      bool contiguous, std::unordered_map<std::string, Json::Value>& out,
                      Json::Value& products) {
  // One reader for the whole page; from_text() would build one per stored document.
  Json::CharReaderBuilder builder;
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  const auto parse = [&reader](const std::string& text) {
    Json::Value v;
    std::string errors;
    if (!reader->parse(text.data(), text.data() + text.size(), &v, &errors)) {
      throw store::StoreError("stored JSON is malformed: " + errors);
    }
    return v;
  };
  for (const auto& id : ids) {
    if (out.count(id)) continue;
    const auto r =
        tx.query_one(std::string("SELECT c.name, b.data, ") + contracts::has_contract_condition() +
                         " FROM clients c LEFT JOIN billing_info b ON b.client_id = "
                         "c.id WHERE c.id = ? AND c.tenant_id = ?",
                     {id, tenant});
    if (!r) continue;
    Json::Value c;
    c["client_id"] = id;
    c["exists"] = true;
    c["name"] = r->text(0);
    c["has_contract"] = r->integer(2) != 0;
    Json::Value billing;
    billing["exists"] = !r->is_null(1);
    billing["complete"] = false;
    billing["missing"] = Json::Value(Json::arrayValue);
    if (r->is_null(1)) {
      billing["missing"].append("billing_info");
    } else if (auto parsed = domain::parse_billing_info(parse(r->text(1))); parsed.info) {
      const auto& info = *parsed.info;
      for (const auto& m : info.missing()) billing["missing"].append(m);
      billing["complete"] = billing["missing"].empty();
      billing["currency"] = info.currency;
      billing["email"] = info.email;
      billing["invoice_delivery"] = info.invoice_delivery;
      billing["direct_debit"] = info.direct_debit;
    }
    c["billing"] = std::move(billing);
    c["services"] = Json::Value(Json::arrayValue);
    out[id] = std::move(c);
  }
  const auto services = [&](const std::string& lo, const std::string& hi) {
    tx.each(
        "SELECT s.client_id, s.sku, s.quantity, p.name, p.unit, p.part_type, p.pricing, "
        "p.prices FROM service_assignments s LEFT JOIN products p ON p.tenant_id = s.tenant_id "
        "AND p.sku = s.sku WHERE s.tenant_id = ? AND s.client_id BETWEEN ? AND ? AND "
        "s.quantity > 0 ORDER BY s.client_id, s.sku",
        {tenant, lo, hi}, [&](const store::Row& r) {
          auto it = out.find(r.text(0));
          if (it == out.end()) return;
          Json::Value s;
          s["sku"] = r.text(1);
          s["quantity"] = static_cast<Json::Int64>(r.integer(2));
          if (!r.is_null(3) && !products.isMember(r.text(1))) {
            Json::Value p;
            p["name"] = r.text(3);
            p["unit"] = r.text(4);
            p["part_type"] = r.text(5);
            p["pricing"] = r.text(6);
            p["prices"] = parse(r.text(7));
            products[r.text(1)] = std::move(p);
          }
          it->second["services"].append(std::move(s));
        });
  };
  if (ids.empty()) return;
  if (contiguous) {
    services(ids.front(), ids.back());
  } else {
    for (const auto& [id, _] : out) services(id, id);
  }
}

plugins::CallResult candidates(store::Store& store, const Json::Value& request) {
  const auto tenant = required_text(request, "tenant_id");
  if (!tenant) return invalid("tenant_id is required");
  std::vector<std::string> ids;
  std::optional<std::string> next_after;
  const bool all = request["all"].isBool() && request["all"].asBool();
  const Json::Value& listed = request["client_ids"];
  if (all == listed.isArray()) return invalid("give either client_ids or all:true");
  int64_t limit = 500;
  if (!request["limit"].isNull()) {
    if (!request["limit"].isInt64() || request["limit"].asInt64() < 1 ||
        request["limit"].asInt64() > kMaxBatch) {
      return invalid("limit must be a whole number from 1 to " + std::to_string(kMaxBatch));
    }
    limit = request["limit"].asInt64();
  }
  if (listed.isArray()) {
    if (listed.size() > kMaxBatch) {
      return invalid("at most " + std::to_string(kMaxBatch) + " client_ids per call");
    }
    for (const auto& id : listed) {
      if (!id.isString()) return invalid("client_ids must be strings");
      ids.push_back(id.asString());
    }
  }
  const std::string after = request["after"].isString() ? request["after"].asString() : "";

  Json::Value out;
  out["clients"] = Json::Value(Json::arrayValue);
  store.read([&](store::Tx& tx) {
    if (all) {
      // Driven by the (tenant, client) index of the assignments, so a page costs its own size
      // and not a walk over every client of the tenant.
      for (const auto& row : tx.query(
               "SELECT DISTINCT s.client_id FROM service_assignments s JOIN clients c ON c.id = "
               "s.client_id AND c.status = 'active' WHERE s.tenant_id = ? AND s.client_id > ? "
               "AND s.quantity > 0 ORDER BY s.client_id LIMIT ?",
               {*tenant, after, limit})) {
        ids.push_back(row.text(0));
      }
      if (static_cast<int64_t>(ids.size()) == limit) next_after = ids.back();
    }
    std::unordered_map<std::string, Json::Value> found;
    out["products"] = Json::Value(Json::objectValue);
    describe_clients(tx, *tenant, ids, all, found, out["products"]);
    for (const auto& id : ids) {
      auto it = found.find(id);
      if (it != found.end()) {
        out["clients"].append(std::move(it->second));
      } else {
        // Unknown and another tenant's ids read the same: nothing is told about the other.
        Json::Value missing;
        missing["client_id"] = id;
        missing["exists"] = false;
        out["clients"].append(missing);
      }
    }
  });
  out["next_after"] = next_after ? Json::Value(*next_after) : Json::Value();
  return plugins::CallResult::ok(out);
}

// Reads one draft of a create_drafts request; errors are collected on f.
std::optional<NewContract> read_draft(domain::Fields& f, const Json::Value& d) {
  f.only({"client_id", "name", "currency", "contact_email", "invoice_delivery", "payment_method",
          "invoice_interval", "when_to_bill", "start_date", "billing_entity", "parts"});
  NewContract c;
  c.source = "bootstrap";
  auto client = f.text("client_id", true, 100);
  auto name = f.text("name", true);
  auto currency = f.currency("currency", true);
  auto contact = f.text("contact_email", false, 254);
  if (contact && !contact->empty() && !domain::is_email(*contact)) {
    f.error("contact_email", "expected an email address");
  }
  auto delivery = f.one_of("invoice_delivery", false, domain::kInvoiceDeliveries);
  auto payment = f.one_of("payment_method", false, domain::kPaymentMethods);
  auto interval = f.one_of("invoice_interval", false, domain::kInvoiceIntervals);
  auto timing = f.one_of("when_to_bill", false, domain::kBillTimings);
  auto start = f.date("start_date", false);
  auto entity = f.text("billing_entity", false, 200);
  const Json::Value& parts = d["parts"];
  if (!parts.isArray()) f.error("parts", "expected an array");
  for (Json::ArrayIndex i = 0; parts.isArray() && i < parts.size(); ++i) {
    const std::string at = "parts[" + std::to_string(i) + "]";
    if (!parts[i].isObject()) {
      f.error(at, "expected an object");
      continue;
    }
    domain::Fields pf(parts[i], at);
    pf.only({"type", "sku", "description", "quantity", "follows_assignment", "price"});
    NewPart p;
    auto type = pf.one_of("type", false, domain::kPartTypes);
    auto sku = pf.text("sku", false, 100);
    auto description = pf.text("description", false, 1000);
    auto quantity = pf.integer("quantity", true, 0, domain::kMaxPartQuantity);
    auto follows = pf.boolean("follows_assignment", false);
    auto price = pf.integer("price", false, 0, domain::kMaxPrice);
    for (const auto& e : pf.errors()) f.error(e["field"].asString(), e["message"].asString());
    p.type = type.value_or("default");
    if (sku && !sku->empty()) p.sku = sku;
    p.description = description.value_or(sku.value_or(""));
    p.quantity = quantity.value_or(0);
    p.follows_assignment = follows.value_or(false);
    p.price = price;
    c.parts.push_back(std::move(p));
  }
  if (!f.ok()) return std::nullopt;
  c.client_id = *client;
  c.name = *name;
  c.currency = *currency;
  c.contact_email = contact.value_or("");
  c.invoice_delivery = delivery.value_or("email");
  c.payment_method = payment.value_or("manual");
  c.invoice_interval = interval.value_or("monthly");
  c.when_to_bill = timing.value_or("upfront");
  c.start_date = start.value_or(today());
  c.billing_entity = entity.value_or("");
  return c;
}

plugins::CallResult create_drafts(store::Store& store, const plugins::CallerInfo& caller,
                                  const Json::Value& request) {
  const auto tenant = required_text(request, "tenant_id");
  if (!tenant) return invalid("tenant_id is required");
  const Json::Value& list = request["drafts"];
  if (!list.isArray()) return invalid("drafts must be an array");
  if (list.size() > kMaxBatch) {
    return invalid("at most " + std::to_string(kMaxBatch) + " drafts per call");
  }
  // Everything is checked before anything is written: a plugin's bad draft fails the call.
  std::vector<NewContract> drafts;
  drafts.reserve(list.size());
  for (Json::ArrayIndex i = 0; i < list.size(); ++i) {
    if (!list[i].isObject())
      return invalid("drafts[" + std::to_string(i) + "]: expected an object");
    domain::Fields f(list[i], "drafts[" + std::to_string(i) + "]");
    auto draft = read_draft(f, list[i]);
    if (!draft) return invalid(describe_errors(f.errors()));
    drafts.push_back(std::move(*draft));
  }
  const std::string actor = actor_of(caller, request);

  Json::Value out;
  store.write([&](store::Tx& tx) { out = contracts::create_drafts(tx, *tenant, actor, drafts); });
  return plugins::CallResult::ok(out);
}

plugins::CallResult sync_assignment(store::Store& store, const plugins::CallerInfo& caller,
                                    const Json::Value& request) {
  const auto tenant = required_text(request, "tenant_id");
  if (!tenant) return invalid("tenant_id is required");
  const auto client = required_text(request, "client_id");
  if (!client) return invalid("client_id is required");
  const std::string actor = actor_of(caller, request);
  Json::Value out;
  store.write([&](store::Tx& tx) {
    out["updated"] =
        contracts::follow_assignment(tx, *tenant, *client, actor, request["event_seq"]);
  });
  return plugins::CallResult::ok(out);
}

}  // namespace

void register_contract_host_calls(plugins::HostCalls& calls, store::Store& store) {
  // {"tenant_id", "client_ids":[...]} or {"tenant_id","all":true,"after","limit"} ->
  // {"clients":[{"client_id","exists","name","has_contract","billing":{...},
  //  "services":[{"sku","quantity"}]}], "products":{sku:{name,unit,part_type,pricing,prices}},
  //  "next_after"}
  calls.add("bootstrap.candidates", "services:read",
            [&store](const plugins::CallerInfo&, const Json::Value& request) {
              return candidates(store, request);
            });
  // {"tenant_id","actor","drafts":[{client_id,name,currency,...,parts:[...]}]} ->
  // {"created":[{"client_id","contract_id","reference_number","part_ids"}],
  //  "skipped":[{"client_id","reason"}]}, all in one transaction.
  calls.add("contracts.create_drafts", "contracts:write",
            [&store](const plugins::CallerInfo& caller, const Json::Value& request) {
              return create_drafts(store, caller, request);
            });
  // {"tenant_id","client_id","event_seq"} -> {"updated":[{contract_id,part_id,sku,...}]}
  calls.add("contracts.sync_assignment", "contracts:write",
            [&store](const plugins::CallerInfo& caller, const Json::Value& request) {
              return sync_assignment(store, caller, request);
            });
}

}  // namespace psahost::contracts
