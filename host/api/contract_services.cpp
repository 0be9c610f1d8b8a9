// Contracts in the store and the host calls of the contract-bootstrap plugin. The plugin decides
// what each client's draft holds; the host checks what it is given and writes it.
#include "api/contract_services.hpp"

#include "api/client_queries.hpp"
#include "api/fields.hpp"
#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "core/ordered_id.hpp"
#include "domain/contract.hpp"
#include "events/event_log.hpp"

#include <json/reader.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

namespace psahost::api {
namespace {

constexpr const char* kContractColumns =
    "id, client_id, reference, name, contact_email, billing_entity, invoice_interval, "
    "bill_timing, payment_method, start_date, end_date, invoice_delivery, currency, status, "
    "source, version, activated_at, created_at, updated_at";
constexpr const char* kPartColumns =
    "id, part_type, sku, description, quantity, follows_assignment, price, discount, start_date, "
    "end_date, trial, sla, created_at, updated_at";

// Bootstrapping skips a client that has a draft or an active contract, and one that was
// bootstrapped before whatever became of that contract (the unique index would refuse it).
constexpr const char* kHasContract =
    "EXISTS (SELECT 1 FROM contracts k WHERE k.tenant_id = c.tenant_id AND k.client_id = c.id "
    "AND (k.status IN ('draft', 'active') OR k.source = 'bootstrap'))";

constexpr int64_t kMaxBatch = 5000;

store::Value nullable(const std::optional<std::string>& s) {
  return s ? store::Value(*s) : store::Value(nullptr);
}

Json::Value nullable_json(const store::Row& r, std::size_t i) {
  return r.is_null(i) ? Json::Value() : Json::Value(r.text(i));
}

Json::Value part_from_row(const store::Row& r, const std::string& contract_start) {
  Json::Value p;
  p["id"] = r.text(0);
  p["type"] = r.text(1);
  p["sku"] = nullable_json(r, 2);
  p["description"] = r.text(3);
  p["quantity"] = static_cast<Json::Int64>(r.integer(4));
  p["follows_assignment"] = r.integer(5) != 0;
  const bool priced = !r.is_null(6);
  p["price"] = priced ? Json::Value(static_cast<Json::Int64>(r.integer(6))) : Json::Value();
  p["unpriced"] = !priced;
  const auto discount = domain::parse_discount(r.text(7));
  p["discount"] = discount ? discount->text : r.text(7);
  p["net_amount"] = priced && discount ? Json::Value(static_cast<Json::Int64>(domain::net_amount(
                                             r.integer(6), r.integer(4), *discount)))
                                       : Json::Value();
  p["start_date"] = r.is_null(8) ? Json::Value(contract_start) : Json::Value(r.text(8));
  p["follows_contract_start"] = r.is_null(8);
  p["end_date"] = nullable_json(r, 9);
  p["trial"] = r.integer(10) != 0;
  p["sla"] = r.text(11);
  p["created_at"] = r.text(12);
  p["updated_at"] = r.text(13);
  return p;
}

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
    const auto r = tx.query_one(std::string("SELECT c.name, b.data, ") + kHasContract +
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
std::optional<NewContract> read_draft(Fields& f, const Json::Value& d) {
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
    Fields pf(parts[i], at);
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
    Fields f(list[i], "drafts[" + std::to_string(i) + "]");
    auto draft = read_draft(f, list[i]);
    if (!draft) return invalid(describe_errors(f.errors()));
    drafts.push_back(std::move(*draft));
  }
  const std::string actor = actor_of(caller, request);

  Json::Value out;
  out["created"] = Json::Value(Json::arrayValue);
  out["skipped"] = Json::Value(Json::arrayValue);
  store.write([&](store::Tx& tx) {
    out["created"] = Json::Value(Json::arrayValue);
    out["skipped"] = Json::Value(Json::arrayValue);
    ReferenceNumbers references(tx, *tenant);
    for (const auto& draft : drafts) {
      Json::Value entry;
      entry["client_id"] = draft.client_id;
      if (!tx.query_one("SELECT 1 FROM clients WHERE id = ? AND tenant_id = ?",
                        {draft.client_id, *tenant})) {
        entry["reason"] = "not_found";
        out["skipped"].append(entry);
        continue;
      }
      const auto inserted = insert_contract(tx, *tenant, actor, draft, references);
      if (!inserted) {
        entry["reason"] = "has_contract";
        out["skipped"].append(entry);
        continue;
      }
      entry["contract_id"] = inserted->id;
      entry["reference_number"] = inserted->reference;
      entry["part_ids"] = Json::Value(Json::arrayValue);
      for (const auto& id : inserted->part_ids) entry["part_ids"].append(id);
      out["created"].append(std::move(entry));
    }
  });
  return plugins::CallResult::ok(out);
}

plugins::CallResult sync_assignment(store::Store& store, const plugins::CallerInfo& caller,
                                    const Json::Value& request) {
  const auto tenant = required_text(request, "tenant_id");
  if (!tenant) return invalid("tenant_id is required");
  const auto client = required_text(request, "client_id");
  if (!client) return invalid("client_id is required");
  const std::string actor = actor_of(caller, request);
  const Json::Value event_seq = request["event_seq"];

  Json::Value out;
  store.write([&](store::Tx& tx) {
    out["updated"] = Json::Value(Json::arrayValue);
    // The assignment as it is now, not as the event saw it: a redelivered or late event then
    // cannot set a quantity back to an older value.
    std::map<std::string, int64_t> assigned;
    for (const auto& r : tx.query(
             "SELECT sku, quantity FROM service_assignments WHERE tenant_id = ? AND client_id = ?",
             {*tenant, *client})) {
      assigned[r.text(0)] = r.integer(1);
    }
    const std::string now = now_rfc3339();
    for (const auto& r : tx.query(
             "SELECT p.id, p.contract_id, p.sku, p.quantity FROM contract_parts p JOIN contracts k "
             "ON k.id = p.contract_id WHERE k.tenant_id = ? AND k.client_id = ? AND k.status IN "
             "('draft', 'active') AND p.follows_assignment = 1 AND p.sku IS NOT NULL ORDER BY "
             "p.contract_id, p.rowid",
             {*tenant, *client})) {
      const auto it = assigned.find(r.text(2));
      const int64_t quantity =
          it == assigned.end() ? 0 : std::min(it->second, domain::kMaxPartQuantity);
      if (quantity == r.integer(3)) continue;
      const std::string part_id = r.text(0);
      const std::string contract_id = r.text(1);
      tx.exec("UPDATE contract_parts SET quantity = ?, updated_at = ? WHERE id = ?",
              {quantity, now, part_id});
      tx.exec("UPDATE contracts SET version = version + 1, updated_at = ? WHERE id = ?",
              {now, contract_id});
      Json::Value before;
      before["quantity"] = static_cast<Json::Int64>(r.integer(3));
      Json::Value after;
      after["quantity"] = static_cast<Json::Int64>(quantity);
      audit::record(tx, {*tenant, actor, "contract_part.follow_assignment", "contract_part",
                         part_id, audit::json(before), audit::json(after)});
      Json::Value payload;
      payload["contract_id"] = contract_id;
      payload["client_id"] = *client;
      payload["part_id"] = part_id;
      payload["sku"] = r.text(2);
      payload["quantity_before"] = before["quantity"];
      payload["quantity"] = after["quantity"];
      payload["reason"] = "service.assigned";
      payload["event_seq"] = event_seq;
      events::append(
          tx, {*tenant, "contract.part_updated", "contract", contract_id, payload, actor, ""});
      out["updated"].append(payload);
    }
  });
  return plugins::CallResult::ok(out);
}

}  // namespace

ReferenceNumbers::ReferenceNumbers(store::Tx& tx, std::string tenant_id)
    : tx_(tx), tenant_id_(std::move(tenant_id)) {}

std::string ReferenceNumbers::next() {
  if (next_ == 0) {
    const auto row = tx_.query_one(
        "SELECT COALESCE(MAX(CAST(substr(reference, 4) AS INTEGER)), 0) FROM contracts WHERE "
        "tenant_id = ? AND reference GLOB 'CT-[0-9]*'",
        {tenant_id_});
    next_ = (row ? row->integer(0) : 0) + 1;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "CT-%06lld", static_cast<long long>(next_++));
  return buf;
}

std::string insert_part(store::Tx& tx, const std::string& tenant_id, const std::string& contract_id,
                        const NewPart& p, const std::string& at) {
  const std::string id = ordered_id("cp");
  const std::string now = at.empty() ? now_rfc3339() : at;
  tx.exec(
      "INSERT INTO contract_parts (id, contract_id, tenant_id, part_type, sku, description, "
      "quantity, follows_assignment, price, discount, start_date, end_date, trial, sla, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, contract_id, tenant_id, p.type, nullable(p.sku), p.description, p.quantity,
       int64_t{p.follows_assignment ? 1 : 0},
       p.price ? store::Value(*p.price) : store::Value(nullptr), p.discount, nullable(p.start_date),
       nullable(p.end_date), int64_t{p.trial ? 1 : 0}, p.sla, now, now});
  return id;
}

