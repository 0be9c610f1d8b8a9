// The QuickBooks Online connector. Inbound: change notifications (the classic eventNotifications
// document and the CloudEvents array), verified by the host with the verifier token, carry ids
// only; the records are read back and become invoice status and billing info changes. Outbound:
// every issued invoice becomes a QuickBooks Invoice with our number as its DocNumber, for the
// client's customer (found or created once), never twice (requestid, and a lookup by number
// whenever an answer may have been lost). It also reports the newest DocNumber for the
// numbering check and tests the connection with CompanyInfo.
#include "amounts.hpp"
#include "quickbooks_api.hpp"
#include "quickbooks_records.hpp"
#include "wire.hpp"

#include <psa/sdk.hpp>

#include <cstdio>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace quickbooks {
namespace {

constexpr const char* kSystem = "quickbooks";
constexpr std::size_t kDocNumberLimit = 21;
// A record a notification names but QuickBooks does not show (yet): asked again on this many
// attempts of the delivery before it is set aside, so that one deleted record cannot hold up
// the connection's later notifications for long.
constexpr int64_t kAttemptsForMissing = 3;

// A string member, or an integral one as its digits (connectors::text takes strings only): a
// notification may carry an id such as realmId as a number.
std::string text(const Json::Value& v) {
  return v.isString() ? v.asString() : v.isIntegral() ? v.asString() : std::string();
}

// One entity a notification names, whichever shape it came in.
struct Notice {
  std::string realm, entity, id, operation;  // entity and operation lower case: "invoice", "void"
  // A merge's merged-away record: data.deletedid in CloudEvents (Intuit's "Understanding the
  // data object" page, developer.intuit.com/app/developer/qbo/docs/develop/webhooks/
  // data-objects, "Customer merged"), the entity's deletedId in the classic document.
  std::string deleted;
  bool operator<(const Notice& o) const {
    return std::tie(realm, entity, id, operation) < std::tie(o.realm, o.entity, o.id, o.operation);
  }
};

// CloudEvents name the operation in the past tense inside the type: qbo.invoice.voided.v1.
std::string present_tense(const std::string& action) {
  if (action == "created") return "create";
  if (action == "updated") return "update";
  if (action == "deleted") return "delete";
  if (action == "merged") return "merge";
  if (action == "voided") return "void";
  return action;
}

std::vector<Notice> notices_of(const Json::Value& payload) {
  std::vector<Notice> out;
  if (payload.isArray()) {
    for (const auto& e : payload) {
      const std::string type = connectors::lower(text(e["type"]));
      std::vector<std::string> parts;
      for (std::size_t start = 0;;) {
        const auto dot = type.find('.', start);
        parts.push_back(type.substr(start, dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      if (parts.size() != 4 || parts[0] != "qbo") continue;
      out.push_back({text(e["intuitaccountid"]), parts[1], text(e["intuitentityid"]),
                     present_tense(parts[2]), text(e["data"]["deletedid"])});
    }
    return out;
  }
  for (const auto& n : payload["eventNotifications"]) {
    for (const auto& e : n["dataChangeEvent"]["entities"]) {
      out.push_back({text(n["realmId"]), connectors::lower(text(e["name"])), text(e["id"]),
                     connectors::lower(text(e["operation"])), text(e["deletedId"])});
    }
  }
  return out;
}

class QuickBooks final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value&) override { host_ = &host; }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "webhook.map") return map(request);
    if (hook == "sync.push") return push(request);
    if (hook == "sync.result") return result(request);
    if (hook == "command.last_invoice_number") return last_number(request);
    if (hook == "command.test") return test(request);
    throw psa::HookError(PSA_NOT_FOUND, "quickbooks does not handle " + std::string(hook));
  }

 private:
  // --- inbound ---------------------------------------------------------------------------------

  struct Mapping {
    const Json::Value& request;
    Api api;
    Json::Value changes = Json::Value(Json::arrayValue);
    // waiting: records QuickBooks does not show (yet); unlinked: what waits for a push's link.
    std::vector<std::string> notes, waiting, unlinked;
  };

