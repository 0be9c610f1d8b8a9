// The Xero connector. Inbound: webhook events (x-xero-signature, verified by the host with the
// webhook key, intent-to-receive included) carry ids only; the invoices and contacts they name
// are read back and become invoice status and billing info changes. Outbound: every issued
// invoice becomes an ACCREC invoice with our number as its InvoiceNumber, for the client's
// contact (found or created once), never twice (Idempotency-Key, and a lookup by number whenever
// an answer may have been lost). It also reports the newest sales invoice's number for the
// numbering check and tests the connection with Organisation.
#include "amounts.hpp"
#include "wire.hpp"
#include "xero_api.hpp"
#include "xero_records.hpp"

#include <psa/sdk.hpp>

#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace xero {
namespace {

constexpr const char* kSystem = "xero";
// A record an event names but Xero does not show (yet): asked again on this many attempts of
// the delivery before it is set aside, so that one deleted record cannot hold up the
// connection's later events for long.
constexpr int64_t kAttemptsForMissing = 3;

using connectors::text;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Xero's Idempotency-Key holds up to 128 characters; ours are derived from what is created, so
// that every attempt at the same thing carries the same key.
std::string idempotency_key(const std::string& kind, const std::string& id) {
  return ("psahost-" + kind + "-" + id).substr(0, 128);
}

// The later of two invoice numbers of one series: longer is later, then by text.
bool later_number(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() > b.size() : a > b;
}

class Xero final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value&) override { host_ = &host; }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "webhook.map") return map(request);
    if (hook == "sync.push") return push(request);
    if (hook == "sync.result") return result(request);
    if (hook == "command.last_invoice_number") return last_number(request);
    if (hook == "command.test") return test(request);
    throw psa::HookError(PSA_NOT_FOUND, "xero does not handle " + std::string(hook));
  }

 private:
  // --- inbound ---------------------------------------------------------------------------------

  struct Mapping {
    const Json::Value& request;
    Api api;
    Json::Value changes = Json::Value(Json::arrayValue);
    std::vector<std::string> notes, waiting;
  };

  Json::Value map(const Json::Value& request) {
    Mapping m{request, Api(*host_, request), Json::Value(Json::arrayValue), {}, {}};
    const Json::Value& events = request["payload"]["events"];
    if (!events.isArray() || events.empty()) {
      // Xero's intent-to-receive checks carry no events; the host has answered them already.
      m.notes.push_back("no events (an intent-to-receive check); nothing to do");
    }
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& e : events) {
      const std::string category = upper(text(e["eventCategory"]));
      const std::string id = text(e["resourceId"]);
      if (text(e["tenantId"]) != m.api.organisation()) {
        m.notes.push_back("organisation " + text(e["tenantId"]) +
                          " is not this connection's; ignored");
        continue;
      }
      // The record is read from the id, never from the event's resourceUrl: a URL in a payload
      // names a place to send our token to.
      if (!connectors::is_record_id(id)) {
        m.notes.push_back("'" + id + "' is not a Xero id; ignored");
        continue;
      }
      if (!seen.insert({category, id}).second) continue;
      if (category == "INVOICE") {
        invoice_event(m, id);
      } else if (category == "CONTACT") {
        contact_event(m, id);
      } else {
        m.notes.push_back(connectors::lower(category) + " events change nothing here");
      }
    }
    if (!m.waiting.empty()) {
      std::string what;
      for (const auto& w : m.waiting) what += (what.empty() ? "" : ", ") + w;
      if (request["delivery"]["attempt"].asInt64() <= kAttemptsForMissing) {
        // Thrown, so the host tries the whole delivery again later; what it changes is the same
        // the second time.
        throw std::runtime_error("Xero does not show " + what + " yet; trying again later");
      }
      m.notes.push_back(what + " still not shown by Xero; set aside");
    }
    Json::Value out;
    out["changes"] = m.changes;
    std::string note;
    for (const auto& n : m.notes) note += (note.empty() ? "" : "; ") + n;
    if (!note.empty()) out["note"] = note;
    return out;
  }

  void invoice_event(Mapping& m, const std::string& id) {
    const auto record = m.api.read("Invoices", id);
    if (!record) {
      m.waiting.push_back("invoice " + id);
      return;
    }
    if (text((*record)["Type"]) != "ACCREC") {
      m.notes.push_back("invoice " + id + " is a bill, not a sales invoice");
      return;
    }
    const std::string status = text((*record)["Status"]);
    if (status != "PAID" && status != "VOIDED") {
      m.notes.push_back("invoice " + id + " is " + status + ": nothing to do");
      return;
    }
    const std::string number = text((*record)["InvoiceNumber"]);
    const auto ours = connectors::find_invoice(*host_, m.request, number);
    if (!ours) {
      m.notes.push_back("invoice " + id + " (" + (number.empty() ? "no number" : number) +
                        ") was not issued here");
      return;
    }
    const std::string pushed = text((*ours)["external_ids"][kSystem]);
    // Another Xero invoice with our number says nothing of ours; before the link is stored
    // (the push's answer is still on its way) number and total must both match.
    if (!pushed.empty() ? pushed != id : !is_our_invoice(*record, *ours, "")) {
      m.notes.push_back("invoice " + id + " has number " + number +
                        " but is not the one pushed; ignored");
      return;
    }
    const std::string ours_status = text((*ours)["status"]);
    if (ours_status == "paid" || ours_status == "void") return;
    Json::Value change;
    change["op"] = "invoice.status";
    change["invoice"]["number"] = number;
    change["status"] = status == "PAID" ? "paid" : "void";
    change["reason"] =
        std::string(status == "PAID" ? "paid" : "voided") + " in Xero (invoice " + id + ")";
    m.changes.append(change);
  }

  void contact_event(Mapping& m, const std::string& id) {
    const auto contact = m.api.read("Contacts", id);
    if (!contact) {
      m.waiting.push_back("contact " + id);
      return;
    }
    Json::Value change;
    change["op"] = "billing_info.put";
    // A client is this contact by the link a push or an earlier change made, else by its debtor
    // code, which for Xero is the contact's account number.
    change["client"]["external_id"] = id;
    if (!text((*contact)["AccountNumber"]).empty()) {
      change["client"]["debtor_code"] = text((*contact)["AccountNumber"]);
    }
    change["billing_info"] = billing_info_of(*contact);
    change["merge"] = true;
    change["if_linked"] = true;
    m.changes.append(change);
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
    Api api(*host_, request);
    const std::string contact = contact_for(api, request, invoice);
    // Pushed before (a replay, or a push whose answer was lost): linked, not created again.
    if (const auto found = lookup(api, invoice, contact)) {
      Json::Value read;
      read["method"] = "GET";
      read["url"] = api.url("Invoices/" + text((*found)["InvoiceID"]));
      read["headers"] = api.headers();
      out["requests"].append(read);
      return out;
    }
    // PUT only creates; a POST naming an InvoiceNumber Xero knows would update that invoice.
    // Another invoice with our number is left for Xero to refuse, which sync.result reports.
    Json::Value create;
    create["method"] = "PUT";
    create["url"] = api.url("Invoices");
    create["headers"] = api.headers();
    create["headers"]["Content-Type"] = "application/json";
    create["body"] = connectors::json_body(
        invoice_body(invoice, contact, Settings::of(request["connection"]["settings"])));
    // Sent by the host as Idempotency-Key: Xero answers a repeat with the first answer.
    create["idempotency_key"] = idempotency_key("i", text(invoice["id"]));
    out["requests"].append(create);
    return out;
  }

  // The contact the invoice goes to: the one the client is linked to, else the one whose account
  // number is its debtor code, else the one with its name, else a new one (made once).
  std::string contact_for(const Api& api, const Json::Value& request, const Json::Value& invoice) {
    const Json::Value& client = invoice["client"];
    const std::string client_id = text(invoice["client_id"]);
    Json::Value get;
    get["tenant_id"] = request["tenant_id"];
    get["client_id"] = client_id;
    const std::string linked = text(host_->call("clients.get", get)["external_ids"][kSystem]);
    if (!linked.empty() && connectors::is_record_id(linked) && api.read("Contacts", linked)) {
      return linked;
    }
    const std::string code = text(client["debtor_code"]);
    if (!code.empty()) {
      const Json::Value found =
          api.list("Contacts", "where=" + connectors::url_encode("AccountNumber==" + quoted(code)));
      if (!found.empty() && !text(found[0]["ContactID"]).empty()) {
        return text(found[0]["ContactID"]);
      }
    }
    const std::string name = contact_name(client);
    if (name.empty()) throw std::runtime_error("client " + client_id + " has no name to send");
    const Json::Value named =
        api.list("Contacts", "where=" + connectors::url_encode("Name==" + quoted(name)));
    if (!named.empty() && !text(named[0]["ContactID"]).empty()) {
      return text(named[0]["ContactID"]);
    }
    Json::Value body;
    body["Contacts"].append(contact_body(client));
    const Answer made =
        api.put(api.url("Contacts"), connectors::json_body(body), idempotency_key("c", client_id));
    const std::string id = text(made.body["Contacts"][0]["ContactID"]);
    if (!made.ok() || id.empty()) Api::fail("creating the contact " + name, made);
    return id;
  }

  std::optional<Json::Value> lookup(const Api& api, const Json::Value& ours,
                                    const std::string& contact) {
    for (const auto& found :
         api.list("Invoices", "InvoiceNumbers=" + connectors::url_encode(text(ours["number"])))) {
      if (is_our_invoice(found, ours, contact)) return found;
    }
    return std::nullopt;
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
    const Json::Value& asked = body["Invoices"][0];
    const Answer a = answer_of(request["response"]);
    connectors::PushedInvoice pushed;
    pushed.number = text(asked["InvoiceNumber"]);
    pushed.party = text(asked["Contact"]["ContactID"]);
    const Json::Value record = a.ok() ? a.body["Invoices"][0] : Json::Value();
    if (record.isObject() && !text(record["InvoiceID"]).empty()) {
      if (pushed.number.empty()) pushed.number = text(record["InvoiceNumber"]);
      if (pushed.party.empty()) pushed.party = text(record["Contact"]["ContactID"]);
      pushed.created_id = text(record["InvoiceID"]);
    }
    // Xero forgets an Idempotency-Key after a while: a create sent again then may be refused as
    // a duplicate of itself, which invoice_result tells from another invoice by looking it up.
    pushed.duplicate_number = is_duplicate_number(a);
    pushed.refusal = error_text(a);
    const Api api(*host_, request);
    return connectors::invoice_result(*host_, request, "Xero", a, pushed,
                                      [&](const Json::Value& ours) -> std::optional<std::string> {
                                        if (const auto mine = lookup(api, ours, pushed.party))
                                          return text((*mine)["InvoiceID"]);
                                        return std::nullopt;
                                      });
  }

  // --- commands --------------------------------------------------------------------------------

  // The newest sales invoice's number: of those dated last, the latest number.
  Json::Value last_number(const Json::Value& request) {
    Api api(*host_, request);
    const Json::Value found = api.list(
        "Invoices", "where=" + connectors::url_encode("Type==\"ACCREC\" AND Status!=\"DELETED\"") +
                        "&order=" + connectors::url_encode("Date DESC") +
                        "&page=1&pageSize=100&summaryOnly=true");
    Json::Value out;
    out["system"] = kSystem;
    out["last_number"] = Json::Value();
    std::string newest_date, last;
    for (const auto& invoice : found) {
      const std::string date =
          text(invoice["DateString"]).empty() ? text(invoice["Date"]) : text(invoice["DateString"]);
      const std::string number = text(invoice["InvoiceNumber"]);
      if (number.empty()) continue;
      if (newest_date.empty()) newest_date = date;
      if (date != newest_date) break;
      if (last.empty() || later_number(number, last)) last = number;
    }
    if (!last.empty()) out["last_number"] = last;
    return out;
  }

  Json::Value test(const Json::Value& request) {
    Json::Value out;
    try {
      Api api(*host_, request);
      const Answer a = api.get(api.url("Organisation"));
      const Json::Value& organisation = a.body["Organisations"][0];
      if (a.ok() && organisation.isObject()) {
        out["ok"] = true;
        out["detail"] = "Xero organisation " + text(organisation["Name"]) + " answered";
        return out;
      }
      out["ok"] = false;
      out["detail"] = "Xero answered " + std::to_string(a.status) + ": " + error_text(a);
    } catch (const std::exception& e) {
      out["ok"] = false;
      out["detail"] = e.what();
    }
    return out;
  }

  const psa::Host* host_ = nullptr;
};

}  // namespace
}  // namespace xero

PSA_PLUGIN(xero::Xero, R"({"id":"xero","version":"1.0.0","hooks":["webhook.map","sync.push",)"
                       R"("sync.result","command.last_invoice_number","command.test"]})")
