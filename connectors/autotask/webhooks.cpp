// Autotask webhooks -> changes. A webhook is {"Action" (Create|Update|Delete),"Guid" (the
// webhook's id),"EntityType","Id","Fields":{...},"EventTime","SequenceNumber","PersonID"}; the
// host has verified X-Hook-Signature and deduplicated it on (Guid, Id, SequenceNumber).
// Fields hold the webhook's subscribed fields only, so a record they do not describe fully is
// read from the REST API. Autotask retries failed deliveries 30 s later, so an older event can
// arrive after a newer one: the last SequenceNumber applied per entity is kept, and anything
// older changes nothing.
#include "autotask.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace autotask {
namespace {

using connectors::lower;

using connectors::Mapping;

// The record a webhook is about: its Fields when they hold every field the mapping reads,
// otherwise what the API has for it now.
std::optional<Json::Value> record_of(const RestApi& api, const Json::Value& payload,
                                     const std::string& entities, const std::string& id,
                                     std::initializer_list<const char*> needed) {
  const Json::Value& fields = payload["Fields"];
  if (fields.isObject() && std::all_of(needed.begin(), needed.end(),
                                       [&](const char* name) { return has_field(fields, name); })) {
    Json::Value record = fields;
    if (!has_field(record, "id")) record["id"] = id_number(id);
    return record;
  }
  return api.record(entities, id);
}

std::optional<int64_t> integer(const Json::Value& v) {
  if (v.isIntegral() && !v.isBool()) return v.asInt64();
  if (v.isString() && !id_text(v).empty()) return std::stoll(v.asString());
  return std::nullopt;
}

void add_company(const RestApi& api, const Json::Value& company, const std::string& id,
                 Mapping& m) {
  if (id.empty() || !m.added.insert("client:" + id).second) return;
  Json::Value c;
  c["op"] = "client.upsert";
  c["ref"]["external_id"] = id;
  const std::string name = clean_text(text(field(company, "companyName")), 200);
  c["name"] = name.empty() ? "Autotask company " + id : name;
  // The type by the instance's own picklist (codes.cpp); a code it does not have is left out
  // rather than guessed.
  if (const auto type = company_type(api, company)) {
    c["type"] = *type;
  } else if (has_field(company, "companyType")) {
    m.notes.push_back("company " + id + " has company type " + text(field(company, "companyType")) +
                      ", not in the connection's picklist; its type is left as it is (run "
                      "psahost connections test to read the picklist again)");
  }
  const Json::Value& active = field(company, "isActive");
  c["status"] = active.isBool() && !active.asBool() ? "inactive" : "active";
  m.changes.append(c);
}

// A ticket or time entry names records that may not have reached us yet (the inbox keeps a
// connection's deliveries in order, so a later one cannot fill the gap): those are read from
// Autotask and upserted first.
void ensure_company(const RestApi& api, const std::string& id, Mapping& m) {
  if (m.added.count("client:" + id) || api.linked_object("client", id)) return;
  const auto company = api.record("Companies", id);
  if (!company) throw std::runtime_error("Autotask has no company " + id);
  add_company(api, *company, id, m);
}

// Closed when its status is the instance's "Complete" (read from its picklist, codes.cpp) or one
// of settings.closed_statuses; "" (left as it is) when no closing status is known.
std::string ticket_status(const RestApi& api, const Json::Value& ticket) {
  const auto closed = ticket_closed(api, ticket);
  if (!closed) return "";
  return *closed ? "closed" : "open";
}

bool add_ticket(const RestApi& api, const Json::Value& ticket, const std::string& id, Mapping& m) {
  const std::string company = id_text(field(ticket, "companyID"));
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
  const std::string title = clean_text(text(field(ticket, "title")), 500);
  const std::string number = text(field(ticket, "ticketNumber"));
  t["subject"] = !title.empty()   ? title
                 : number.empty() ? "Autotask ticket " + id
                                  : "Autotask ticket " + number;
  const std::string status = ticket_status(api, ticket);
  if (!status.empty()) t["status"] = status;
  m.changes.append(t);
  return true;
}

bool ensure_ticket(const RestApi& api, const std::string& id, Mapping& m) {
  if (m.added.count("ticket:" + id) || api.linked_object("ticket", id)) return true;
  const auto ticket = api.record("Tickets", id);
  if (!ticket) throw std::runtime_error("Autotask has no ticket " + id);
  return add_ticket(api, *ticket, id, m);
}

// A resource's user name, read once and kept: every time entry names its resource by id.
std::string technician(const RestApi& api, const std::string& resource) {
  const std::string key = "resource/" + api.connection_id() + "/" + resource;
  if (auto known = api.host().kv_get(key)) return *known;
  const auto record = api.record("Resources", resource);
  std::string name;
  if (record) {
    name = clean_text(text(field(*record, "userName")), 200);
    if (name.empty()) {
      name = clean_text(text(field(*record, "firstName")) + " " + text(field(*record, "lastName")),
                        200);
    }
  }
  if (name.empty()) name = "Autotask resource " + resource;
  api.host().kv_put(key, name);
  return name;
}

void add_time_entry(const RestApi& api, const Json::Value& entry, const std::string& id,
                    Mapping& m) {
  const std::string ticket = id_text(field(entry, "ticketID"));
  if (ticket.empty()) {
    m.notes.push_back("time entry " + id +
                      " is not on a ticket (task or general time); not synced");
    return;
  }
  const Json::Value& hours = field(entry, "hoursWorked");
  const double h = hours.isNumeric() && !hours.isBool() ? hours.asDouble() : -1;
  const int64_t minutes = std::isfinite(h) ? std::llround(h * 60.0) : -1;
  if (minutes < 1 || minutes > 24 * 60) {
    m.notes.push_back("time entry " + id + " has no duration of 1 minute to 24 hours; not synced");
    return;
  }
  if (!ensure_ticket(api, ticket, m)) return;
  Json::Value e;
  e["op"] = "time_entry.upsert";
  e["ref"]["external_id"] = id;
  e["ticket"]["external_id"] = ticket;
  e["minutes"] = static_cast<Json::Int64>(minutes);
  const std::string resource = id_text(field(entry, "resourceID"));
  e["technician"] = resource.empty() ? "Autotask" : technician(api, resource);
  const Json::Value& non_billable = field(entry, "isNonBillable");
  if (non_billable.isBool()) e["billable"] = !non_billable.asBool();
  e["note"] = clean_text(text(field(entry, "summaryNotes")), 5000);
  const std::string worked = text(field(entry, "dateWorked"));
  if (worked.size() >= 10) e["work_date"] = worked.substr(0, 10);
  m.changes.append(e);
  // Autotask sets billingApprovalDateTime when the entry is approved (Approve and Post, or a
  // BillingItemApprovalLevels record followed by the entry's update).
  if (!text(field(entry, "billingApprovalDateTime")).empty()) {
    Json::Value a;
    a["op"] = "time_entry.approve";
    a["entry"]["external_id"] = id;
    a["ticket"]["external_id"] = ticket;
    m.changes.append(a);
  }
}

std::string entity_kind(const std::string& entity_type) {
  const std::string t = lower(entity_type);
  if (t == "company" || t == "companies" || t == "account") return "company";
  if (t == "ticket" || t == "tickets") return "ticket";
  if (t == "timeentry" || t == "timeentries" || t == "time entry") return "time_entry";
  return "";
}

}  // namespace