std::optional<InsertedContract> insert_contract(store::Tx& tx, const std::string& tenant_id,
                                                const std::string& actor, const NewContract& c,
                                                ReferenceNumbers& references) {
  if (c.source == "bootstrap" &&
      tx.query_one(std::string("SELECT 1 FROM clients c WHERE c.id = ? AND c.tenant_id = ? AND ") +
                       kHasContract,
                   {c.client_id, tenant_id})) {
    return std::nullopt;
  }
  InsertedContract inserted;
  inserted.id = ordered_id("ctr");
  inserted.reference = c.reference ? *c.reference : references.next();
  const std::string now = now_rfc3339();
  // DO NOTHING: the one-bootstrap-per-client index is the last word, also against a writer
  // on another host replica that got there first.
  const int64_t changed = tx.exec(
      "INSERT INTO contracts (id, tenant_id, client_id, reference, name, contact_email, "
      "billing_entity, invoice_interval, bill_timing, payment_method, start_date, end_date, "
      "invoice_delivery, currency, status, source, created_at, updated_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?) ON CONFLICT DO NOTHING",
      {inserted.id, tenant_id, c.client_id, inserted.reference, c.name, c.contact_email,
       c.billing_entity, c.invoice_interval, c.when_to_bill, c.payment_method, c.start_date,
       nullable(c.end_date), c.invoice_delivery, c.currency, c.source, now, now});
  if (changed == 0) return std::nullopt;

  Json::Value payload;
  payload["id"] = inserted.id;
  payload["client_id"] = c.client_id;
  payload["reference_number"] = inserted.reference;
  payload["name"] = c.name;
  payload["status"] = "draft";
  payload["source"] = c.source;
  payload["currency"] = c.currency;
  payload["start_date"] = c.start_date;
  payload["end_date"] = c.end_date ? Json::Value(*c.end_date) : Json::Value();
  payload["parts"] = Json::Value(Json::arrayValue);
  for (const auto& part : c.parts) {
    const std::string part_id = insert_part(tx, tenant_id, inserted.id, part, now);
    inserted.part_ids.push_back(part_id);
    Json::Value p;
    p["id"] = part_id;
    p["sku"] = part.sku ? Json::Value(*part.sku) : Json::Value();
    p["quantity"] = static_cast<Json::Int64>(part.quantity);
    p["follows_assignment"] = part.follows_assignment;
    p["price"] = part.price ? Json::Value(static_cast<Json::Int64>(*part.price)) : Json::Value();
    p["discount"] = part.discount;
    payload["parts"].append(std::move(p));
  }
  // The event's payload holds the money fields (currency, each part's quantity, price and
  // discount), so the audit row records the same document.
  audit::record(tx, {tenant_id, actor, "contract.create", "contract", inserted.id, std::nullopt,
                     audit::json(payload)});
  events::append(tx, {tenant_id, "contract.created", "contract", inserted.id, payload, actor, ""});
  return inserted;
}

