// ConnectWise callbacks -> changes. A callback is {"MessageId","FromUrl","CompanyId","MemberId",
// "Action" (added|updated|deleted),"Type","ID","Entity" (the record as a JSON string),
// "Metadata":{"key_url"}}; the host has verified its signature and deduplicated it by MessageId.
// Every callback may come again, so each maps to changes that are harmless to apply twice.
#include "connectwise.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace connectwise {
namespace {

// A time entry's status, from the TimeEntry model of ConnectWise's REST API (developer.connectwise
// .com, Manage REST API > Time > TimeEntries): Open, Rejected, PendingApproval, ErrorsCorrected,
// PendingProjectApproval, ApprovedByTierOne, RejectBySecondTier, ApprovedByTierTwo, ReadyToBill,
// Billed, WrittenOff, BilledAgreement.
//
// The states in which ConnectWise has approved an entry and not billed it. A partner whose
// approvals end at the first tier, or who only trusts the second, names them in
// settings.approved_statuses.
const std::vector<std::string> kApprovedStatuses = {"ApprovedByTierOne", "ApprovedByTierTwo",
                                                    "ReadyToBill"};
// The states in which ConnectWise has settled the entry itself: billed on an invoice, against an
// agreement, or written off (the partner decided not to charge it). Such time is never approved
// nor billed here; billing written-off time would charge what the partner forgave.
const std::vector<std::string> kSettledStatuses = {"Billed", "BilledAgreement", "WrittenOff"};

// Callback types, as ConnectWise's Callbacks documentation names them (developer.connectwise.com,
// Manage > Callbacks, "Levels and Types"): a callback is registered with one of Activity,
// Agreement, Company, Contact, Configuration, Invoice, Expense, Member, Opportunity,
// ProductCatalog, Project, PurchaseOrder, Schedule, Ticket or Time, and carries it as its Type.
// Time entries are "Time" (not "TimeEntry"). Compared without case.
constexpr const char* kCompanyType = "company";
constexpr const char* kTicketType = "ticket";
constexpr const char* kTimeType = "time";

using connectors::lower;

using connectors::Mapping;

// The record a callback is about: its Entity, parsed a second time, when it holds what the
// mapping reads; otherwise what the API has for it now (a deleted record's Entity may be
// empty, and a callback registered without the full record carries ids only).
std::optional<Json::Value> record_of(const ManageApi& api, const Json::Value& payload,
                                     const std::string& path,
                                     std::initializer_list<const char*> needed) {
  Json::Value entity;
  const Json::Value& raw = payload["Entity"];
  if (raw.isString() && !raw.asString().empty()) {
    try {
      entity = psa::json::parse(raw.asString());
    } catch (const std::exception&) {
      entity = Json::nullValue;  // the API has the record
    }
  } else if (raw.isObject()) {
    entity = raw;
  }
  const bool usable =
      entity.isObject() && std::all_of(needed.begin(), needed.end(), [&](const char* name) {
        return entity.isMember(name) && !entity[name].isNull();
      });
  if (usable) return entity;
  return api.read(path);
}

std::string client_type(const Json::Value& company) {
  std::vector<std::string> names;
  for (const auto& t : company["types"]) names.push_back(lower(text(t["name"])));
  if (company["type"].isObject()) names.push_back(lower(text(company["type"]["name"])));
  for (const auto& n : names) {
    if (n.find("prospect") != std::string::npos) return "prospect";
  }
  for (const auto& n : names) {
    if (n.find("partner") != std::string::npos) return "partner";
  }
  return "customer";
}

bool inactive(const Json::Value& company) {
  if (company["deletedFlag"].isBool() && company["deletedFlag"].asBool()) return true;
  return lower(text(company["status"]["name"])).find("inactive") != std::string::npos;
}

void add_company(const Json::Value& company, Mapping& m) {
  const std::string id = id_text(company["id"]);
  if (id.empty() || !m.added.insert("client:" + id).second) return;
  Json::Value c;
  c["op"] = "client.upsert";
  c["ref"]["external_id"] = id;
  std::string name = clean_text(text(company["name"]), 200);
  if (name.empty()) name = clean_text(text(company["identifier"]), 200);
  c["name"] = name.empty() ? "ConnectWise company " + id : name;
  c["type"] = client_type(company);
  c["status"] = inactive(company) ? "inactive" : "active";
  m.changes.append(c);
}

// A ticket or time entry names records that may not have reached us yet (callbacks come in any
// order, and the inbox keeps a connection's deliveries in order, so a later one cannot fill the
// gap): those are read from ConnectWise and upserted first.
void ensure_company(const ManageApi& api, const std::string& id, Mapping& m) {
  if (m.added.count("client:" + id) || api.linked_object("client", id)) return;
  const auto company = api.read("/company/companies/" + id);
  if (!company) throw std::runtime_error("ConnectWise has no company " + id);
  add_company(*company, m);
}

// New, In Progress, Waiting... are open; ConnectWise marks closing statuses with closedFlag.
std::string ticket_status(const Json::Value& ticket) {
  if (ticket["closedFlag"].isBool() && ticket["closedFlag"].asBool()) return "closed";
  const std::string status = lower(text(ticket["status"]["name"]));
  if (status.find("resolved") != std::string::npos ||
      status.find("completed") != std::string::npos) {
    return "resolved";
  }
  if (status.find("closed") != std::string::npos) return "closed";
  return "open";
}

bool add_ticket(const ManageApi& api, const Json::Value& ticket, Mapping& m) {
  const std::string id = id_text(ticket["id"]);
  const std::string company = id_text(ticket["company"]["id"]);
  if (id.empty()) return false;
  if (company.empty()) {
    m.notes.push_back("ticket " + id + " has no company; not synced");
    return false;
  }
  if (!m.added.insert("ticket:" + id).second) return true;
  ensure_company(api, company, m);
  Json::Value t;
  t["op"] = "ticket.upsert";
  t["ref"]["external_id"] = id;
  t["client"]["external_id"] = company;
  const std::string subject = clean_text(text(ticket["summary"]), 500);
  t["subject"] = subject.empty() ? "ConnectWise ticket #" + id : subject;
  t["status"] = ticket_status(ticket);
  m.changes.append(t);
  return true;
}

bool ensure_ticket(const ManageApi& api, const std::string& id, Mapping& m) {
  if (m.added.count("ticket:" + id) || api.linked_object("ticket", id)) return true;
  const auto ticket = api.read("/service/tickets/" + id);
  if (!ticket) throw std::runtime_error("ConnectWise has no service ticket " + id);
  return add_ticket(api, *ticket, m);
}

std::optional<double> number(const Json::Value& v) {
  if (v.isNumeric() && !v.isBool()) return v.asDouble();
  return std::nullopt;
}

// actualHours is what ConnectWise bills from; without it, the span from timeStart to timeEnd
// less hoursDeduct.
std::optional<int64_t> minutes_of(const Json::Value& entry) {
  if (const auto hours = number(entry["actualHours"]); hours && std::isfinite(*hours)) {
    return std::llround(*hours * 60.0);
  }
  const auto start = parse_time(text(entry["timeStart"]));
  const auto end = parse_time(text(entry["timeEnd"]));
  if (!start || !end) return std::nullopt;
  double seconds = static_cast<double>(*end - *start);
  if (const auto deduct = number(entry["hoursDeduct"]); deduct && std::isfinite(*deduct)) {
    seconds -= *deduct * 3600.0;
  }
  return std::llround(seconds / 60.0);
}

bool approved(const ManageApi& api, const Json::Value& entry) {
  const std::string status = text(entry["status"]);
  if (status.empty()) return false;
  const Json::Value& configured = api.settings()["approved_statuses"];
  if (configured.isArray()) {
    for (const auto& s : configured) {
      if (s.isString() && s.asString() == status) return true;
    }
    return false;
  }
  return std::find(kApprovedStatuses.begin(), kApprovedStatuses.end(), status) !=
         kApprovedStatuses.end();
}

// What ConnectWise says of billing the entry there: its status, or the invoice it is on (the
// TimeEntry's "invoice" InvoiceReference {id, identifier}). nullopt when it has not billed it.
std::optional<Json::Value> billed_there(const Json::Value& entry) {
  const std::string status = text(entry["status"]);
  const Json::Value& invoice = entry["invoice"];
  std::string reference = invoice.isObject() ? clean_text(text(invoice["identifier"]), 100) : "";
  if (reference.empty() && invoice.isObject()) reference = id_text(invoice["id"]);
  const bool billed_status =
      std::find(kSettledStatuses.begin(), kSettledStatuses.end(), status) != kSettledStatuses.end();
  if (!billed_status && reference.empty()) return std::nullopt;
  Json::Value b;
  b["status"] = status.empty() ? "Invoiced" : status;
  if (!reference.empty()) b["reference"] = reference;
  return b;
}

void add_time_entry(const ManageApi& api, const Json::Value& entry, Mapping& m) {
  const std::string id = id_text(entry["id"]);
  const std::string charge_type = text(entry["chargeToType"]);
  if (charge_type != "ServiceTicket") {
    m.notes.push_back("time entry " + id + " is charged to " +
                      (charge_type.empty() ? std::string("nothing") : charge_type) +
                      ", not to a service ticket; not synced");
    return;
  }
  const std::string ticket = id_text(entry["chargeToId"]);
  if (ticket.empty()) {
    m.notes.push_back("time entry " + id + " names no ticket; not synced");
    return;
  }
  const auto minutes = minutes_of(entry);
  if (!minutes || *minutes < 1 || *minutes > 24 * 60) {
    m.notes.push_back("time entry " + id + " has no duration of 1 minute to 24 hours; not synced");
    return;
  }
  if (!ensure_ticket(api, ticket, m)) return;
  Json::Value e;
  e["op"] = "time_entry.upsert";
  e["ref"]["external_id"] = id;
  e["ticket"]["external_id"] = ticket;
  e["minutes"] = static_cast<Json::Int64>(*minutes);
  const Json::Value& member = entry["member"];
  std::string technician = clean_text(text(member["identifier"]), 200);
  if (technician.empty()) technician = clean_text(text(member["name"]), 200);
  if (technician.empty()) technician = "ConnectWise member " + id_text(member["id"]);
  e["technician"] = technician;
  const std::string billable = text(entry["billableOption"]);
  if (billable == "Billable") e["billable"] = true;
  if (billable == "DoNotBill" || billable == "NoCharge") e["billable"] = false;
  const std::string work_type = clean_text(text(entry["workType"]["name"]), 100);
  if (!work_type.empty()) e["work_type"] = work_type;
  e["note"] = clean_text(text(entry["notes"]), 5000);
  const std::string start = text(entry["timeStart"]);
  const std::string entered = text(entry["dateEntered"]);
  const std::string day = start.size() >= 10     ? start.substr(0, 10)
                          : entered.size() >= 10 ? entered.substr(0, 10)
                                                 : std::string();
  if (!day.empty()) e["work_date"] = day;
  m.changes.append(e);
  if (const auto billed = billed_there(entry)) {
    // Billed by ConnectWise already: recorded as such, never approved (nor invoiced) here.
    Json::Value b = *billed;
    b["op"] = "time_entry.billed_externally";
    b["entry"]["external_id"] = id;
    b["ticket"]["external_id"] = ticket;
    m.changes.append(b);
  } else if (approved(api, entry)) {
    // The approval goes through our own admission pipeline (the billing gate); the ticket rides
    // along so that a refusal can be reported on it.
    Json::Value a;
    a["op"] = "time_entry.approve";
    a["entry"]["external_id"] = id;
    a["ticket"]["external_id"] = ticket;
    m.changes.append(a);
  }
}

}  // namespace

