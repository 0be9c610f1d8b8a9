#include "tickets/tickets.hpp"

#include "clients/client_record.hpp"
#include "core/clock.hpp"
#include "domain/fields.hpp"
#include "events/event_log.hpp"

namespace psahost::tickets {

using domain::Refusal;

Json::Value Ticket::to_json() const {
  Json::Value v;
  v["id"] = id;
  v["client_id"] = client_id;
  v["subject"] = subject;
  v["status"] = status;
  v["created_at"] = created_at;
  v["updated_at"] = updated_at;
  return v;
}

std::optional<Ticket> load_ticket(store::Tx& tx, const std::string& tenant_id,
                                  const std::string& id) {
  auto r = tx.query_one(
      "SELECT id, client_id, subject, status, created_at, updated_at FROM tickets WHERE id = ? AND "
      "tenant_id = ?",
      {id, tenant_id});
  if (!r) return std::nullopt;
  return Ticket{r->text(0), r->text(1), r->text(2), r->text(3), r->text(4), r->text(5)};
}

domain::Result<Ticket> open_ticket(store::Tx& tx, const auth::Principal& who,
                                   const std::string& client_id, const std::string& subject) {
  if (!clients::load_client(tx, who.tenant_id, client_id)) {
    return Refusal::not_found("client", client_id);
  }
  const std::string id = auth::new_id("tkt");
  const std::string now = now_rfc3339();
  tx.exec(
      "INSERT INTO tickets (id, tenant_id, client_id, subject, status, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, 'new', ?, ?)",
      {id, who.tenant_id, client_id, subject, now, now});
  Ticket ticket = *load_ticket(tx, who.tenant_id, id);
  events::append(
      tx, {who.tenant_id, "ticket.created", "ticket", id, ticket.to_json(), who.token_id, ""});
  return ticket;
}

domain::Result<Json::Value> move_ticket(store::Tx& tx, const auth::Principal& who,
                                        const std::string& id, const std::string& status,
                                        const std::string& event_type, const Json::Value& extra) {
  auto ticket = load_ticket(tx, who.tenant_id, id);
  if (!ticket) return Refusal::not_found("ticket", id);
  if (ticket->status == "closed" && status != "closed") {
    return Refusal::conflict("ticket-closed", "ticket " + id + " is closed");
  }
  tx.exec("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
          {status, now_rfc3339(), id, who.tenant_id});
  Json::Value payload = load_ticket(tx, who.tenant_id, id)->to_json();
  if (!extra.isNull()) payload["response"] = extra;
  events::append(tx, {who.tenant_id, event_type, "ticket", id, payload, who.token_id, ""});
  return payload;
}

domain::Result<Json::Value> add_response(store::Tx& tx, const auth::Principal& who,
                                         const std::string& id, const std::string& text,
                                         const std::string& author) {
  const auto ticket = load_ticket(tx, who.tenant_id, id);
  if (!ticket) return Refusal::not_found("ticket", id);
  // Refused before anything is written, so a caller need not roll back.
  if (ticket->status == "closed")
    return Refusal::conflict("ticket-closed", "ticket " + id + " is closed");
  Json::Value response;
  response["id"] = auth::new_id("rsp");
  response["author"] = author;
  response["body"] = text;
  tx.exec(
      "INSERT INTO ticket_responses (id, ticket_id, author, body, created_at) VALUES (?, ?, ?, ?, "
      "?)",
      {response["id"].asString(), id, author, text, now_rfc3339()});
  return move_ticket(tx, who, id, "responded", "ticket.responded", response);
}

domain::Result<TimeEntry> register_time(store::Tx& tx, const auth::Principal& who,
                                        const std::string& ticket_id, const NewTimeEntry& in) {
  auto ticket = load_ticket(tx, who.tenant_id, ticket_id);
  if (!ticket) return Refusal::not_found("ticket", ticket_id);
  const std::string entry_id = auth::new_id("te");
  const std::string now = now_rfc3339();
  tx.exec(
      "INSERT INTO time_entries (id, tenant_id, ticket_id, client_id, technician, minutes, "
      "billable, work_type, note, work_date, status, created_at, updated_at) VALUES (?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?, 'submitted', ?, ?)",
      {entry_id, who.tenant_id, ticket_id, ticket->client_id, in.technician, in.minutes,
       int64_t{in.billable ? 1 : 0}, in.work_type, in.note, in.work_date, now, now});
  TimeEntry entry = *load_time_entry(tx, who.tenant_id, entry_id);
  events::append(tx, {who.tenant_id, "time_entry.submitted", "time_entry", entry_id,
                      entry.to_json(), who.token_id, "ticket:" + ticket_id});
  return entry;
}

domain::Result<std::vector<TimeEntry>> ticket_time(store::Tx& tx, const std::string& tenant_id,
                                                   const std::string& ticket_id) {
  if (!load_ticket(tx, tenant_id, ticket_id)) return Refusal::not_found("ticket", ticket_id);
  std::vector<TimeEntry> out;
  tx.each(std::string("SELECT ") + kTimeEntryColumns +
              " FROM time_entries WHERE ticket_id = ? AND tenant_id = ? ORDER BY created_at, id",
          {ticket_id, tenant_id}, [&](const store::Row& r) { out.push_back(entry_from_row(r)); });
  return out;
}

domain::Result<NewTimeEntry> read_new_time_entry(const Json::Value& body) {
  domain::Fields f(body);
  f.only({"minutes", "technician", "billable", "work_type", "note", "work_date"});
  auto minutes = f.integer("minutes", true, 1, 24 * 60);
  auto technician = f.text("technician", true, 200);
  auto billable = f.boolean("billable", false);
  auto work_type = f.text("work_type", false, 100);
  auto note = f.text("note", false, 5000);
  auto work_date = f.date("work_date", false);
  if (!f.ok()) return f.to_refusal();
  return NewTimeEntry{*minutes,
                      *technician,
                      billable.value_or(true),
                      work_type.value_or(""),
                      note.value_or(""),
                      work_date.value_or(today())};
}

}  // namespace psahost::tickets
