#include "contracts/contracts.hpp"

#include "audit/audit_log.hpp"
#include "clients/client_record.hpp"
#include "core/clock.hpp"
#include "core/ordered_id.hpp"
#include "domain/contract.hpp"
#include "events/event_log.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

namespace psahost::contracts {
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

bool is_billing_complete(store::Tx& tx, const std::string& tenant_id,
                         const std::string& client_id) {
  const auto client = clients::load_client(tx, tenant_id, client_id);
  return client && client->billing && client->billing->is_complete();
}

domain::Refusal not_draft(const Json::Value& contract, const std::string& what) {
  return domain::Refusal::conflict("contract-not-draft",
                                   "contract " + contract["id"].asString() + " is " +
                                       contract["status"].asString() + "; " + what);
}

// Money fields of a part, for the audit log.
Json::Value money_of(const Json::Value& part) {
  if (part.isNull()) return part;
  Json::Value m;
  for (const char* k : {"id", "sku", "quantity", "price", "discount", "start_date", "end_date",
                        "trial", "follows_assignment"}) {
    m[k] = part[k];
  }
  return m;
}

}  // namespace

domain::Result<Json::Value> get_contract(store::Tx& tx, const auth::Principal& who,
                                         const std::string& contract_id) {
  Json::Value contract = contract_json(tx, who.tenant_id, contract_id);
  if (contract.isNull()) return domain::Refusal::not_found("contract", contract_id);
  return contract;
}