Json::Value part_json(store::Tx& tx, const std::string& contract_id, const std::string& part_id,
                      const std::string& contract_start) {
  const auto r = tx.query_one(std::string("SELECT ") + kPartColumns +
                                  " FROM contract_parts WHERE id = ? AND contract_id = ?",
                              {part_id, contract_id});
  return r ? part_from_row(*r, contract_start) : Json::Value();
}

Json::Value contract_json(store::Tx& tx, const std::string& tenant_id,
                          const std::string& contract_id) {
  const auto r = tx.query_one(
      std::string("SELECT ") + kContractColumns + " FROM contracts WHERE id = ? AND tenant_id = ?",
      {contract_id, tenant_id});
  if (!r) return Json::Value();
  Json::Value v;
  v["id"] = r->text(0);
  v["client_id"] = r->text(1);
  v["reference_number"] = r->text(2);
  v["name"] = r->text(3);
  v["contact_email"] = r->text(4);
  v["billing_entity"] = r->text(5);
  v["invoice_interval"] = r->text(6);
  v["when_to_bill"] = r->text(7);
  v["payment_method"] = r->text(8);
  v["start_date"] = r->text(9);
  v["end_date"] = nullable_json(*r, 10);
  v["invoice_delivery"] = r->text(11);
  v["currency"] = r->text(12);
  v["status"] = r->text(13);
  v["source"] = r->text(14);
  v["version"] = static_cast<Json::Int64>(r->integer(15));
  v["activated_at"] = nullable_json(*r, 16);
  v["created_at"] = r->text(17);
  v["updated_at"] = r->text(18);

  v["parts"] = Json::Value(Json::arrayValue);
  int unpriced = 0;
  int64_t total = 0;
  tx.each(std::string("SELECT ") + kPartColumns +
              " FROM contract_parts WHERE contract_id = ? ORDER BY rowid",
          {contract_id}, [&](const store::Row& row) {
            Json::Value p = part_from_row(row, v["start_date"].asString());
            if (p["unpriced"].asBool()) ++unpriced;
            if (p["net_amount"].isInt64()) total += p["net_amount"].asInt64();
            v["parts"].append(p);
          });
  v["net_amount"] = static_cast<Json::Int64>(total);
  v["unpriced_parts"] = unpriced;

  v["remaining_steps"] = Json::Value(Json::arrayValue);
  if (v["status"].asString() == "draft") {
    domain::DraftState state;
    state.has_name = !v["name"].asString().empty();
    state.has_start = !v["start_date"].asString().empty();
    state.has_contact = !v["contact_email"].asString().empty();
    state.billing_complete =
        billing_status(tx, tenant_id, v["client_id"].asString())["complete"].asBool();
    state.parts = static_cast<int>(v["parts"].size());
    state.unpriced_parts = unpriced;
    for (const auto& step : domain::remaining_steps(state)) v["remaining_steps"].append(step);
  }
  return v;
}