Json::Value map_webhook(const RestApi& api, const Json::Value& payload) {
  Mapping m;
  const std::string entity_type = text(payload["EntityType"]);
  const std::string kind = entity_kind(entity_type);
  const std::string id = id_text(payload["Id"]);
  const std::string action = lower(text(payload["Action"]));
  if (kind.empty()) {
    m.notes.push_back("webhooks for " +
                      (entity_type.empty() ? std::string("(none)") : entity_type) +
                      " change nothing here; ignored");
    return m.answer();
  }
  if (id.empty()) {
    m.notes.push_back("the webhook names no record id; ignored");
    return m.answer();
  }

  // The same SequenceNumber again is the same event retried (its changes may not have been
  // applied yet): only an older one is stale. Sequence numbers are compared within one webhook
  // (its Guid) only: each webhook counts its own, so another webhook's lower number says
  // nothing about this one's events.
  const auto seq = integer(payload["SequenceNumber"]);
  const std::string guid = clean_text(text(payload["Guid"]), 64);
  const std::string seq_key = "seq/" + api.connection_id() + "/" +
                              (guid.empty() ? std::string() : guid + "/") + kind + "/" + id;
  if (seq) {
    if (const auto last = api.host().kv_get(seq_key); last && std::stoll(*last) > *seq) {
      m.notes.push_back(entity_type + " " + id + " event " + std::to_string(*seq) +
                        " is older than event " + *last + ", already applied; ignored");
      return m.answer();
    }
  }

  if (action == "delete") {
    if (kind == "company" && api.linked_object("client", id)) {
      // Clients are never deleted here; one Autotask dropped stops being active.
      Json::Value c;
      c["op"] = "client.upsert";
      c["ref"]["external_id"] = id;
      c["status"] = "inactive";
      m.changes.append(c);
    } else {
      m.notes.push_back(entity_type + " " + id +
                        " was deleted in Autotask; nothing is deleted here");
    }
  } else if (kind == "company") {
    const auto company = record_of(api, payload, "Companies", id, {"companyName"});
    if (company) {
      add_company(api, *company, id, m);
    } else {
      m.notes.push_back("company " + id + " is no longer in Autotask; ignored");
    }
  } else if (kind == "ticket") {
    const auto ticket = record_of(api, payload, "Tickets", id, {"title", "companyID", "status"});
    if (ticket) {
      // No webhook tells of time: a change on a ticket is when its time is most likely new or
      // approved, so the ticket's entries are read now rather than at the next poll.
      if (add_ticket(api, *ticket, id, m)) {
        for (const auto& entry : ticket_time_entries(api, id)) {
          const std::string entry_id = id_text(field(entry, "id"));
          if (!entry_id.empty()) add_time_entry(api, entry, entry_id, m);
        }
      }
    } else {
      m.notes.push_back("ticket " + id + " is no longer in Autotask; ignored");
    }
  } else {
    const auto entry =
        record_of(api, payload, "TimeEntries", id,
                  {"ticketID", "hoursWorked", "resourceID", "billingApprovalDateTime"});
    if (entry) {
      add_time_entry(api, *entry, id, m);
    } else {
      m.notes.push_back("time entry " + id + " is no longer in Autotask; ignored");
    }
  }
  if (seq) api.host().kv_put(seq_key, std::to_string(*seq));
  return m.answer();
}

}  // namespace autotask
