// Domain events pushed back to ConnectWise: what psahost decided about time entries that came
// from ConnectWise (approved, rejected, approval withdrawn, or refused here), and the agreement
// for a contract of a ConnectWise company.
#include "connectwise.hpp"

#include <cstdint>
#include <cstdio>

namespace connectwise {
namespace {

using connectors::status_line;
using connectors::with_status;

bool caused_by_this_connection(const ManageApi& api, const Json::Value& event) {
  return text(event["actor"]) == "connection:" + api.connection()["name"].asString();
}

// --- a refused change, reported on the ticket ----------------------------------------------

// inbound.change_refused: a change this connection sent was refused here (a time entry approved
// in ConnectWise for a client without complete billing info, say). The reason goes onto the
// entry's ticket as an internal note, once: the note carries a tag of the entry and the reason,
// and a note with that tag already there means it was said before (by an earlier attempt or an
// earlier, identical refusal of a callback repeated).
void report_refusal(const ManageApi& api, const Json::Value& event) {
  const auto refusal = connectors::refusal_note(event, api.connection_id());
  if (!refusal) return;
  const std::string& entry = refusal->entry;
  const std::string& ticket = refusal->ticket;
  const std::string& marker = refusal->marker;
  const std::string& note = refusal->text;

  const Reply existing =
      api.call("GET", "/service/tickets/" + ticket + "/notes?pageSize=1000&orderBy=id%20desc");
  if (existing.status == 404) {
    api.host().warn("ticket " + ticket + " is gone from ConnectWise; the refusal of time entry " +
                    entry + " is not reported there");
    return;
  }
  if (existing.status != 200 || !existing.body.isArray()) {
    throw std::runtime_error("GET /service/tickets/" + ticket + "/notes answered " +
                             std::to_string(existing.status));
  }
  for (const auto& n : existing.body) {
    if (text(n["text"]).find(marker) != std::string::npos) return;
  }
  Json::Value body;
  body["text"] = note;
  body["detailDescriptionFlag"] = false;
  body["internalAnalysisFlag"] = true;
  body["resolutionFlag"] = false;
  api.expect_ok("POST", "/service/tickets/" + ticket + "/notes", body);
}

// --- approval status, in the entry's internal notes -------------------------------------------

std::optional<Json::Value> status_request(const ManageApi& api, const Json::Value& event) {
  // An approval that came from ConnectWise itself is no news there.
  if (caused_by_this_connection(api, event)) return std::nullopt;
  const std::string entry_id = text(event["object"]["id"]);
  const auto external = api.linked_external("time_entry", entry_id);
  if (!external || id_text(Json::Value(*external)).empty())
    return std::nullopt;  // not ConnectWise's
  // A push that failed and is tried again later may come after a newer one: the newest wins.
  const std::string key = "status-seq/" + api.connection_id() + "/" + entry_id;
  const int64_t seq = event["seq"].asInt64();
  if (const auto last = api.host().kv_get(key); last && std::stoll(*last) > seq) {
    return std::nullopt;
  }
  const auto current = api.read("/time/entries/" + *external);
  if (!current) {
    api.host().warn("time entry " + *external +
                    " is gone from ConnectWise; its status is not "
                    "pushed");
    return std::nullopt;
  }
  Json::Value op;
  op["op"] = "replace";
  op["path"] = "internalNotes";
  op["value"] = with_status(text((*current)["internalNotes"]), status_line(event));
  Json::Value request;
  request["method"] = "PATCH";
  request["path"] = api.path("/time/entries/" + *external);
  request["headers"]["Accept"] = "application/json";
  request["body"].append(op);
  api.host().kv_put(key, std::to_string(seq));
  return request;
}

// --- the agreement of a contract --------------------------------------------------------------

// ConnectWise's agreement for one of our contracts carries the contract's reference number in
// customerPO: that is how it is found again, by every later push and after a failed one.
std::optional<Json::Value> find_agreement(const ManageApi& api, const std::string& reference) {
  std::string quoted;
  for (const char c : reference) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  const std::string conditions = "customerPO=\"" + quoted + "\"";
  const Json::Value found =
      api.expect_ok("GET", "/finance/agreements?conditions=" + url_encode(conditions));
  if (!found.isArray()) throw Unavailable("GET /finance/agreements answered a non-list");
  for (const auto& a : found) {
    if (text(a["customerPO"]) == reference) return a;
  }
  return std::nullopt;
}

void ensure_agreement(const ManageApi& api, const Json::Value& event) {
  const Json::Value& contract = event["data"];
  const std::string reference = clean_text(text(contract["reference_number"]), 50);
  const std::string client = text(contract["client_id"]);
  if (reference.empty() || client.empty()) return;
  const auto company = api.linked_external("client", client);
  if (!company || id_text(Json::Value(*company)).empty()) return;  // not a ConnectWise company
  const bool active =
      text(event["type"]) == "contract.activated" || text(contract["status"]) == "active";
  const std::string wanted = active ? "Active" : "Inactive";

  if (const auto agreement = find_agreement(api, reference)) {
    // Never back from Active: a contract.created retried after its activation changes nothing.
    if (!active || text((*agreement)["agreementStatus"]) == "Active") return;
    Json::Value op;
    op["op"] = "replace";
    op["path"] = "agreementStatus";
    op["value"] = wanted;
    Json::Value patch(Json::arrayValue);
    patch.append(op);
    api.expect_ok("PATCH", "/finance/agreements/" + id_text((*agreement)["id"]), patch);
    return;
  }

  const auto record = api.read("/company/companies/" + *company);
  if (!record) throw std::runtime_error("ConnectWise has no company " + *company);
  const std::string contact = id_text((*record)["defaultContact"]["id"]);
  if (contact.empty()) {
    throw std::runtime_error("ConnectWise company " + *company +
                             " has no default contact, which an agreement needs; set one there");
  }
  Json::Value a;
  std::string name = clean_text(text(contract["name"]), 100);
  a["name"] = name.empty() ? "Contract " + reference : name;
  const Json::Value& type_id = api.settings()["agreement_type_id"];
  if (type_id.isIntegral()) {
    a["type"]["id"] = type_id;
  } else {
    const Json::Value& type = api.settings()["agreement_type"];
    a["type"]["name"] = type.isString() && !type.asString().empty() ? type.asString() : "psahost";
  }
  a["company"]["id"] = static_cast<Json::Int64>(std::stoll(*company));
  a["contact"]["id"] = static_cast<Json::Int64>(std::stoll(contact));
  a["customerPO"] = reference;
  const std::string start = text(contract["start_date"]);
  if (!start.empty()) a["startDate"] = start + "T00:00:00Z";
  const std::string end = text(contract["end_date"]);
  if (end.empty()) {
    a["noEndingDateFlag"] = true;
  } else {
    a["endDate"] = end + "T00:00:00Z";
  }
  a["agreementStatus"] = wanted;
  a["internalNotes"] = "Made by psahost for contract " + reference + " (" + text(contract["id"]) +
                       "); psahost invoices it.";
  api.expect_ok("POST", "/finance/agreements", a);
}

}  // namespace

Json::Value push_event(const ManageApi& api, const Json::Value& event) {
  return connectors::push_event(
      event, [&] { report_refusal(api, event); }, [&] { return status_request(api, event); },
      [&] { ensure_agreement(api, event); });
}

}  // namespace connectwise