int64_t count_bootstrap_candidates(store::Tx& tx, const std::string& tenant_id) {
  const auto row = tx.query_one(
      "SELECT COUNT(*) FROM clients c WHERE c.tenant_id = ? AND c.status = 'active' AND EXISTS "
      "(SELECT 1 FROM service_assignments s WHERE s.client_id = c.id AND s.quantity > 0)",
      {tenant_id});
  return row ? row->integer(0) : 0;
}

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

BootstrapCall call_bootstrap(const plugins::PluginRegistry& registry, const Json::Value& request) {
  BootstrapCall out;
  // Found by what it does: the one enabled plugin that handles command.bootstrap.
  const auto found = registry.require("command.bootstrap");
  const auto& plugin = found.plugin;
  if (!plugin) {
    const bool disabled = !found.disabled_id.empty() || found.enabled_ids.size() > 1;
    out.status = disabled ? 409 : 503;
    out.error = found.enabled_ids.size() > 1 ? "plugin-ambiguous"
                : disabled                   ? "plugin-disabled"
                                             : "plugin-unavailable";
    out.detail = found.enabled_ids.size() > 1
                     ? "more than one plugin handles command.bootstrap (" + found.enabled_ids[0] +
                           ", " + found.enabled_ids[1] + "); disable all but one"
                 : disabled ? "the " + found.disabled_id +
                                  " plugin is disabled; enable it with POST /v1/plugins/" +
                                  found.disabled_id + "/enable"
                            : std::string("the contract-bootstrap plugin is not loaded");
    return out;
  }
  auto result = plugin->call("command.bootstrap", request);
  if (!result.ok() || !result.body["created"].isArray() || !result.body["skipped"].isArray()) {
    out.status = 500;
    out.error = "plugin-failed";
    out.detail = "the " + plugin->id() + " plugin failed: " +
                 (result.ok() ? std::string("its answer has no created/skipped lists")
                              : result.error_message());
    return out;
  }
  out.body = std::move(result.body);
  return out;
}

}  // namespace psahost::api