  Json::Value map(const Json::Value& request) {
    Mapping m{request, Api(*host_, request), Json::Value(Json::arrayValue), {}, {}, {}};
    const auto notices = notices_of(request["payload"]);
    if (notices.empty()) m.notes.push_back("no QuickBooks entity is named; nothing to do");
    std::set<Notice> seen;
    for (const auto& n : notices) {
      if (!seen.insert(n).second) continue;
      if (n.realm != m.api.realm()) {
        m.notes.push_back("company " + n.realm + " is not this connection's; ignored");
        continue;
      }
      if (!connectors::is_record_id(n.id)) {
        m.notes.push_back("'" + n.id + "' is not a QuickBooks id; ignored");
        continue;
      }
      if (n.entity == "invoice") {
        invoice_notice(m, n);
      } else if (n.entity == "payment") {
        payment_notice(m, n);
      } else if (n.entity == "customer") {
        customer_notice(m, n);
      } else {
        m.notes.push_back(n.entity + " changes change nothing here");
      }
    }
    if (!m.unlinked.empty()) {
      std::string what;
      for (const auto& w : m.unlinked) what += (what.empty() ? "" : ", ") + w;
      throw std::runtime_error("waiting for " + what);
    }
    if (!m.waiting.empty()) {
      std::string what;
      for (const auto& w : m.waiting) what += (what.empty() ? "" : ", ") + w;
      if (request["delivery"]["attempt"].asInt64() <= kAttemptsForMissing) {
        // Thrown, so the host tries the whole delivery again later; what it changes is the same
        // the second time.
        throw std::runtime_error("QuickBooks does not show " + what + " yet; trying again later");
      }
      m.notes.push_back(what + " still not shown by QuickBooks; set aside");
    }
    Json::Value out;
    out["changes"] = m.changes;
    std::string note;
    for (const auto& n : m.notes) note += (note.empty() ? "" : "; ") + n;
    if (!note.empty()) out["note"] = note;
    return out;
  }

  void invoice_notice(Mapping& m, const Notice& n) {
    if (n.operation != "create" && n.operation != "update" && n.operation != "void" &&
        n.operation != "merge") {
      m.notes.push_back("invoice " + n.id + " " + n.operation + ": nothing to do");
      return;
    }
    const auto record = m.api.read("invoice", n.id);
    if (!record) {
      m.waiting.push_back("invoice " + n.id);
      return;
    }
    report_invoice(m, *record, n.operation == "void" ? "void" : "", "");
  }

  void payment_notice(Mapping& m, const Notice& n) {
    if (n.operation != "create" && n.operation != "update") {
      // Our invoices never go back from paid: a payment deleted there is for a person to sort.
      m.notes.push_back("payment " + n.id + " " + n.operation + ": nothing to do");
      return;
    }
    const auto payment = m.api.read("payment", n.id);
    if (!payment) {
      m.waiting.push_back("payment " + n.id);
      return;
    }
    std::set<std::string> invoices;
    for (const auto& line : (*payment)["Line"]) {
      for (const auto& linked : line["LinkedTxn"]) {
        if (text(linked["TxnType"]) == "Invoice") invoices.insert(text(linked["TxnId"]));
      }
    }
    for (const auto& id : invoices) {
      if (!connectors::is_record_id(id)) continue;
      const auto record = m.api.read("invoice", id);
      if (!record) {
        m.waiting.push_back("invoice " + id);
        continue;
      }
      report_invoice(m, *record, "", n.id);
    }
  }

