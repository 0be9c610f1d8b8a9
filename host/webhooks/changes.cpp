#include "webhooks/changes.hpp"

#include "approval/billed_externally.hpp"
#include "core/clock.hpp"
#include "store/json_column.hpp"

#include <json/reader.h>
#include <psa/sdk.hpp>

#include <future>
#include <memory>

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

// Our own id by the route answering a create: {"id": ...}.
std::string created_id(const Json::Value& body) {
  return body.isObject() ? text(body["id"]) : std::string();
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

ChangeApplier::Reply ChangeApplier::call(const Connection& connection, const std::string& method,
                                         const std::string& path, const Json::Value& body,
                                         const std::string& idempotency_key) const {
  // The handler may answer later from another thread and reads the request until it has: the
  // responder keeps it alive, even past a timeout here.
  auto request = std::make_shared<http::Request>();
  request->method = method;
  request->target = path;
  request->path = path;
  request->remote = "connection:" + connection.name;
  if (method != "GET") {
    request->headers["content-type"] = "application/json";
    request->body = psa::json::write(body);
  }
  if (!idempotency_key.empty()) request->headers["idempotency-key"] = idempotency_key;
  request->internal = std::make_shared<http::InternalCaller>(
      http::InternalCaller{connection.tenant_id, "integration", "connection:" + connection.name});

  auto promise = std::make_shared<std::promise<http::Response>>();
  auto answer = promise->get_future();
  std::string route;
  router_.dispatch(
      *request, [promise, request](http::Response r) { promise->set_value(std::move(r)); }, &route);
  if (answer.wait_for(route_timeout_) != std::future_status::ready) {
    throw RetryLater(method + " " + path + " did not answer in time");
  }
  const http::Response response = answer.get();
  Reply reply;
  reply.status = response.status;
  if (!response.body.empty()) {
    std::string errors;
    psa::json::reader().parse(response.body.data(), response.body.data() + response.body.size(),
                              &reply.body, &errors);
  }
  if (reply.status >= 500 || reply.status == 429) {
    throw RetryLater(method + " " + path + " answered " + std::to_string(reply.status) + ": " +
                     text(reply.body["detail"]));
  }
  return reply;
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
  store_.read([&](store::Tx& tx) {
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
  if (by_debtor_code) link(connection, type, ref, *id);
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

void ChangeApplier::link(const Connection& connection, const std::string& type,
                         const Json::Value& ref, const std::string& object_id) const {
  if (!non_empty(ref["external_id"])) return;
  const std::string system =
      ref["system"].isString() ? ref["system"].asString() : connection.connector;
  const std::string external_id = ref["external_id"].asString();
  store_.write([&](store::Tx& tx) {
    tx.exec(
        "INSERT INTO external_refs (tenant_id, system, object_type, external_id, object_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET object_id = "
        "excluded.object_id",
        {connection.tenant_id, system, type, external_id, object_id, now_rfc3339()});
    if (type != "client") return;
    // A client shows its ids elsewhere in external_ids, which is what a connector reads
    // (clients.get) to find the record it pushes to; a link only in external_refs would be
    // invisible to it.
    auto row = tx.query_one("SELECT external_ids FROM clients WHERE id = ? AND tenant_id = ?",
                            {object_id, connection.tenant_id});
    if (!row) return;
    Json::Value ids = store::from_text(row->text(0));
    if (!ids.isObject()) ids = Json::Value(Json::objectValue);
    if (ids[system] == Json::Value(external_id)) return;
    ids[system] = external_id;
    tx.exec("UPDATE clients SET external_ids = ? WHERE id = ? AND tenant_id = ?",
            {store::to_text(ids), object_id, connection.tenant_id});
  });
}

namespace {

ChangeResult outcome_of(const std::string& op, int status, const Json::Value& body,
                        const std::string& object_id) {
  ChangeResult r;
  r.op = op;
  r.status = status;
  r.object_id = object_id;
  if (status >= 200 && status < 300) {
    r.outcome = body.isObject() && body["changed"].isBool() && !body["changed"].asBool()
                    ? "unchanged"
                    : "applied";
  } else {
    r.outcome = "refused";
    r.problem = body;
  }
  return r;
}

ChangeResult unchanged(const std::string& op, const std::string& object_id) {
  ChangeResult r;
  r.op = op;
  r.outcome = "unchanged";
  r.object_id = object_id;
  return r;
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

}  // namespace

// Creates the object when its reference is not linked yet (and links it), otherwise updates it
// with update_body when that has anything in it.
ChangeResult ChangeApplier::upsert(const Connection& connection, const Json::Value& change,
                                   const std::string& type, const std::string& create_path,
                                   const Json::Value& create_body,
                                   const std::string& update_path_prefix,
                                   const Json::Value& update_body) const {
  const std::string op = text(change["op"]);
  const Json::Value& ref = member(change, "ref");
  if (!is_reference(ref)) throw InvalidChange("ref must be {\"id\"} or {\"external_id\"}");
  if (auto id = resolve(connection, type, ref)) {
    if (update_body.empty() || update_path_prefix.empty()) return unchanged(op, *id);
    // Only what differs is sent: a delivery applied twice (a retry, a replay, a re-run after a
    // crash) changes nothing the second time and appends no event.
    const Reply current = call(connection, "GET", update_path_prefix + *id, Json::nullValue);
    if (current.status != 200) return outcome_of(op, current.status, current.body, *id);
    Json::Value patch(Json::objectValue);
    for (const auto& name : update_body.getMemberNames()) {
      if (update_body[name] != current.body[name]) patch[name] = update_body[name];
    }
    if (patch.empty()) return unchanged(op, *id);
    const Reply r = call(connection, "PATCH", update_path_prefix + *id, patch);
    return outcome_of(op, r.status, r.body, *id);
  }
  if (!ref["external_id"].isString()) {
    ChangeResult r = unchanged(op, "");
    r.outcome = "refused";
    r.status = 404;
    r.problem["detail"] = type + " " + ref["id"].asString() + " does not exist";
    return r;
  }
  const std::string system =
      ref["system"].isString() ? ref["system"].asString() : connection.connector;
  // Derived from what is created, not from this delivery: a retry after a crash, or the same
  // object arriving in another delivery, gets the first answer back instead of a second object.
  const std::string key = "connection:" + connection.id + ":" + type + ":" + system + ":" +
                          ref["external_id"].asString();
  const Reply r = call(connection, "POST", create_path, create_body, key);
  ChangeResult result = outcome_of(op, r.status, r.body, created_id(r.body));
  if (result.outcome == "applied" && !result.object_id.empty()) {
    link(connection, type, ref, result.object_id);
  }
  return result;
}

ChangeResult ChangeApplier::apply_one(const Connection& connection,
                                      const Json::Value& change) const {
  if (!change.isObject()) throw InvalidChange("a change must be an object with an op");
  const std::string op = text(change["op"]);

  if (op == "client.upsert") {
    Json::Value fields = pick(change, {"name", "type", "status", "self_managed_profile"});
    Json::Value create = fields;
    const Json::Value& ref = member(change, "ref");
    if (ref["external_id"].isString()) {
      const std::string system =
          ref["system"].isString() ? ref["system"].asString() : connection.connector;
      create["external_ids"][system] = ref["external_id"];
    }
    return upsert(connection, change, "client", "/v1/clients", create, "/v1/clients/", fields);
  }

  if (op == "billing_info.put" || op == "services.put") {
    const Json::Value& ref = member(change, "client");
    std::string client;
    if (member(change, "if_linked").isBool() && member(change, "if_linked").asBool()) {
      // An accounting system reports every customer it has; most are no client here, and such
      // a change is done with rather than retried until it is parked.
      if (!is_reference(ref)) throw InvalidChange("client must be a reference");
      const auto id = resolve(connection, "client", ref);
      if (!id) return unchanged(op, "");
      client = *id;
    } else {
      client = require(connection, "client", ref, "client");
    }
    if (op == "services.put") {
      const Reply r =
          call(connection, "PUT", "/v1/clients/" + client + "/services", pick(change, {"items"}));
      return outcome_of(op, r.status, r.body, client);
    }
    Json::Value info = member(change, "billing_info");
    if (!info.isObject()) throw InvalidChange("billing_info must be an object");
    const std::string path = "/v1/clients/" + client + "/billing-info";
    if (member(change, "merge").isBool() && member(change, "merge").asBool()) {
      const Reply current = call(connection, "GET", path, Json::nullValue);
      if (current.status == 200) info = merged(current.body, info);
    }
    const Reply r = call(connection, "PUT", path, info);
    return outcome_of(op, r.status, r.body, client);
  }

  if (op == "ticket.upsert") {
    const Json::Value& ref = member(change, "ref");
    std::optional<std::string> id = resolve(connection, "ticket", ref);
    ChangeResult result;
    if (!id) {
      const std::string client = require(connection, "client", member(change, "client"), "client");
      Json::Value create = pick(change, {"subject"});
      create["client_id"] = client;
      result = upsert(connection, change, "ticket", "/v1/tickets", create, "", Json::Value());
      if (result.outcome != "applied") return result;
      id = result.object_id;
    } else {
      result = unchanged(op, *id);
    }
    // Tickets change state by action; only a state the ticket is not in yet is asked for.
    const std::string status = text(member(change, "status"));
    const std::string action = status == "resolved" ? "resolve"
                               : status == "closed" ? "close"
                               : status == "open"   ? "reopen"
                                                    : "";
    if (action.empty()) return result;
    const Reply current = call(connection, "GET", "/v1/tickets/" + *id, Json::nullValue);
    if (current.status != 200 || text(current.body["status"]) == status) return result;
    if (status == "open" && text(current.body["status"]) == "new") return result;
    const Reply r =
        call(connection, "POST", "/v1/tickets/" + *id + "/" + action, Json::objectValue);
    return outcome_of(op, r.status, r.body, *id);
  }

  if (op == "time_entry.upsert") {
    const Json::Value& ref = member(change, "ref");
    if (auto id = resolve(connection, "time_entry", ref)) {
      // A PSA repeats an entry on every update; only what actually changed is sent, so an
      // unchanged repeat of an approved entry is not refused as an edit.
      const Reply current = call(connection, "GET", "/v1/time-entries/" + *id, Json::nullValue);
      if (current.status != 200) return outcome_of(op, current.status, current.body, *id);
      Json::Value patch(Json::objectValue);
      for (const char* name : {"minutes", "billable", "note", "work_type"}) {
        if (change.isMember(name) && change[name] != current.body[name]) patch[name] = change[name];
      }
      if (patch.empty()) return unchanged(op, *id);
      const Reply r = call(connection, "PATCH", "/v1/time-entries/" + *id, patch);
      return outcome_of(op, r.status, r.body, *id);
    }
    const std::string ticket = require(connection, "ticket", member(change, "ticket"), "ticket");
    return upsert(
        connection, change, "time_entry", "/v1/tickets/" + ticket + "/time-entries",
        pick(change, {"minutes", "technician", "billable", "work_type", "note", "work_date"}), "",
        Json::Value());
  }

  if (op == "time_entry.approve" || op == "time_entry.reject") {
    const std::string id = require(connection, "time_entry", member(change, "entry"), "entry");
    const bool approve = op == "time_entry.approve";
    const Reply r =
        call(connection, "POST", "/v1/time-entries/" + id + (approve ? "/approve" : "/reject"),
             approve ? Json::Value(Json::objectValue) : pick(change, {"reason"}));
    return outcome_of(op, r.status, r.body, id);
  }

  if (op == "time_entry.billed_externally") {
    // The PSA billed this time itself: recorded, so that it is neither approved nor invoiced
    // here. There is no route for it; only a connector reports it.
    const std::string id = require(connection, "time_entry", member(change, "entry"), "entry");
    const auto r = approval::record_external_billing(
        store_, connection.tenant_id, "connection:" + connection.name, id,
        {connection.connector, text(member(change, "reference")), text(member(change, "status"))});
    ChangeResult result = unchanged(op, id);
    result.outcome = r.outcome == "applied" || r.outcome == "unchanged" ? r.outcome : "refused";
    result.status = r.outcome == "not_found" ? 404 : r.outcome == "refused" ? 409 : 200;
    if (result.outcome == "refused") {
      result.problem["type"] = std::string(http::kProblemTypePrefix) + r.type;
      result.problem["detail"] = r.detail;
    }
    return result;
  }

  if (op == "sales_item.create") {
    const std::string client = require(connection, "client", member(change, "client"), "client");
    Json::Value create =
        pick(change, {"description", "quantity", "unit_price", "currency", "sku", "item_date"});
    create["client_id"] = client;
    return upsert(connection, change, "sales_item", "/v1/sales-items", create, "", Json::Value());
  }

  if (op == "invoice.status" || op == "invoice.external_id")
    return invoice_change(connection, change);

  if (op == "external_ref.link") {
    const std::string type = text(member(change, "object_type"));
    const std::string object_id = text(member(change, "object_id"));
    const Json::Value& ref = member(change, "ref");
    if (type.empty() || object_id.empty() || !ref["external_id"].isString()) {
      throw InvalidChange("external_ref.link needs object_type, object_id and ref.external_id");
    }
    // "replaces": the external id the object was linked to before, gone in the other system (a
    // QuickBooks customer merged into another): that link is dropped, not left to win lookups.
    if (non_empty(member(change, "replaces"))) {
      const std::string system =
          ref["system"].isString() ? ref["system"].asString() : connection.connector;
      store_.write([&](store::Tx& tx) {
        tx.exec(
            "DELETE FROM external_refs WHERE tenant_id = ? AND system = ? AND object_type = ? AND "
            "external_id = ? AND object_id = ?",
            {connection.tenant_id, system, type, member(change, "replaces").asString(), object_id});
      });
    }
    link(connection, type, ref, object_id);
    ChangeResult r = unchanged(op, object_id);
    r.outcome = "applied";
    return r;
  }

  throw InvalidChange(op.empty() ? "a change must name its op" : "unknown op '" + op + "'");
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
  const auto refused = [&](int status, const std::string& slug, const std::string& detail) {
    ChangeResult r = unchanged(op, "");
    r.outcome = "refused";
    r.status = status;
    r.problem["type"] = std::string(http::kProblemTypePrefix) + slug;
    r.problem["detail"] = detail;
    return r;
  };
  if (!calls_) return refused(503, "not-ready", "invoice changes are not served here");
  const plugins::CallerInfo caller{connection.connector};
  const auto host_call = [&](const char* method, const Json::Value& request) {
    const auto* entry = calls_->find(method);
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
      return refused(404, "not-found", "no invoice numbered " + ref["number"].asString());
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
  if (r.code == PSA_NOT_FOUND)
    return refused(404, "not-found", r.body["error"]["message"].asString());
  if (r.code == PSA_INVALID_ARGUMENT || r.code == PSA_DENIED) {
    ChangeResult result = refused(409, "invalid-transition", r.body["error"]["message"].asString());
    result.object_id = invoice_id;
    return result;
  }
  throw RetryLater(r.body["error"]["message"].asString());
}

}  // namespace psahost::webhooks
