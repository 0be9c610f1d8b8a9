// Domain events pushed back to Autotask: what psahost decided about time entries that came from
// Autotask (approved, rejected, approval withdrawn, or refused here), and the contract for a
// contract of ours with an Autotask company.
#include "autotask.hpp"

#include <cstdint>
#include <cstdio>

namespace autotask {
namespace {

using connectors::status_line;
using connectors::with_status;

int64_t setting(const RestApi& api, const char* name, int64_t fallback) {
  const Json::Value& v = api.settings()[name];
  return v.isIntegral() && !v.isBool() ? v.asInt64() : fallback;
}

// --- a refused change, reported on the ticket ----------------------------------------------

// inbound.change_refused: a change this connection sent was refused here (a time entry approved
// in Autotask for a client without complete billing info, say). The reason becomes a note on
// the entry's ticket, once: the note carries a tag of the entry and the reason, and a note with
// that tag already there means it was said before (by an earlier attempt, or an earlier,
// identical refusal of a repeated webhook).
void report_refusal(const RestApi& api, const Json::Value& event) {
  const auto refusal = connectors::refusal_note(event, api.connection_id());
  if (!refusal) return;
  const std::string& entry = refusal->entry;
  const std::string& ticket = refusal->ticket;
  const std::string& marker = refusal->marker;
  const std::string& note = refusal->text;

  Json::Value on_ticket;
  on_ticket["op"] = "eq";
  on_ticket["field"] = "ticketID";
  on_ticket["value"] = id_number(ticket);
  Json::Value filter(Json::arrayValue);
  filter.append(on_ticket);
  for (const auto& n : api.query("TicketNotes", filter)) {
    if (text(field(n, "description")).find(marker) != std::string::npos) return;
  }
  Json::Value body;
  body["ticketID"] = id_number(ticket);
  body["title"] = "Not approved in psahost";
  body["description"] = note;
  body["noteType"] = static_cast<Json::Int64>(setting(api, "note_type", 1));
  body["publish"] = static_cast<Json::Int64>(setting(api, "note_publish", 1));
  const Reply r = api.call("POST", "/Tickets/" + ticket + "/Notes", body);
  if (r.status == 404) {
    api.host().warn("ticket " + ticket + " is gone from Autotask; the refusal of time entry " +
                    entry + " is not reported there");
    return;
  }
  if (r.status < 200 || r.status >= 300) {
    throw std::runtime_error("POST /Tickets/" + ticket + "/Notes answered " +
                             std::to_string(r.status));
  }
}

// --- approval status, in the entry's internal notes -------------------------------------------

std::optional<Json::Value> status_request(const RestApi& api, const Json::Value& event) {
  // An approval that came from Autotask itself is no news there.
  if (text(event["actor"]) == "connection:" + api.connection()["name"].asString()) {
    return std::nullopt;
  }
  const std::string entry_id = text(event["object"]["id"]);
  const auto external = api.linked_external("time_entry", entry_id);
  if (!external || id_text(Json::Value(*external)).empty()) return std::nullopt;  // not Autotask's
  // A push that failed and is tried again later may come after a newer one: the newest wins.
  const std::string key = "status-seq/" + api.connection_id() + "/" + entry_id;
  const int64_t seq = event["seq"].asInt64();
  if (const auto last = api.host().kv_get(key); last && std::stoll(*last) > seq) {
    return std::nullopt;
  }
  const auto current = api.record("TimeEntries", *external);
  if (!current) {
    api.host().warn("time entry " + *external + " is gone from Autotask; its status is not pushed");
    return std::nullopt;
  }
  Json::Value request;
  request["method"] = "PATCH";
  request["path"] = api.path("/TimeEntries");
  request["headers"]["Accept"] = "application/json";
  request["body"]["id"] = id_number(*external);
  request["body"]["internalNotes"] =
      with_status(text(field(*current, "internalNotes")), status_line(event));
  api.host().kv_put(key, std::to_string(seq));
  return request;
}

// --- the contract of a contract ---------------------------------------------------------------

// Autotask's contract for one of ours carries our reference number as its contractNumber: that
// is how it is found again, by every later push and after a failed one.
std::optional<Json::Value> find_contract(const RestApi& api, const std::string& reference) {
  Json::Value condition;
  condition["op"] = "eq";
  condition["field"] = "contractNumber";
  condition["value"] = reference;
  Json::Value filter(Json::arrayValue);
  filter.append(condition);
  for (const auto& c : api.query("Contracts", filter)) {
    if (text(field(c, "contractNumber")) == reference) return c;
  }
  return std::nullopt;
}

// Autotask contracts need an end date; one of ours billed forever gets one this many years on.
std::string open_end(const RestApi& api, const std::string& start) {
  const int64_t years = setting(api, "open_end_years", 10);
  int y = 0, m = 0, d = 0;
  if (std::sscanf(start.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y + static_cast<int>(years), m,
                m == 2 && d == 29 ? 28 : d);
  return buf;
}

void ensure_contract(const RestApi& api, const Json::Value& event) {
  const Json::Value& contract = event["data"];
  const std::string reference = clean_text(text(contract["reference_number"]), 50);
  const std::string client = text(contract["client_id"]);
  if (reference.empty() || client.empty()) return;
  const auto company = api.linked_external("client", client);
  if (!company || id_text(Json::Value(*company)).empty()) return;  // not an Autotask company
  const bool active =
      text(event["type"]) == "contract.activated" || text(contract["status"]) == "active";

  if (const auto existing = find_contract(api, reference)) {
    // Never back to inactive: a contract.created retried after its activation changes nothing.
    const Json::Value& status = field(*existing, "status");
    if (!active || (status.isIntegral() && status.asInt() == 1)) return;
    Json::Value patch;
    patch["id"] = field(*existing, "id");
    patch["status"] = 1;
    api.expect_ok("PATCH", "/Contracts", patch);
    return;
  }

  const std::string start = text(contract["start_date"]);
  std::string end = text(contract["end_date"]);
  if (end.empty()) end = open_end(api, start);
  if (start.empty() || end.empty()) {
    throw std::runtime_error("contract " + reference + " has no start date; Autotask needs one");
  }
  Json::Value c;
  const std::string name = clean_text(text(contract["name"]), 100);
  c["contractName"] = name.empty() ? "Contract " + reference : name;
  c["contractNumber"] = reference;
  c["companyID"] = id_number(*company);
  // The instance's "Recurring Service" type (codes.cpp), or settings.contract_type.
  // status: 1 In Effect, 0 Inactive (a draft here).
  c["contractType"] = static_cast<Json::Int64>(contract_type(api));
  // Categories are the partner's own picklist; an instance that requires one names it here.
  if (const int64_t category = setting(api, "contract_category", 0); category > 0) {
    c["contractCategory"] = static_cast<Json::Int64>(category);
  }
  c["status"] = active ? 1 : 0;
  c["startDate"] = start + "T00:00:00Z";
  c["endDate"] = end + "T00:00:00Z";
  c["timeReportingRequiresStartAndStopTimes"] = 0;
  c["description"] = "Made by psahost for contract " + reference + " (" + text(contract["id"]) +
                     "); psahost invoices it.";
  api.expect_ok("POST", "/Contracts", c);
}

}  // namespace

Json::Value push_event(const RestApi& api, const Json::Value& event) {
  return connectors::push_event(
      event, [&] { report_refusal(api, event); }, [&] { return status_request(api, event); },
      [&] { ensure_contract(api, event); });
}

}  // namespace autotask