  // What a QuickBooks invoice says of ours: voided, or paid in full.
  void report_invoice(Mapping& m, const Json::Value& record, const std::string& voided,
                      const std::string& payment) {
    const std::string id = text(record["Id"]);
    const std::string number = text(record["DocNumber"]);
    const auto ours = connectors::find_invoice(*host_, m.request, number);
    if (!ours) {
      m.notes.push_back("invoice " + id + " (" + (number.empty() ? "no number" : number) +
                        ") was not issued here");
      return;
    }
    const std::string pushed = text((*ours)["external_ids"][kSystem]);
    // Another QuickBooks invoice with our number (a collision someone made there) says nothing
    // of ours.
    if (!pushed.empty() && pushed != id) {
      m.notes.push_back("invoice " + id + " shares number " + number + " with invoice " + pushed +
                        ", the one pushed; ignored");
      return;
    }
    const std::string status = text((*ours)["status"]);
    Json::Value change;
    change["op"] = "invoice.status";
    change["invoice"]["number"] = number;
    if (!voided.empty()) {
      // QuickBooks zeroes a voided invoice's amounts, so its number and its customer (our
      // client's) must say it is ours until the push's answer stores the link. Voiding is not
      // guessed: without either this waits, and is parked where it shows if nothing comes.
      const std::string linked = pushed.empty() ? customer_of(m, (*ours)["client_id"]) : "";
      if (pushed.empty() && (linked.empty() || linked != text(record["CustomerRef"]["value"]))) {
        m.unlinked.push_back("invoice " + number + " (QuickBooks invoice " + id +
                             ") to be linked by its push");
        return;
      }
      if (status == "void") return;
      change["status"] = "void";
      change["reason"] = "voided in QuickBooks (invoice " + id + ")";
      m.changes.append(change);
      return;
    }
    const std::string currency = text((*ours)["currency"]);
    if (!is_paid(record, currency)) {
      m.notes.push_back("invoice " + number + " is not paid in full in QuickBooks");
      return;
    }
    const auto total = connectors::minor_units(record["TotalAmt"], currency);
    if (pushed.empty() && (!total || *total != (*ours)["total_amount"].asInt64())) {
      m.notes.push_back("invoice " + id + " has number " + number +
                        " but not its total; not taken as ours");
      return;
    }
    if (status == "paid" || status == "void") return;
    change["status"] = "paid";
    change["reason"] = payment.empty() ? "paid in QuickBooks (invoice " + id + ")"
                                       : "paid in QuickBooks (payment " + payment + ")";
    m.changes.append(change);
  }

  void customer_notice(Mapping& m, const Notice& n) {
    if (n.operation != "create" && n.operation != "update" && n.operation != "merge") {
      m.notes.push_back("customer " + n.id + " " + n.operation + ": nothing to do");
      return;
    }
    const auto customer = m.api.read("customer", n.id);
    if (!customer) {
      m.waiting.push_back("customer " + n.id);
      return;
    }
    if (n.operation == "merge") merged_customer(m, n);
    Json::Value change;
    change["op"] = "billing_info.put";
    // A client is this customer by the link a push or an earlier change made, else by its
    // debtor code, which for QuickBooks is the customer's id.
    change["client"]["external_id"] = n.id;
    change["client"]["debtor_code"] = n.id;
    change["billing_info"] = billing_info_of(*customer);
    change["merge"] = true;
    change["if_linked"] = true;
    // QuickBooks debtor codes are customer ids: a client known by the merged-away customer's
    // id is known by the survivor's from now on (a code the partner chose stays).
    if (n.operation == "merge" && connectors::is_record_id(n.deleted) && n.deleted != n.id) {
      change["replace_debtor_code"]["from"] = n.deleted;
      change["replace_debtor_code"]["to"] = n.id;
    }
    m.changes.append(change);
  }

  // Customer n.deleted was merged into n.id and is gone: the client linked to it is linked to
  // the survivor instead, so that its invoices and its billing info follow the customer.
  void merged_customer(Mapping& m, const Notice& n) {
    if (n.deleted.empty() || !connectors::is_record_id(n.deleted) || n.deleted == n.id) {
      m.notes.push_back("customer " + n.id + " merge names no merged-away customer");
      return;
    }
    Json::Value find;
    find["tenant_id"] = m.request["tenant_id"];
    find["object_type"] = "client";
    find["external_id"] = n.deleted;
    const Json::Value found = host_->call("external_refs.find", find);
    if (!found["object_id"].isString()) {
      m.notes.push_back("customer " + n.deleted + " merged into " + n.id +
                        " was linked to no client");
      return;
    }
    Json::Value link;
    link["op"] = "external_ref.link";
    link["object_type"] = "client";
    link["object_id"] = found["object_id"];
    link["ref"]["external_id"] = n.id;
    link["ref"]["system"] = kSystem;
    link["replaces"] = n.deleted;
    m.changes.append(link);
  }

