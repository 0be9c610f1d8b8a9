// Tickets and the time registered on them. Tickets and time registration are never gated by
// billing information; approving time is in time_approval_routes.cpp.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "core/clock.hpp"
#include "events/event_log.hpp"

namespace psahost::api {
namespace {

struct TicketRecord {
  std::string id, client_id, subject, status, created_at, updated_at;
  Json::Value to_json() const {
    Json::Value v;
    v["id"] = id;
    v["client_id"] = client_id;
    v["subject"] = subject;
    v["status"] = status;
    v["created_at"] = created_at;
    v["updated_at"] = updated_at;
    return v;
  }
};

std::optional<TicketRecord> load_ticket(store::Tx& tx, const std::string& tenant,
                                        const std::string& id) {
  auto r = tx.query_one(
      "SELECT id, client_id, subject, status, created_at, updated_at FROM tickets WHERE id = ? AND "
      "tenant_id = ?",
      {id, tenant});
  if (!r) return std::nullopt;
  return TicketRecord{r->text(0), r->text(1), r->text(2), r->text(3), r->text(4), r->text(5)};
}

constexpr const char* kEntryColumns =
    "id, ticket_id, client_id, technician, minutes, billed_minutes, billable, rate, currency, "
    "work_type, note, work_date, status, approved_by, approved_at, rejected_reason, invoice_id, "
    "version, created_at, updated_at, billed_externally";

Json::Value entry_json(const store::Row& r) {
  Json::Value v;
  v["id"] = r.text(0);
  v["ticket_id"] = r.text(1);
  v["client_id"] = r.text(2);
  v["technician"] = r.text(3);
  v["minutes"] = static_cast<Json::Int64>(r.integer(4));
  v["billed_minutes"] =
      r.is_null(5) ? Json::Value() : Json::Value(static_cast<Json::Int64>(r.integer(5)));
  v["billable"] = r.integer(6) != 0;
  v["rate"] = r.is_null(7) ? Json::Value() : Json::Value(static_cast<Json::Int64>(r.integer(7)));
  v["currency"] = r.is_null(8) ? Json::Value() : Json::Value(r.text(8));
  v["work_type"] = r.text(9);
  v["note"] = r.text(10);
  v["work_date"] = r.text(11);
  v["status"] = r.text(12);
  v["approved_by"] = r.is_null(13) ? Json::Value() : Json::Value(r.text(13));
  v["approved_at"] = r.is_null(14) ? Json::Value() : Json::Value(r.text(14));
  v["rejected_reason"] = r.is_null(15) ? Json::Value() : Json::Value(r.text(15));
  v["invoice_id"] = r.is_null(16) ? Json::Value() : Json::Value(r.text(16));
  v["version"] = static_cast<Json::Int64>(r.integer(17));
  v["created_at"] = r.text(18);
  v["updated_at"] = r.text(19);
  v["billed_externally"] = r.is_null(20) ? Json::Value() : from_text(r.text(20));
  return v;
}

std::optional<Json::Value> load_entry(store::Tx& tx, const std::string& tenant,
                                      const std::string& id) {
  auto r = tx.query_one(
      std::string("SELECT ") + kEntryColumns + " FROM time_entries WHERE id = ? AND tenant_id = ?",
      {id, tenant});
  if (!r) return std::nullopt;
  return entry_json(*r);
}

// Moves a ticket to a new status and records the event; refuses moves out of "closed".
http::Response transition(store::Tx& tx, const auth::Principal& who, const std::string& id,
                          const std::string& status, const std::string& event_type,
                          const Json::Value& extra) {
  auto ticket = load_ticket(tx, who.tenant_id, id);
  if (!ticket) refuse(not_found("ticket", id));
  if (ticket->status == "closed" && status != "closed") {
    refuse(http::problem(409, "ticket-closed", "Conflict", "ticket " + id + " is closed"));
  }
  tx.exec("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
          {status, now_rfc3339(), id, who.tenant_id});
  Json::Value payload = load_ticket(tx, who.tenant_id, id)->to_json();
  if (!extra.isNull()) payload["response"] = extra;
  events::append(tx, {who.tenant_id, event_type, "ticket", id, payload, who.token_id, ""});
  return http::Response::json(200, payload);
}

void add_ticket_crud(http::Router& router, const ApiContext& ctx) {
  router.add(
      "POST", "/v1/tickets",
      [&ctx](const http::Request& req, const http::Params&, http::Responder respond) {
        http::Response refusal;
        auto who = ctx.authorize(req, auth::Right::register_time, &refusal);
        if (!who) return respond(refusal);
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        f.only({"client_id", "subject"});
        auto client_id = f.text("client_id", true, 100);
        auto subject = f.text("subject", true, 500);
        if (!f.ok()) return respond(validation_failed(f.errors()));
        commit_once(
            ctx, req, *who, respond,
            [who = *who, client_id = *client_id, subject = *subject](store::Tx& tx) {
              if (!load_client(tx, who.tenant_id, client_id)) {
                refuse(not_found("client", client_id));
              }
              const std::string id = auth::new_id("tkt");
              const std::string now = now_rfc3339();
              tx.exec(
                  "INSERT INTO tickets (id, tenant_id, client_id, subject, status, created_at, "
                  "updated_at) VALUES (?, ?, ?, ?, 'new', ?, ?)",
                  {id, who.tenant_id, client_id, subject, now, now});
              const Json::Value ticket = load_ticket(tx, who.tenant_id, id)->to_json();
              events::append(
                  tx, {who.tenant_id, "ticket.created", "ticket", id, ticket, who.token_id, ""});
              auto r = http::Response::json(201, ticket);
              r.headers.emplace_back("Location", "/v1/tickets/" + id);
              return r;
            });
      });

  router.add_sync(
      "GET", "/v1/tickets/{id}", [&ctx](const http::Request& req, const http::Params& params) {
        http::Response refusal;
        auto who = ctx.authorize(req, auth::Right::read, &refusal);
        if (!who) return refusal;
        std::optional<TicketRecord> t;
        ctx.store.read(
            [&](store::Tx& tx) { t = load_ticket(tx, who->tenant_id, params.at("id")); });
        return t ? http::Response::json(200, t->to_json()) : not_found("ticket", params.at("id"));
      });

  router.add("POST", "/v1/tickets/{id}/responses",
             [&ctx](const http::Request& req, const http::Params& params, http::Responder respond) {
               http::Response refusal;
               auto who = ctx.authorize(req, auth::Right::register_time, &refusal);
               if (!who) return respond(refusal);
               auto body = json_body(req, &refusal);
               if (!body) return respond(refusal);
               Fields f(*body);
               f.only({"body", "author"});
               auto text = f.text("body", true, 20000);
               auto author = f.text("author", false, 200);
               if (!f.ok()) return respond(validation_failed(f.errors()));
               commit(
                   ctx, respond,
                   [who = *who, id = params.at("id"), text = *text,
                    author = author.value_or(who->token_id)](store::Tx& tx) {
                     if (!load_ticket(tx, who.tenant_id, id)) refuse(not_found("ticket", id));
                     Json::Value response;
                     response["id"] = auth::new_id("rsp");
                     response["author"] = author;
                     response["body"] = text;
                     tx.exec(
                         "INSERT INTO ticket_responses (id, ticket_id, author, body, created_at) "
                         "VALUES (?, ?, ?, ?, ?)",
                         {response["id"].asString(), id, author, text, now_rfc3339()});
                     return transition(tx, who, id, "responded", "ticket.responded", response);
                   });
             });

  for (const auto& [action, status] : std::vector<std::pair<std::string, std::string>>{
           {"resolve", "resolved"}, {"close", "closed"}, {"reopen", "open"}}) {
    router.add("POST", "/v1/tickets/{id}/" + action,
               [&ctx, status = status](const http::Request& req, const http::Params& params,
                                       http::Responder respond) {
                 http::Response refusal;
                 auto who = ctx.authorize(req, auth::Right::register_time, &refusal);
                 if (!who) return respond(refusal);
                 commit(ctx, respond, [who = *who, id = params.at("id"), status](store::Tx& tx) {
                   return transition(tx, who, id, status, "ticket." + status, Json::nullValue);
                 });
               });
  }
}

void add_time_registration(http::Router& router, const ApiContext& ctx) {
  router.add(
      "POST", "/v1/tickets/{id}/time-entries",
      [&ctx](const http::Request& req, const http::Params& params, http::Responder respond) {
        http::Response refusal;
        auto who = ctx.authorize(req, auth::Right::register_time, &refusal);
        if (!who) return respond(refusal);
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        f.only({"minutes", "technician", "billable", "work_type", "note", "work_date"});
        auto minutes = f.integer("minutes", true, 1, 24 * 60);
        auto technician = f.text("technician", true, 200);
        auto billable = f.boolean("billable", false);
        auto work_type = f.text("work_type", false, 100);
        auto note = f.text("note", false, 5000);
        auto work_date = f.date("work_date", false);
        if (!f.ok()) return respond(validation_failed(f.errors()));
        commit_once(
            ctx, req, *who, respond,
            [who = *who, id = params.at("id"), minutes = *minutes, technician = *technician,
             billable = billable.value_or(true), work_type = work_type.value_or(""),
             note = note.value_or(""), work_date = work_date.value_or(today())](store::Tx& tx) {
              auto ticket = load_ticket(tx, who.tenant_id, id);
              if (!ticket) refuse(not_found("ticket", id));
              const std::string entry_id = auth::new_id("te");
              const std::string now = now_rfc3339();
              tx.exec(
                  "INSERT INTO time_entries (id, tenant_id, ticket_id, client_id, technician, "
                  "minutes, billable, work_type, note, work_date, status, created_at, "
                  "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?, ?)",
                  {entry_id, who.tenant_id, id, ticket->client_id, technician, minutes,
                   int64_t{billable ? 1 : 0}, work_type, note, work_date, now, now});
              const Json::Value entry = *load_entry(tx, who.tenant_id, entry_id);
              events::append(tx, {who.tenant_id, "time_entry.submitted", "time_entry", entry_id,
                                  entry, who.token_id, "ticket:" + id});
              auto r = http::Response::json(201, entry);
              r.headers.emplace_back("Location", "/v1/time-entries/" + entry_id);
              return r;
            });
      });

  router.add_sync("GET", "/v1/tickets/{id}/time-entries",
                  [&ctx](const http::Request& req, const http::Params& params) {
                    http::Response refusal;
                    auto who = ctx.authorize(req, auth::Right::read, &refusal);
                    if (!who) return refusal;
                    Json::Value body;
                    bool found = false;
                    ctx.store.read([&](store::Tx& tx) {
                      if (!load_ticket(tx, who->tenant_id, params.at("id"))) return;
                      found = true;
                      body["items"] = Json::Value(Json::arrayValue);
                      for (const auto& r : tx.query(std::string("SELECT ") + kEntryColumns +
                                                        " FROM time_entries WHERE ticket_id = ? "
                                                        "AND tenant_id = ? ORDER BY created_at, id",
                                                    {params.at("id"), who->tenant_id})) {
                        body["items"].append(entry_json(r));
                      }
                    });
                    return found ? http::Response::json(200, body)
                                 : not_found("ticket", params.at("id"));
                  });

  router.add_sync(
      "GET", "/v1/time-entries/{id}", [&ctx](const http::Request& req, const http::Params& params) {
        http::Response refusal;
        auto who = ctx.authorize(req, auth::Right::read, &refusal);
        if (!who) return refusal;
        std::optional<Json::Value> e;
        ctx.store.read([&](store::Tx& tx) { e = load_entry(tx, who->tenant_id, params.at("id")); });
        return e ? http::Response::json(200, *e) : not_found("time entry", params.at("id"));
      });
}

}  // namespace

void add_ticket_routes(http::Router& router, const ApiContext& ctx) {
  add_ticket_crud(router, ctx);
  add_time_registration(router, ctx);
  // Here rather than in app.cpp, so that whoever builds the route table gets approval too.
  add_time_approval_routes(router, ctx);
}

}  // namespace psahost::api
