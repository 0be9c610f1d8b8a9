// What the PSA connectors share: ids as PSAs give them, the links the host keeps between
// our objects and a PSA's ids, a webhook's mapping, and a refused change told back once on the
// entry's ticket.
#pragma once

#include <psa/sdk.hpp>

#include "text.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace connectors {

// An id as a PSA gives it (a number, or digits in a string) as text; "" when it is not one.
inline std::string id_text(const Json::Value& v) {
  if (v.isIntegral() && !v.isBool()) {
    const auto n = v.asLargestInt();
    return n > 0 ? std::to_string(n) : std::string();
  }
  if (v.isString()) {
    const std::string s = v.asString();
    if (!s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos) {
      return s;
    }
  }
  return "";
}

// FNV-1a, 64 bits, in hex: a short stable tag written into a note, so that the note can be found
// again before another is made.
inline std::string stable_tag(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Our id of the object the connector's system knows as external_id, or its id of one of ours,
// when a change linked them (the host call external_refs.find).
inline std::optional<std::string> linked_object(const psa::Host& host, const std::string& tenant_id,
                                                const std::string& type,
                                                const std::string& external_id) {
  Json::Value q;
  q["tenant_id"] = tenant_id;
  q["object_type"] = type;
  q["external_id"] = external_id;
  const Json::Value r = host.call("external_refs.find", q);
  if (!r["object_id"].isString()) return std::nullopt;
  return r["object_id"].asString();
}

inline std::optional<std::string> linked_external(const psa::Host& host,
                                                  const std::string& tenant_id,
                                                  const std::string& type,
                                                  const std::string& object_id) {
  Json::Value q;
  q["tenant_id"] = tenant_id;
  q["object_type"] = type;
  q["object_id"] = object_id;
  const Json::Value r = host.call("external_refs.find", q);
  if (!r["external_id"].isString()) return std::nullopt;
  return r["external_id"].asString();
}

// What a PSA's webhook maps to: changes in the order they are to be applied, notes about what
// was passed over, and the upserts already among the changes ("client:250"), so that a record
// two changes need is upserted once.
struct Mapping {
  Json::Value changes = Json::Value(Json::arrayValue);
  std::vector<std::string> notes;
  std::set<std::string> added;

  // webhook.map's answer: {"changes":[...], "note"?: the notes, joined}.
  Json::Value answer() const {
    Json::Value out;
    out["changes"] = changes;
    if (!notes.empty()) {
      std::string note;
      for (const auto& n : notes) note += (note.empty() ? "" : "; ") + n;
      out["note"] = note;
    }
    return out;
  }
};

// A note about a refused change, for the ticket of the time entry it was about.
struct RefusalNote {
  std::string entry;   // the PSA's time entry id
  std::string ticket;  // the PSA's ticket id
  std::string text;    // what the note says, ending with the marker
  std::string marker;  // "[psahost <tag>]": a note holding it means this was said before
};

// inbound.change_refused: a change this connection sent was refused here (a time entry approved
// in the PSA for a client without complete billing info, say). The note that says so, or nothing
// when the event is another connection's, or not about a time entry with its ticket.
inline std::optional<RefusalNote> refusal_note(const Json::Value& event,
                                               const std::string& connection_id) {
  const Json::Value& data = event["data"];
  if (text(data["connection_id"]) != connection_id) return std::nullopt;
  const Json::Value& change = data["change"];
  const std::string op = text(change["op"]);
  RefusalNote note;
  if (op == "time_entry.approve" || op == "time_entry.reject" ||
      op == "time_entry.billed_externally") {
    note.entry = id_text(change["entry"]["external_id"]);
  } else if (op == "time_entry.upsert") {
    note.entry = id_text(change["ref"]["external_id"]);
  } else {
    return std::nullopt;
  }
  note.ticket = id_text(change["ticket"]["external_id"]);
  if (note.entry.empty() || note.ticket.empty()) return std::nullopt;

  const Json::Value& problem = data["problem"];
  std::string reason = text(problem["detail"]);
  if (reason.empty()) reason = text(problem["title"]);
  if (reason.empty()) reason = "refused with status " + data["status"].asString();
  std::string missing;
  for (const auto& m : problem["prompt"]["missing"]) {
    if (m.isString()) missing += (missing.empty() ? "" : ", ") + m.asString();
  }
  const std::string what = op == "time_entry.approve"             ? "did not approve"
                           : op == "time_entry.reject"            ? "did not reject"
                           : op == "time_entry.billed_externally" ? "had already invoiced"
                                                                  : "did not take the change to";
  note.marker = "[psahost " + stable_tag(op + "\n" + note.entry + "\n" + reason) + "]";
  note.text = "psahost " + what + " time entry " + note.entry + ": " + reason;
  if (!missing.empty()) note.text += " Missing: " + missing + ".";
  note.text += "\n" + note.marker;
  return note;
}

// --- what both PSA connectors push back ---------------------------------------------------------

// Lines of a time entry's internal notes that carry psahost's status; replaced on each push so
// the technician's own notes stay as they are.
inline constexpr const char* kStatusPrefix = "psahost: ";

// The status line for a time_entry.approved, .rejected or .unapproved event.
inline std::string status_line(const Json::Value& event) {
  const std::string type = text(event["type"]);
  const Json::Value& entry = event["data"];
  if (type == "time_entry.approved") {
    std::string line = std::string(kStatusPrefix) + "approved";
    const std::string at = text(entry["approved_at"]);
    if (at.size() >= 10) line += " on " + at.substr(0, 10);
    if (entry["billable"].asBool() && entry["billed_minutes"].isIntegral()) {
      line += ", " + std::to_string(entry["billed_minutes"].asInt64()) + " min billed";
    } else {
      line += ", not billable";
    }
    return line;
  }
  if (type == "time_entry.rejected") {
    const std::string reason = clean_text(text(entry["reason"]), 500);
    return std::string(kStatusPrefix) + "rejected" + (reason.empty() ? "" : ": " + reason);
  }
  return std::string(kStatusPrefix) + "approval withdrawn; waiting to be approved again";
}

// notes with its earlier status lines replaced by line.
inline std::string with_status(const std::string& notes, const std::string& line) {
  std::string out;
  std::size_t at = 0;
  while (at < notes.size()) {
    auto end = notes.find('\n', at);
    if (end == std::string::npos) end = notes.size();
    const std::string l = notes.substr(at, end - at);
    if (l.rfind(kStatusPrefix, 0) != 0) out += l + "\n";
    at = end + 1;
  }
  return out + line;
}

// sync.push as both PSA connectors answer it: a refused change reported on its ticket, the
// approval status of an entry from the PSA as one request, a contract made there (after a
// lookup, so never twice).
inline Json::Value push_event(const Json::Value& event, const std::function<void()>& report_refusal,
                              const std::function<std::optional<Json::Value>()>& status_request,
                              const std::function<void()>& ensure_contract) {
  Json::Value out;
  out["requests"] = Json::Value(Json::arrayValue);
  const std::string type = text(event["type"]);
  if (type == "inbound.change_refused") {
    report_refusal();
  } else if (type == "time_entry.approved" || type == "time_entry.rejected" ||
             type == "time_entry.unapproved") {
    if (auto r = status_request()) out["requests"].append(*r);
  } else if (type == "contract.created" || type == "contract.activated") {
    ensure_contract();
  }
  return out;
}

}  // namespace connectors