domain::Result<Json::Value> list_contracts(store::Tx& tx, const auth::Principal& who,
                                           const ContractQuery& query) {
  if (query.status && std::find(domain::kContractStatuses.begin(), domain::kContractStatuses.end(),
                                *query.status) == domain::kContractStatuses.end()) {
    return domain::Refusal::invalid(
        {{"status", "expected one of draft, active, ended, cancelled"}});
  }
  std::string sql = "SELECT id FROM contracts WHERE tenant_id = ? AND id > ?";
  std::vector<store::Value> params = {who.tenant_id, query.after};
  if (query.client_id) {
    sql += " AND client_id = ?";
    params.emplace_back(*query.client_id);
  }
  if (query.status) {
    sql += " AND status = ?";
    params.emplace_back(*query.status);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(query.limit);
  Json::Value body;
  body["items"] = Json::Value(Json::arrayValue);
  const auto ids = tx.query(sql, params);
  for (const auto& row : ids) body["items"].append(contract_json(tx, who.tenant_id, row.text(0)));
  if (static_cast<int64_t>(ids.size()) == query.limit) body["next_after"] = ids.back().text(0);
  return body;
}

domain::Result<Json::Value> draft_for_write(store::Tx& tx, const auth::Principal& who,
                                            const std::string& contract_id) {
  auto contract = get_contract(tx, who, contract_id);
  if (contract && (*contract)["status"].asString() != "draft") {
    return not_draft(*contract, "only a draft's fields and parts can change");
  }
  return contract;
}

void touch(store::Tx& tx, const std::string& contract_id) {
  tx.exec("UPDATE contracts SET version = version + 1, updated_at = ? WHERE id = ?",
          {now_rfc3339(), contract_id});
}

void record_part_change(store::Tx& tx, const auth::Principal& who, const std::string& contract_id,
                        const std::string& event_type, const Json::Value& before,
                        const Json::Value& after) {
  const Json::Value& part = after.isNull() ? before : after;
  audit::record(tx,
                {who.tenant_id, who.token_id, event_type, "contract_part", part["id"].asString(),
                 audit::json(money_of(before)), audit::json(money_of(after))});
  Json::Value payload;
  payload["contract_id"] = contract_id;
  payload["part_id"] = part["id"];
  payload["before"] = before;
  payload["part"] = after;
  events::append(tx,
                 {who.tenant_id, event_type, "contract", contract_id, payload, who.token_id, ""});
}

domain::Result<PartEdit> edit_part(store::Tx& tx, const auth::Principal& who,
                                   const Json::Value& contract, const std::string& part_id,
                                   const PartChange& p, const std::string& path) {
  const auto at = [&path](const char* name) {
    return path.empty() ? std::string(name) : path + "." + name;
  };
  const auto field = [](std::string name, std::string message) {
    return domain::Refusal::invalid({{std::move(name), std::move(message)}});
  };
  const std::string contract_id = contract["id"].asString();
  const std::string contract_start = contract["start_date"].asString();
  const Json::Value before = part_json(tx, contract_id, part_id, contract_start);
  if (before.isNull()) {
    return domain::Refusal::make(domain::RefusalKind::not_found, "not-found",
                                 "contract " + contract_id + " has no part " + part_id);
  }
  std::optional<std::string> sku =
      before["sku"].isNull() ? std::nullopt : std::optional(before["sku"].asString());
  if (p.sku) {
    if (!p.sku->empty() && !tx.query_one("SELECT 1 FROM products WHERE tenant_id = ? AND sku = ?",
                                         {who.tenant_id, *p.sku})) {
      return field(at("sku"), "no product " + *p.sku + " in the catalog");
    }
    sku = p.sku->empty() ? std::nullopt : p.sku;
  }
  const bool follows = p.follows_assignment.value_or(before["follows_assignment"].asBool());
  if (follows && !sku) {
    return field(at("follows_assignment"), "a part that follows the assignment needs a sku");
  }
  const std::optional<std::string> start = p.start_given ? p.start_date
                                           : before["follows_contract_start"].asBool()
                                               ? std::nullopt
                                               : std::optional(before["start_date"].asString());
  const std::optional<std::string> end =
      p.end_given ? p.end_date
                  : (before["end_date"].isNull() ? std::nullopt
                                                 : std::optional(before["end_date"].asString()));
  if (end && *end < start.value_or(contract_start)) {
    return field(at("end_date"), "must not be before the part's start date");
  }
  // A store value rather than an optional<int64_t>: GCC 12 at -O3 takes the optional's payload
  // for uninitialised (-Wmaybe-uninitialized) on its way into the variant.
  store::Value price = nullptr;
  if (p.price_given) {
    if (p.price) price = *p.price;
  } else if (!before["price"].isNull()) {
    price = static_cast<int64_t>(before["price"].asInt64());
  }
  tx.exec(
      "UPDATE contract_parts SET part_type = ?, sku = ?, description = ?, quantity = ?, "
      "follows_assignment = ?, price = ?, discount = ?, start_date = ?, end_date = ?, trial = ?, "
      "sla = ?, updated_at = ? WHERE id = ? AND contract_id = ?",
      {p.type.value_or(before["type"].asString()), sku ? store::Value(*sku) : store::Value(nullptr),
       p.description.value_or(before["description"].asString()),
       p.quantity.value_or(before["quantity"].asInt64()), int64_t{follows ? 1 : 0}, price,
       p.discount.value_or(before["discount"].asString()),
       start ? store::Value(*start) : store::Value(nullptr),
       end ? store::Value(*end) : store::Value(nullptr),
       int64_t{p.trial.value_or(before["trial"].asBool()) ? 1 : 0},
       p.sla.value_or(before["sla"].asString()), now_rfc3339(), part_id, contract_id});
  return PartEdit{before, part_json(tx, contract_id, part_id, contract_start)};
}

domain::Result<Json::Value> delete_part(store::Tx& tx, const auth::Principal& who,
                                        const std::string& contract_id,
                                        const std::string& part_id) {
  const auto contract = draft_for_write(tx, who, contract_id);
  if (!contract) return contract;
  const Json::Value before =
      part_json(tx, contract_id, part_id, (*contract)["start_date"].asString());
  if (before.isNull()) {
    return domain::Refusal::make(domain::RefusalKind::not_found, "not-found",
                                 "contract " + contract_id + " has no part " + part_id);
  }
  tx.exec("DELETE FROM contract_parts WHERE id = ? AND contract_id = ?", {part_id, contract_id});
  touch(tx, contract_id);
  record_part_change(tx, who, contract_id, "contract.part_deleted", before, Json::Value());
  return before;
}

domain::Result<Json::Value> check_activation(store::Tx& tx, const auth::Principal& who,
                                             const std::string& contract_id) {
  auto contract = get_contract(tx, who, contract_id);
  if (!contract) return contract;
  const Json::Value& c = *contract;
  if (c["status"].asString() != "draft") return not_draft(c, "only a draft can be activated");
  if (c["parts"].empty()) {
    auto r = domain::Refusal::make(domain::RefusalKind::refused, "contract-has-no-parts",
                                   "contract " + contract_id + " has no parts to bill");
    r.prompt["action"] = "add_parts";
    r.prompt["contract_id"] = contract_id;
    return r;
  }
  Json::Value unpriced(Json::arrayValue);
  for (const auto& part : c["parts"]) {
    if (part["unpriced"].asBool()) unpriced.append(part["id"]);
  }
  if (!unpriced.empty()) {
    auto r = domain::Refusal::make(
        domain::RefusalKind::refused, "contract-parts-unpriced",
        "contract " + contract_id + " has " + std::to_string(unpriced.size()) +
            " part(s) without a price; set their prices before activating it");
    r.prompt["action"] = "set_part_prices";
    r.prompt["contract_id"] = contract_id;
    r.prompt["part_ids"] = unpriced;
    return r;
  }
  return contract;
}

domain::Result<Json::Value> activate(store::Tx& tx, const auth::Principal& who,
                                     const std::string& contract_id, int64_t seen_version) {
  const auto before = draft_for_write(tx, who, contract_id);
  if (!before) return before;
  // What was reviewed must be what is activated.
  if ((*before)["version"].asInt64() != seen_version) {
    return domain::Refusal::conflict("conflict",
                                     "contract " + contract_id + " changed meanwhile; retry");
  }
  const std::string now = now_rfc3339();
  tx.exec(
      "UPDATE contracts SET status = 'active', activated_at = ?, version = version + 1, "
      "updated_at = ? WHERE id = ? AND tenant_id = ? AND status = 'draft'",
      {now, now, contract_id, who.tenant_id});
  const Json::Value after = contract_json(tx, who.tenant_id, contract_id);
  Json::Value was;
  was["status"] = "draft";
  Json::Value is;
  is["status"] = "active";
  is["activated_at"] = now;
  is["net_amount"] = after["net_amount"];
  is["currency"] = after["currency"];
  audit::record(tx, {who.tenant_id, who.token_id, "contract.activate", "contract", contract_id,
                     audit::json(was), audit::json(is)});
  events::append(
      tx, {who.tenant_id, "contract.activated", "contract", contract_id, after, who.token_id, ""});
  return after;
}

const char* has_contract_condition() {
  return kHasContract;
}

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
    state.billing_complete = is_billing_complete(tx, tenant_id, v["client_id"].asString());
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

Json::Value create_drafts(store::Tx& tx, const std::string& tenant_id, const std::string& actor,
                          const std::vector<NewContract>& drafts) {
  Json::Value out;
  out["created"] = Json::Value(Json::arrayValue);
  out["skipped"] = Json::Value(Json::arrayValue);
  ReferenceNumbers references(tx, tenant_id);
  for (const auto& draft : drafts) {
    Json::Value entry;
    entry["client_id"] = draft.client_id;
    if (!tx.query_one("SELECT 1 FROM clients WHERE id = ? AND tenant_id = ?",
                      {draft.client_id, tenant_id})) {
      entry["reason"] = "not_found";
      out["skipped"].append(entry);
      continue;
    }
    const auto inserted = insert_contract(tx, tenant_id, actor, draft, references);
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
  return out;
}

Json::Value follow_assignment(store::Tx& tx, const std::string& tenant_id,
                              const std::string& client_id, const std::string& actor,
                              const Json::Value& event_seq) {
  Json::Value out;
  out["updated"] = Json::Value(Json::arrayValue);
  // The assignment as it is now, not as the event saw it: a redelivered or late event then
  // cannot set a quantity back to an older value.
  std::map<std::string, int64_t> assigned;
  for (const auto& r : tx.query(
           "SELECT sku, quantity FROM service_assignments WHERE tenant_id = ? AND client_id = ?",
           {tenant_id, client_id})) {
    assigned[r.text(0)] = r.integer(1);
  }
  const std::string now = now_rfc3339();
  for (const auto& r : tx.query(
           "SELECT p.id, p.contract_id, p.sku, p.quantity FROM contract_parts p JOIN contracts k "
           "ON k.id = p.contract_id WHERE k.tenant_id = ? AND k.client_id = ? AND k.status IN "
           "('draft', 'active') AND p.follows_assignment = 1 AND p.sku IS NOT NULL ORDER BY "
           "p.contract_id, p.rowid",
           {tenant_id, client_id})) {
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
    audit::record(tx, {tenant_id, actor, "contract_part.follow_assignment", "contract_part",
                       part_id, audit::json(before), audit::json(after)});
    Json::Value payload;
    payload["contract_id"] = contract_id;
    payload["client_id"] = client_id;
    payload["part_id"] = part_id;
    payload["sku"] = r.text(2);
    payload["quantity_before"] = before["quantity"];
    payload["quantity"] = after["quantity"];
    payload["reason"] = "service.assigned";
    payload["event_seq"] = event_seq;
    events::append(
        tx, {tenant_id, "contract.part_updated", "contract", contract_id, payload, actor, ""});
    out["updated"].append(payload);
  }
  return out["updated"];
}

domain::Result<Json::Value> bootstrap(const plugins::PluginRegistry& registry,
                                      const Json::Value& request) {
  // Found by what it does: the one enabled plugin that handles command.bootstrap.
  const auto found = registry.require("command.bootstrap");
  const auto& plugin = found.plugin;
  if (!plugin) {
    if (found.enabled_ids.size() > 1) {
      auto r = domain::Refusal::make(domain::RefusalKind::conflict, "plugin-ambiguous",
                                     "more than one plugin handles command.bootstrap (" +
                                         found.enabled_ids[0] + ", " + found.enabled_ids[1] +
                                         "); disable all but one");
      r.title = "Unavailable";
      return r;
    }
    if (!found.disabled_id.empty()) {
      auto r = domain::Refusal::make(domain::RefusalKind::conflict, "plugin-disabled",
                                     "the " + found.disabled_id +
                                         " plugin is disabled; enable it with POST /v1/plugins/" +
                                         found.disabled_id + "/enable");
      r.title = "Unavailable";
      return r;
    }
    auto r = domain::Refusal::make(domain::RefusalKind::unavailable, "plugin-unavailable",
                                   "the contract-bootstrap plugin is not loaded");
    r.title = "Unavailable";  // the title the route gave before the module existed
    return r;
  }
  auto result = plugin->call("command.bootstrap", request);
  if (!result.ok() || !result.body["created"].isArray() || !result.body["skipped"].isArray()) {
    return domain::Refusal::make(
        domain::RefusalKind::failed, "plugin-failed",
        "the " + plugin->id() + " plugin failed: " +
            (result.ok() ? std::string("its answer has no created/skipped lists")
                         : result.error_message()));
  }
  return std::move(result.body);
}

}  // namespace psahost::contracts