std::string describe_codes(const ManageApi& api) {
  const auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out.empty() ? std::string("none") : out;
  };
  std::vector<std::string> approved_list = kApprovedStatuses;
  std::string source = "ConnectWise's TimeEntry model";
  if (const Json::Value& configured = api.settings()["approved_statuses"]; configured.isArray()) {
    approved_list.clear();
    for (const auto& s : configured) {
      if (s.isString()) approved_list.push_back(s.asString());
    }
    source = "settings.approved_statuses";
  }
  return "codes: time approved in " + list(approved_list) + " (" + source +
         "); settled there (billed or written off) in " + list(kSettledStatuses) +
         " or with an invoice reference";
}

Json::Value map_callback(const ManageApi& api, const Json::Value& payload) {
  Mapping m;
  const std::string type = lower(text(payload["Type"]));
  const std::string action = lower(text(payload["Action"]));
  const std::string id = id_text(payload["ID"]);
  if (id.empty()) {
    m.notes.push_back("the callback names no record id; ignored");
    return m.answer();
  }
  const bool deleted = action == "deleted";
  if (type == kCompanyType) {
    if (deleted) {
      // Clients are never deleted here; one ConnectWise dropped stops being active.
      if (api.linked_object("client", id)) {
        Json::Value c;
        c["op"] = "client.upsert";
        c["ref"]["external_id"] = id;
        c["status"] = "inactive";
        m.changes.append(c);
      } else {
        m.notes.push_back("company " + id + " was deleted before it reached us; ignored");
      }
      return m.answer();
    }
    const auto company = record_of(api, payload, "/company/companies/" + id, {"id", "name"});
    if (!company) {
      m.notes.push_back("company " + id + " is no longer in ConnectWise; ignored");
      return m.answer();
    }
    add_company(*company, m);
  } else if (type == kTicketType) {
    if (deleted) {
      m.notes.push_back("ticket " + id + " was deleted in ConnectWise; tickets stay here");
      return m.answer();
    }
    const auto ticket =
        record_of(api, payload, "/service/tickets/" + id, {"id", "summary", "company"});
    if (!ticket) {
      m.notes.push_back("ticket " + id + " is no longer in ConnectWise; ignored");
      return m.answer();
    }
    add_ticket(api, *ticket, m);
  } else if (type == kTimeType) {
    if (deleted) {
      m.notes.push_back("time entry " + id +
                        " was deleted in ConnectWise; time registered here stays until it is "
                        "edited or rejected here");
      return m.answer();
    }
    const auto entry = record_of(api, payload, "/time/entries/" + id,
                                 {"id", "chargeToId", "chargeToType", "member"});
    if (!entry) {
      m.notes.push_back("time entry " + id + " is no longer in ConnectWise; ignored");
      return m.answer();
    }
    add_time_entry(api, *entry, m);
  } else {
    m.notes.push_back("callbacks of type " + (type.empty() ? std::string("(none)") : type) +
                      " change nothing here (Company, Ticket and Time callbacks do); ignored");
  }
  return m.answer();
}

}  // namespace connectwise
