#include "webhooks/changes.hpp"

#include "approval/approval.hpp"
#include "approval/billed_externally.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "domain/fields.hpp"
#include "http/problem.hpp"
#include "sales/sales.hpp"
#include "tickets/tickets.hpp"

#include <psa/sdk.hpp>

namespace psahost::webhooks {
namespace {

const Json::Value& member(const Json::Value& change, const char* name) {
  static const Json::Value kNull;
  return change.isObject() && change.isMember(name) ? change[name] : kNull;
}

std::string text(const Json::Value& v) {
  return v.isString() ? v.asString() : std::string();
}

// The members of change named in names that are present, as a request body.
Json::Value pick(const Json::Value& change, std::initializer_list<const char*> names) {
  Json::Value out(Json::objectValue);
  for (const char* name : names) {
    if (change.isObject() && change.isMember(name)) out[name] = change[name];
  }
  return out;
}

bool non_empty(const Json::Value& v) {
  return v.isString() && !v.asString().empty();
}

bool is_reference(const Json::Value& ref) {
  return ref.isObject() &&
         (non_empty(ref["id"]) || non_empty(ref["external_id"]) || non_empty(ref["debtor_code"]));
}

}  // namespace

Json::Value ChangeResult::to_json() const {
  Json::Value v;
  v["op"] = op;
  v["outcome"] = outcome;
  v["status"] = status;
  v["object_id"] = object_id.empty() ? Json::Value() : Json::Value(object_id);
  if (!problem.isNull()) v["problem"] = problem;
  return v;
}

std::optional<std::string> ChangeApplier::resolve(const Connection& connection,
                                                  const std::string& type,
                                                  const Json::Value& ref) const {
  if (!is_reference(ref)) return std::nullopt;
  if (ref["id"].isString() && !ref["id"].asString().empty()) return ref["id"].asString();
  const std::string system =
      ref["system"].isString() ? ref["system"].asString() : connection.connector;
  std::optional<std::string> id;
  bool by_debtor_code = false;
  env_.store.read([&](store::Tx& tx) {
    if (auto row = tx.query_one(
            "SELECT object_id FROM external_refs WHERE tenant_id = ? AND system = ? AND "
            "object_type = ? AND external_id = ?",
            {connection.tenant_id, system, type, ref["external_id"].asString()})) {
      id = row->text(0);
      return;
    }
    if (type != "client" || !non_empty(ref["debtor_code"])) return;
    // Two clients with one debtor code name no client: guessing would put one's billing info
    // on the other.
    const auto rows = tx.query(
        "SELECT client_id FROM billing_info WHERE tenant_id = ? AND debtor_code = ? LIMIT 2",
        {connection.tenant_id, ref["debtor_code"].asString()});
    if (rows.size() == 1) {
      id = rows[0].text(0);
      by_debtor_code = true;
    }
  });
  // Found by its code in the accounting system: linked to its id there as well, so the next
  // change finds it by that id and the connector (and the API) see which record it is.
  if (by_debtor_code) {
    try {
      env_.store.write([&](store::Tx& tx) { link(tx, connection, type, ref, *id); });
    } catch (const std::exception& e) {
      throw RetryLater(std::string("linking the client failed: ") + e.what());
    }
  }
  return id;
}

std::string ChangeApplier::require(const Connection& connection, const std::string& type,
                                   const Json::Value& ref, const char* name) const {
  if (!is_reference(ref)) {
    throw InvalidChange(std::string(name) +
                        " must be a reference {\"id\"} or {\"external_id\"[,\"system\"]}");
  }
  auto id = resolve(connection, type, ref);
  if (!id) {
    throw NotSyncedYet("the " + type + " with " +
                       (non_empty(ref["external_id"])
                            ? "external id " + ref["external_id"].asString()
                            : "debtor code " + ref["debtor_code"].asString()) +
                       " is not known yet");
  }
  return *id;
}

auth::Principal ChangeApplier::principal_of(const Connection& connection) {
  return auth::Principal{connection.tenant_id, "", auth::Role::integration,
                         "connection:" + connection.name};
}

namespace {

// A refusal inside a write: rolls the write back, and is the change's answer.
struct RolledBack {};

ChangeResult unchanged(const std::string& op, const std::string& object_id) {
  ChangeResult r;
  r.op = op;
  r.outcome = "unchanged";
  r.object_id = object_id;
  return r;
}

ChangeResult refused(const std::string& op, const domain::Refusal& refusal,
                     const std::string& object_id = {}) {
  ChangeResult r = unchanged(op, object_id);
  r.outcome = "refused";
  r.status = http::status_of(refusal.kind);
  r.problem = http::problem_document(refusal);
  return r;
}

// What a feature answered, as the change's result. What the API answers with a 5xx (a plugin
// failed or is not there) is not the change's fault: the change is tried again later.
ChangeResult outcome_of(const std::string& op, const domain::Result<Json::Value>& r,
                        const std::string& object_id) {
  if (!r) {
    if (http::status_of(r.refusal().kind) >= 500) {
      throw RetryLater(op + " could not be applied now: " +
                       (r.refusal().detail.empty() ? r.refusal().slug : r.refusal().detail));
    }
    return refused(op, r.refusal(), object_id);
  }
  ChangeResult result = unchanged(op, object_id);
  result.status = 200;
  const Json::Value& body = *r;
  result.outcome = body.isObject() && body["changed"].isBool() && !body["changed"].asBool()
                       ? "unchanged"
                       : "applied";
  return result;
}

// The members of update that differ from current: only those are changed, so a delivery applied
// twice (a retry, a replay, a re-run after a crash) changes nothing the second time and appends
// no event.
Json::Value differences(const Json::Value& update, const Json::Value& current) {
  Json::Value patch(Json::objectValue);
  for (const auto& name : update.getMemberNames()) {
    if (update[name] != current[name]) patch[name] = update[name];
  }
  return patch;
}

// Billing info merged member by member (and the address one level down): an accounting system
// that knows the email and address of a contact must not erase the tax rate it knows nothing of.
Json::Value merged(Json::Value base, const Json::Value& update) {
  base.removeMember("complete");
  base.removeMember("missing");
  for (const auto& name : update.getMemberNames()) {
    if (base[name].isObject() && update[name].isObject()) {
      for (const auto& inner : update[name].getMemberNames())
        base[name][inner] = update[name][inner];
    } else {
      base[name] = update[name];
    }
  }
  return base;
}

std::string system_of(const Connection& connection, const Json::Value& ref) {
  return ref["system"].isString() ? ref["system"].asString() : connection.connector;
}

}  // namespace

ChangeApplier::Outcome ChangeApplier::commit(const Change& change) const {
  std::optional<Outcome> out;
  try {
    env_.store.write([&](store::Tx& tx) {
      out = change(tx);
      if (!*out) throw RolledBack{};
    });
  } catch (const RolledBack&) {
    return std::move(*out);
  } catch (const store::ConstraintError&) {
    return domain::Refusal::conflict(
        "conflict", "the change conflicts with the current state; reload and retry");
  } catch (const std::exception& e) {
    throw RetryLater(std::string("the change could not be written: ") + e.what());
  }
  return std::move(*out);
}

void ChangeApplier::link(store::Tx& tx, const Connection& connection, const std::string& type,
                         const Json::Value& ref, const std::string& object_id) const {
  if (!non_empty(ref["external_id"])) return;
  const std::string system = system_of(connection, ref);
  const std::string external_id = ref["external_id"].asString();
  tx.exec(
      "INSERT INTO external_refs (tenant_id, system, object_type, external_id, object_id, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET object_id = "
      "excluded.object_id",
      {connection.tenant_id, system, type, external_id, object_id, now_rfc3339()});
  // A client shows its ids elsewhere in external_ids, which is what a connector reads
  // (clients.get) to find the record it pushes to; a link only in external_refs would be
  // invisible to it.
  if (type == "client")
    clients::link_external_id(tx, connection.tenant_id, object_id, system, external_id);
}

ChangeResult ChangeApplier::create_linked(const Connection& connection, const std::string& op,
                                          const std::string& type, const Json::Value& ref,
                                          const Change& create) const {
  if (!ref["external_id"].isString()) {
    // Named by a debtor code nobody has: there is nothing to link a new object to.
    return refused(op, domain::Refusal::not_found(type, text(ref["id"])));
  }
  const std::string system = system_of(connection, ref);
  bool linked_before = false;
  std::string id;
  const auto r = commit([&](store::Tx& tx) -> Outcome {
    // Looked for again inside the write: a retry after a crash, or the same object arriving in
    // another delivery meanwhile, finds the first one instead of making a second.
    if (auto row = tx.query_one(
            "SELECT object_id FROM external_refs WHERE tenant_id = ? AND system = ? AND "
            "object_type = ? AND external_id = ?",
            {connection.tenant_id, system, type, ref["external_id"].asString()})) {
      linked_before = true;
      id = row->text(0);
      Json::Value same;
      same["changed"] = false;
      return same;
    }
    auto created = create(tx);
    if (!created) return created;
    id = text((*created)["id"]);
    link(tx, connection, type, ref, id);
    return created;
  });
  if (linked_before) return unchanged(op, id);
  ChangeResult result = outcome_of(op, r, r ? id : std::string());
  if (result.outcome == "applied") result.status = 201;
  return result;
}

std::vector<ChangeResult> ChangeApplier::apply(const Connection& connection,
                                               const Json::Value& changes) const {
  if (!changes.isArray()) throw InvalidChange("changes must be an array");
  std::vector<ChangeResult> results;
  results.reserve(changes.size());
  for (Json::ArrayIndex i = 0; i < changes.size(); ++i) {
    try {
      results.push_back(apply_one(connection, changes[i]));
    } catch (const InvalidChange& e) {
      throw InvalidChange("changes[" + std::to_string(i) + "]: " + e.what());
    }
  }
  return results;
}

ChangeResult ChangeApplier::apply_one(const Connection& connection,
                                      const Json::Value& change) const {
  if (!change.isObject()) throw InvalidChange("a change must be an object with an op");
  const std::string op = text(change["op"]);
  if (op == "client.upsert") return upsert_client(connection, change);
  if (op == "billing_info.put" || op == "services.put") return put_client_data(connection, change);
  if (op == "ticket.upsert") return upsert_ticket(connection, change);
  if (op == "time_entry.upsert") return upsert_time_entry(connection, change);
  if (op == "time_entry.approve" || op == "time_entry.reject")
    return decide_time_entry(connection, change);
  if (op == "time_entry.billed_externally") return billed_externally(connection, change);
  if (op == "sales_item.create") return create_sales_item(connection, change);
  if (op == "invoice.status" || op == "invoice.external_id")
    return invoice_change(connection, change);
  if (op == "external_ref.link") return link_external_ref(connection, change);
  throw InvalidChange(op.empty() ? "a change must name its op" : "unknown op '" + op + "'");
}

ChangeResult ChangeApplier::upsert_client(const Connection& connection,
                                          const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const Json::Value& ref = member(change, "ref");
  if (!is_reference(ref)) throw InvalidChange("ref must be {\"id\"} or {\"external_id\"}");
  const auto who = principal_of(connection);
  const Json::Value fields = pick(change, {"name", "type", "status", "self_managed_profile"});
  if (auto id = resolve(connection, "client", ref)) {
    if (fields.empty()) return unchanged(op, *id);
    std::optional<Outcome> current;
    env_.store.read(
        [&](store::Tx& tx) { current = clients::get_client(tx, connection.tenant_id, *id); });
    if (!*current) return outcome_of(op, *current, *id);
    const Json::Value patch = differences(fields, **current);
    if (patch.empty()) return unchanged(op, *id);
    const auto update = clients::read_client_change(patch, false);
    if (!update) return refused(op, update.refusal(), *id);
    return outcome_of(
        op, commit([&](store::Tx& tx) { return clients::update_client(tx, who, *id, *update); }),
        *id);
  }
  Json::Value create = fields;
  if (ref["external_id"].isString())
    create["external_ids"][system_of(connection, ref)] = ref["external_id"];
  const auto client = clients::read_client_change(create, true);
  if (!client) return refused(op, client.refusal());
  return create_linked(connection, op, "client", ref,
                       [&](store::Tx& tx) { return clients::create_client(tx, who, *client); });
}

ChangeResult ChangeApplier::put_client_data(const Connection& connection,
                                            const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const Json::Value& ref = member(change, "client");
  std::string client;
  if (member(change, "if_linked").isBool() && member(change, "if_linked").asBool()) {
    // An accounting system reports every customer it has; most are no client here, and such a
    // change is done with rather than retried until it is parked.
    if (!is_reference(ref)) throw InvalidChange("client must be a reference");
    const auto id = resolve(connection, "client", ref);
    if (!id) return unchanged(op, "");
    client = *id;
  } else {
    client = require(connection, "client", ref, "client");
  }
  const auto who = principal_of(connection);
  if (op == "services.put") {
    const auto items = clients::read_services(pick(change, {"items"}));
    if (!items) return refused(op, items.refusal(), client);
    return outcome_of(op, commit([&](store::Tx& tx) {
                        return clients::assign_services(tx, who, client, *items);
                      }),
                      client);
  }
  Json::Value info = member(change, "billing_info");
  if (!info.isObject()) throw InvalidChange("billing_info must be an object");
  if (member(change, "merge").isBool() && member(change, "merge").asBool()) {
    std::optional<domain::Result<domain::BillingInfo>> current;
    env_.store.read(
        [&](store::Tx& tx) { current = clients::billing_info(tx, connection.tenant_id, client); });
    if (*current) info = merged((*current)->to_json(), info);
  }
  // A debtor code that names the connector's own record moves with it (a customer merged into
  // another): {"from","to"}, applied only where the client's code is still "from", so a code
  // the partner chose is never overwritten.
  if (const Json::Value& moved = member(change, "replace_debtor_code"); !moved.isNull()) {
    if (!moved.isObject() || !moved["from"].isString() || !moved["to"].isString() ||
        moved["to"].asString().empty()) {
      throw InvalidChange("replace_debtor_code must be {\"from\", \"to\"} with text");
    }
    if (info["debtor_code"].isString() &&
        info["debtor_code"].asString() == moved["from"].asString()) {
      info["debtor_code"] = moved["to"];
    }
  }
  const auto parsed = domain::parse_billing_info(info);
  if (!parsed.info) return refused(op, domain::Refusal::invalid(parsed.errors), client);
  return outcome_of(op, commit([&](store::Tx& tx) {
                      return clients::put_billing_info(tx, who, client, *parsed.info);
                    }),
                    client);
}

ChangeResult ChangeApplier::upsert_ticket(const Connection& connection,
                                          const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const Json::Value& ref = member(change, "ref");
  const auto who = principal_of(connection);
  std::optional<std::string> id = resolve(connection, "ticket", ref);
  ChangeResult result;
  if (!id) {
    const std::string client = require(connection, "client", member(change, "client"), "client");
    if (!is_reference(ref)) throw InvalidChange("ref must be {\"id\"} or {\"external_id\"}");
    Json::Value create = pick(change, {"subject"});
    create["client_id"] = client;
    domain::Fields f(create);
    f.only({"client_id", "subject"});
    const auto client_id = f.text("client_id", true, 100);
    const auto subject = f.text("subject", true, 500);
    if (!f.ok()) return refused(op, f.to_refusal());
    result = create_linked(connection, op, "ticket", ref, [&](store::Tx& tx) -> Outcome {
      auto ticket = tickets::open_ticket(tx, who, *client_id, *subject);
      if (!ticket) return ticket.refusal();
      return ticket->to_json();
    });
    if (result.outcome == "refused") return result;
    id = result.object_id;
  } else {
    result = unchanged(op, *id);
  }
  // Tickets change state by action; only a state the ticket is not in yet is asked for.
  const std::string status = text(member(change, "status"));
  if (status != "resolved" && status != "closed" && status != "open") return result;
  std::optional<tickets::Ticket> current;
  env_.store.read(
      [&](store::Tx& tx) { current = tickets::load_ticket(tx, connection.tenant_id, *id); });
  if (!current || current->status == status) return result;
  if (status == "open" && current->status == "new") return result;
  return outcome_of(op, commit([&](store::Tx& tx) {
                      return tickets::move_ticket(tx, who, *id, status, "ticket." + status);
                    }),
                    *id);
}

ChangeResult ChangeApplier::transition(const Connection& connection, const std::string& op,
                                       const std::string& id,
                                       const approval::Transition& step) const {
  const approval::TimeApprovalEnv env{env_.store, env_.plugins, env_.admission, {}};
  auto plan = approval::plan_transition(env, connection.tenant_id, id, step);
  if (!plan) return outcome_of(op, plan.refusal(), id);
  if (!plan->changed) {
    Json::Value same;
    same["changed"] = false;
    return outcome_of(op, same, id);
  }
  const std::string actor = principal_of(connection).token_id;
  return outcome_of(op, commit([&](store::Tx& tx) -> Outcome {
                      auto written =
                          approval::apply_transition(tx, connection.tenant_id, actor, *plan);
                      if (!written) return written.refusal();
                      return written->to_json();
                    }),
                    id);
}

ChangeResult ChangeApplier::upsert_time_entry(const Connection& connection,
                                              const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const Json::Value& ref = member(change, "ref");
  if (auto id = resolve(connection, "time_entry", ref)) {
    // A PSA repeats an entry on every update; only what actually changed is asked for, so an
    // unchanged repeat of an approved entry is not refused as an edit.
    std::optional<tickets::TimeEntry> current;
    env_.store.read(
        [&](store::Tx& tx) { current = tickets::load_time_entry(tx, connection.tenant_id, *id); });
    if (!current) return refused(op, domain::Refusal::not_found("time entry", *id), *id);
    const Json::Value patch =
        differences(pick(change, {"minutes", "billable", "note", "work_type"}), current->to_json());
    if (patch.empty()) return unchanged(op, *id);
    const auto step = approval::read_edit(patch);
    if (!step) return refused(op, step.refusal(), *id);
    return transition(connection, op, *id, *step);
  }
  const std::string ticket = require(connection, "ticket", member(change, "ticket"), "ticket");
  if (!is_reference(ref)) throw InvalidChange("ref must be {\"id\"} or {\"external_id\"}");
  const auto entry = tickets::read_new_time_entry(
      pick(change, {"minutes", "technician", "billable", "work_type", "note", "work_date"}));
  if (!entry) return refused(op, entry.refusal());
  const auto who = principal_of(connection);
  return create_linked(connection, op, "time_entry", ref, [&](store::Tx& tx) -> Outcome {
    auto written = tickets::register_time(tx, who, ticket, *entry);
    if (!written) return written.refusal();
    return written->to_json();
  });
}

ChangeResult ChangeApplier::decide_time_entry(const Connection& connection,
                                              const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const std::string id = require(connection, "time_entry", member(change, "entry"), "entry");
  if (op == "time_entry.reject") {
    const auto step = approval::read_reject(pick(change, {"reason"}));
    if (!step) return refused(op, step.refusal(), id);
    return transition(connection, op, id, *step);
  }
  // The one approval path the API takes too: the admission pipeline (the billing gate), then
  // the time-approval plugin, then a write guarded by status and version.
  const auto run = approval::approve_time_entries(
      {env_.store, env_.plugins, env_.admission, {}},
      {connection.tenant_id, principal_of(connection).token_id, {id}, std::nullopt, true});
  if (run.refusal) return outcome_of(op, *run.refusal, id);
  const auto& r = run.results.front();
  if (const auto refusal = approval::refusal_of(r)) return outcome_of(op, *refusal, id);
  Json::Value done;
  done["changed"] = r.outcome == "approved";
  return outcome_of(op, done, id);
}

ChangeResult ChangeApplier::billed_externally(const Connection& connection,
                                              const Json::Value& change) const {
  // The PSA billed this time itself: recorded, so that it is neither approved nor invoiced
  // here. There is no route for it; only a connector reports it.
  const std::string op = text(change["op"]);
  const std::string id = require(connection, "time_entry", member(change, "entry"), "entry");
  const auto r = approval::record_external_billing(
      env_.store, connection.tenant_id, principal_of(connection).token_id, id,
      {connection.connector, text(member(change, "reference")), text(member(change, "status"))});
  if (r.outcome == "not_found" || r.outcome == "refused") {
    return refused(op,
                   domain::Refusal::make(r.outcome == "not_found" ? domain::RefusalKind::not_found
                                                                  : domain::RefusalKind::conflict,
                                         r.type, r.detail),
                   id);
  }
  ChangeResult result = unchanged(op, id);
  result.outcome = r.outcome;
  result.status = 200;
  return result;
}

ChangeResult ChangeApplier::create_sales_item(const Connection& connection,
                                              const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const std::string client = require(connection, "client", member(change, "client"), "client");
  const Json::Value& ref = member(change, "ref");
  if (!is_reference(ref)) throw InvalidChange("ref must be {\"id\"} or {\"external_id\"}");
  if (auto id = resolve(connection, "sales_item", ref)) return unchanged(op, *id);
  Json::Value create = pick(change, {"description", "quantity", "unit_price", "currency", "sku"});
  create["client_id"] = client;
  // The guide names the change's date item_date; the item's own member is date.
  if (change.isMember("item_date")) create["date"] = change["item_date"];
  const auto item = sales::read_item_fields(create, true);
  if (!item) return refused(op, item.refusal());
  // Asked before the write, outside the writer: the billing gate holds an integration's usage
  // for a client without billing info rather than refusing it.
  const auto who = principal_of(connection);
  const auto plan = sales::plan_create({env_.store, env_.admission}, who, *item);
  if (!plan) return outcome_of(op, plan.refusal(), "");
  return create_linked(connection, op, "sales_item", ref,
                       [&](store::Tx& tx) { return sales::create_item(tx, who, *plan); });
}

ChangeResult ChangeApplier::link_external_ref(const Connection& connection,
                                              const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const std::string type = text(member(change, "object_type"));
  const std::string object_id = text(member(change, "object_id"));
  const Json::Value& ref = member(change, "ref");
  if (type.empty() || object_id.empty() || !ref["external_id"].isString()) {
    throw InvalidChange("external_ref.link needs object_type, object_id and ref.external_id");
  }
  try {
    env_.store.write([&](store::Tx& tx) {
      // "replaces": the external id the object was linked to before, gone in the other system (a
      // QuickBooks customer merged into another): that link is dropped, not left to win lookups.
      if (non_empty(member(change, "replaces"))) {
        tx.exec(
            "DELETE FROM external_refs WHERE tenant_id = ? AND system = ? AND object_type = ? AND "
            "external_id = ? AND object_id = ?",
            {connection.tenant_id, system_of(connection, ref), type,
             member(change, "replaces").asString(), object_id});
      }
      link(tx, connection, type, ref, object_id);
    });
  } catch (const std::exception& e) {
    throw RetryLater(std::string("linking failed: ") + e.what());
  }
  ChangeResult r = unchanged(op, object_id);
  r.outcome = "applied";
  return r;
}

// Invoices have no write route: what an accounting system says of one (paid, void, its id
// there) goes through the host calls made for exactly that, as the connector.
ChangeResult ChangeApplier::invoice_change(const Connection& connection,
                                           const Json::Value& change) const {
  const std::string op = text(change["op"]);
  const Json::Value& ref = member(change, "invoice");
  if (!non_empty(ref["id"]) && !non_empty(ref["number"])) {
    throw InvalidChange("invoice must be {\"id\"} or {\"number\"}");
  }
  if (!env_.calls) {
    return refused(op, domain::Refusal::make(domain::RefusalKind::unavailable, "not-ready",
                                             "invoice changes are not served here"));
  }
  const plugins::CallerInfo caller{connection.connector};
  const auto host_call = [&](const char* method, const Json::Value& request) {
    const auto* entry = env_.calls->find(method);
    if (!entry)
      return plugins::CallResult::error(PSA_NOT_FOUND, std::string(method) + " is missing");
    return entry->fn(caller, request);
  };
  std::string invoice_id = text(ref["id"]);
  if (invoice_id.empty()) {
    Json::Value find;
    find["tenant_id"] = connection.tenant_id;
    find["number"] = ref["number"];
    const auto found = host_call("invoices.find", find);
    if (found.code == PSA_NOT_FOUND) {
      return refused(op, domain::Refusal::make(domain::RefusalKind::not_found, "not-found",
                                               "no invoice numbered " + ref["number"].asString()));
    }
    if (found.code != PSA_OK) throw RetryLater(found.body["error"]["message"].asString());
    invoice_id = found.body["id"].asString();
  }
  Json::Value request;
  request["tenant_id"] = connection.tenant_id;
  request["invoice_id"] = invoice_id;
  const char* method = "invoices.set_status";
  if (op == "invoice.status") {
    request["status"] = member(change, "status");
    request["source"] = connection.connector;
    request["reason"] = member(change, "reason").isString()
                            ? member(change, "reason")
                            : Json::Value("reported by " + connection.name);
  } else {
    method = "invoices.set_external_id";
    request["system"] = member(change, "system").isString() ? member(change, "system")
                                                            : Json::Value(connection.connector);
    request["external_id"] = member(change, "external_id");
  }
  const auto r = host_call(method, request);
  if (r.code == PSA_OK) {
    ChangeResult result = unchanged(op, invoice_id);
    result.outcome = r.body["changed"].asBool() ? "applied" : "unchanged";
    result.status = 200;
    return result;
  }
  const std::string message = r.body["error"]["message"].asString();
  if (r.code == PSA_NOT_FOUND) {
    return refused(op, domain::Refusal::make(domain::RefusalKind::not_found, "not-found", message));
  }
  if (r.code == PSA_INVALID_ARGUMENT || r.code == PSA_DENIED) {
    return refused(op, domain::Refusal::conflict("invalid-transition", message), invoice_id);
  }
  throw RetryLater(message);
}

}  // namespace psahost::webhooks