  // The customer a client is linked to, "" when none.
  std::string customer_of(const Mapping& m, const Json::Value& client_id) const {
    Json::Value get;
    get["tenant_id"] = m.request["tenant_id"];
    get["client_id"] = client_id;
    try {
      return text(host_->call("clients.get", get)["external_ids"][kSystem]);
    } catch (const psa::HostError& e) {
      if (e.code() == PSA_NOT_FOUND) return "";
      throw;
    }
  }

  // --- outbound --------------------------------------------------------------------------------

  Json::Value push(const Json::Value& request) {
    Json::Value out;
    out["requests"] = Json::Value(Json::arrayValue);
    const Json::Value& event = request["event"];
    if (text(event["type"]) != "invoice.issued") return out;
    const Json::Value& invoice = event["data"];
    const std::string number = text(invoice["number"]);
    if (number.empty()) throw std::runtime_error("invoice.issued carries no invoice number");
    if (number.size() > kDocNumberLimit) {
      // No retry makes the number shorter: the delivery ends here, with what to do.
      Json::Value failed;
      failed["failed"] = "invoice number " + number + " has " + std::to_string(number.size()) +
                         " characters; a QuickBooks DocNumber holds at most 21: shorten the "
                         "numbering's prefix or pattern";
      return failed;
    }
    Api api(*host_, request);
    const std::string customer = customer_for(api, request, invoice);
    // Pushed before (a replay, or a push whose answer was lost): linked, not created again.
    for (const auto& found :
         api.query("Invoice", "SELECT * FROM Invoice WHERE DocNumber = " + quoted(number))) {
      if (!is_our_invoice(found, invoice, customer)) continue;
      Json::Value read;
      read["method"] = "GET";
      read["url"] = api.company_url("invoice/" + text(found["Id"]));
      read["headers"]["Accept"] = "application/json";
      out["requests"].append(read);
      return out;
    }
    // Another invoice with our number is left for QuickBooks to refuse as a duplicate, which
    // sync.result reports.
    const std::string request_id = request_id_of("i", text(invoice["id"]));
    Json::Value create;
    create["method"] = "POST";
    create["url"] = api.company_url("invoice?requestid=" + connectors::url_encode(request_id));
    create["headers"]["Accept"] = "application/json";
    create["headers"]["Content-Type"] = "application/json";
    create["body"] = connectors::json_body(
        invoice_body(invoice, customer, Settings::of(request["connection"]["settings"])));
    create["idempotency_key"] = request_id;
    out["requests"].append(create);
    return out;
  }

  // QuickBooks keeps a requestid's answer and gives it back to the same requestid instead of
  // doing the work twice; at most 50 characters, unique within the company.
  static std::string request_id_of(const std::string& kind, const std::string& id) {
    std::string rid = "psahost-" + kind + "-" + id;
    if (rid.size() <= 50) return rid;
    uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across builds, unlike std::hash
    for (const unsigned char c : id) h = (h ^ c) * 1099511628211ULL;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return "psahost-" + kind + "-" + buf;
  }

  // The customer the invoice goes to: the one the client is linked to, else the one its debtor
  // code names, else the one with its name, else a new one (made once: requestid).
  std::string customer_for(const Api& api, const Json::Value& request, const Json::Value& invoice) {
    const Json::Value& client = invoice["client"];
    const std::string client_id = text(invoice["client_id"]);
    Json::Value get;
    get["tenant_id"] = request["tenant_id"];
    get["client_id"] = client_id;
    const std::string linked = text(host_->call("clients.get", get)["external_ids"][kSystem]);
    if (!linked.empty() && connectors::is_record_id(linked) && api.read("customer", linked)) {
      return linked;
    }
    const std::string code = text(client["debtor_code"]);
    if (!code.empty() && connectors::is_record_id(code) && api.read("customer", code)) {
      return code;
    }
    const std::string name = display_name(client);
    if (name.empty()) throw std::runtime_error("client " + client_id + " has no name to send");
    const Json::Value named =
        api.query("Customer", "SELECT * FROM Customer WHERE DisplayName = " + quoted(name));
    if (!named.empty() && !text(named[0]["Id"]).empty()) return text(named[0]["Id"]);
    const Answer made =
        api.post(api.company_url("customer?requestid=" +
                                 connectors::url_encode(request_id_of("c", client_id))),
                 connectors::json_body(customer_body(client)));
    if (!made.ok() || text(made.body["Customer"]["Id"]).empty()) {
      Api::fail("creating the customer " + name, made);
    }
    return text(made.body["Customer"]["Id"]);
  }

