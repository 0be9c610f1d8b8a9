// Catch-up polls (command.poll). Autotask publishes no TimeEntry webhook: its webhook entities
// are Companies, Contacts, ConfigurationItems, Tickets and TicketNotes (autotask.net/help/
// DeveloperHelp: "<EntityName>Webhooks (REST API)" and "Creating a webhook"), and a webhook it
// deactivates (25 failed callouts in a row, "Webhooks error handling"; or its owner resource
// deactivated, the DeactivationUrl field) sends nothing more. So time entries, and whatever a
// silent webhook missed, are read with POST /TimeEntries/query: entries whose
// lastModifiedDateTime is at or after the cursor, a page of at most 500 (Autotask's MaxRecords
// limit, "Basic query calls (REST API)") at a time, keyed on id within a sweep so that a page
// left half-done by a crash is read again from where its cursor stood.
#include "autotask.hpp"

#include <algorithm>

namespace autotask {
namespace {

constexpr int64_t kPageSize = 500;

// "2026-03-02T10:15:00.383Z" -> "2026-03-02T10:15:00Z": Autotask writes a varying number of
// fraction digits, so times are compared and asked for by the second ("gte" re-reads that
// second; the deliveries' keys make a repeat change nothing).
std::string second_of(const std::string& t) {
  if (t.size() < 19 || t[4] != '-' || t[10] != 'T') return "";
  return t.substr(0, 19) + "Z";
}

Json::Value condition(const char* op, const char* field_name, const Json::Value& value) {
  Json::Value c;
  c["op"] = op;
  c["field"] = field_name;
  c["value"] = value;
  return c;
}

}  // namespace

Json::Value poll_changes(const RestApi& api, const Json::Value& cursor) {
  // Where the first sweep starts: settings.poll_since, else when the connection was made (time
  // registered before it is the partner's to bring over by setting poll_since).
  std::string since = second_of(text(cursor["since"]));
  if (since.empty()) since = second_of(text(api.settings()["poll_since"]));
  if (since.empty()) since = second_of(text(api.connection()["created_at"]));
  if (since.empty()) since = "2000-01-01T00:00:00Z";
  const int64_t after_id = cursor["after_id"].isIntegral() && !cursor["after_id"].isBool()
                               ? cursor["after_id"].asInt64()
                               : 0;
  std::string newest = second_of(text(cursor["newest"]));

  // settings.poll_page_size: fewer than Autotask's 500 a page, for a zone that answers slowly.
  int64_t page_size = kPageSize;
  if (const Json::Value& s = api.settings()["poll_page_size"]; s.isIntegral() && !s.isBool()) {
    page_size = std::clamp<int64_t>(s.asInt64(), 1, kPageSize);
  }
  Json::Value filter(Json::arrayValue);
  filter.append(condition("gte", "lastModifiedDateTime", since));
  filter.append(condition("gt", "id", static_cast<Json::Int64>(after_id)));
  Json::Value body;
  body["MaxRecords"] = static_cast<Json::Int64>(page_size);
  body["filter"] = filter;

  Json::Value out;
  out["deliveries"] = Json::Value(Json::arrayValue);
  Json::Value page;
  try {
    page = api.expect_ok("POST", "/TimeEntries/query", body);
  } catch (const Unavailable& e) {
    // Autotask's thresholds answer 429: the cursor stays, and the host asks again after the
    // wait it named (or its own backoff when it named none).
    if (e.retry_after_seconds() <= 0) throw;
    out["cursor"] = cursor.isObject() ? cursor : Json::Value(Json::objectValue);
    out["retry_after_seconds"] = e.retry_after_seconds();
    out["note"] = std::string("Autotask asked to wait: ") + e.what();
    return out;
  }
  if (!page["items"].isArray()) {
    throw Unavailable("POST /TimeEntries/query answered without a list of items");
  }
  int64_t last_id = after_id;
  for (const auto& item : page["items"]) {
    const std::string id = id_text(field(item, "id"));
    if (id.empty()) continue;
    last_id = std::max<int64_t>(last_id, std::stoll(id));
    const std::string modified = second_of(text(field(item, "lastModifiedDateTime")));
    if (modified > newest) newest = modified;
    Json::Value d;
    d["key"] = "TimeEntry/" + id + "/" + text(field(item, "lastModifiedDateTime"));
    // The shape of a webhook's payload, so that it maps the way a webhook would; Fields hold the
    // whole record, so it is not read again.
    d["payload"]["Action"] = "Update";
    d["payload"]["EntityType"] = "TimeEntry";
    d["payload"]["Id"] = static_cast<Json::Int64>(std::stoll(id));
    d["payload"]["Fields"] = item;
    d["payload"]["Source"] = "poll";
    out["deliveries"].append(d);
  }
  Json::Value next(Json::objectValue);
  const bool full = static_cast<int64_t>(page["items"].size()) >= page_size;
  if (full) {
    // The same sweep goes on after the last id read.
    next["since"] = since;
    next["after_id"] = static_cast<Json::Int64>(last_id);
    if (!newest.empty()) next["newest"] = newest;
  } else {
    // The sweep is done: the next starts at the newest change it saw.
    next["since"] = newest > since ? newest : since;
    next["after_id"] = 0;
  }
  out["cursor"] = next;
  out["more"] = full;
  return out;
}

Json::Value ticket_time_entries(const RestApi& api, const std::string& ticket) {
  Json::Value filter(Json::arrayValue);
  filter.append(condition("eq", "ticketID", id_number(ticket)));
  return api.query("TimeEntries", filter);
}

}  // namespace autotask