  Json::Value result(const Json::Value& request) {
    const Json::Value& sent = request["request"];
    Json::Value body;
    if (sent["body"].isString() && !sent["body"].asString().empty()) {
      try {
        body = psa::json::parse(sent["body"].asString());
      } catch (const psa::HookError&) {
      }
    }
    const Answer a = connectors::answer_of(request["response"]);
    connectors::PushedInvoice pushed;
    pushed.number = text(body["DocNumber"]);
    pushed.party = text(body["CustomerRef"]["value"]);
    const Json::Value record = a.ok() ? a.body["Invoice"] : Json::Value();
    if (record.isObject() && !text(record["Id"]).empty()) {
      if (pushed.number.empty()) pushed.number = text(record["DocNumber"]);
      if (pushed.party.empty()) pushed.party = text(record["CustomerRef"]["value"]);
      pushed.created_id = text(record["Id"]);
    }
    // QuickBooks forgets a requestid after a while: a create sent again then may be refused as a
    // duplicate of itself, which invoice_result tells from another invoice by looking it up.
    pushed.duplicate_number = is_duplicate_number(a);
    pushed.refusal = fault_of(a.body).text();
    const Api api(*host_, request);
    return connectors::invoice_result(*host_, request, "QuickBooks", a, pushed,
                                      [&](const Json::Value& ours) -> std::optional<std::string> {
                                        if (const auto mine = lookup(api, ours, pushed.party))
                                          return text((*mine)["Id"]);
                                        return std::nullopt;
                                      });
  }

  std::optional<Json::Value> lookup(const Api& api, const Json::Value& ours,
                                    const std::string& customer) {
    for (const auto& found : api.query("Invoice", "SELECT * FROM Invoice WHERE DocNumber = " +
                                                      quoted(text(ours["number"])))) {
      if (is_our_invoice(found, ours, customer)) return found;
    }
    return std::nullopt;
  }

  // --- commands --------------------------------------------------------------------------------

  Json::Value last_number(const Json::Value& request) {
    Api api(*host_, request);
    Json::Value out;
    out["system"] = kSystem;
    out["last_number"] = Json::Value();
    for (const auto& found : api.query(
             "Invoice", "SELECT * FROM Invoice ORDERBY MetaData.CreateTime DESC MAXRESULTS 10")) {
      if (!text(found["DocNumber"]).empty()) {
        out["last_number"] = text(found["DocNumber"]);
        break;
      }
    }
    return out;
  }

  Json::Value test(const Json::Value& request) {
    Json::Value out;
    try {
      Api api(*host_, request);
      const Answer a = api.get(api.company_url("companyinfo/" + api.realm()));
      const Json::Value& info = a.body["CompanyInfo"];
      if (a.ok() && info.isObject()) {
        out["ok"] = true;
        out["detail"] = "QuickBooks company " + text(info["CompanyName"]) + " (realm " +
                        api.realm() + ") answered";
        return out;
      }
      out["ok"] = false;
      out["detail"] = "QuickBooks answered " + std::to_string(a.status) +
                      (fault_of(a.body).empty() ? "" : ": " + fault_of(a.body).text());
    } catch (const std::exception& e) {
      out["ok"] = false;
      out["detail"] = e.what();
    }
    return out;
  }

  const psa::Host* host_ = nullptr;
};

}  // namespace
}  // namespace quickbooks

PSA_PLUGIN(quickbooks::QuickBooks,
           R"({"id":"quickbooks","version":"1.0.0","hooks":["webhook.map","sync.push",)"
           R"("sync.result","command.last_invoice_number","command.test"]})")
