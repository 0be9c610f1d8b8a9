// Tickets and the time registered on them, over HTTP: the rules are host/tickets/'s. Approving
// time is in time_approval_routes.cpp.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "tickets/tickets.hpp"

namespace psahost::api {
namespace {

// The answer for a ticket change: its payload, or its refusal (rolling the change back).
http::Response ticket_answer(const domain::Result<Json::Value>& r) {
  if (!r) refuse(r.refusal());
  return http::Response::json(200, *r);
}

void add_ticket_crud(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/tickets", auth::Right::register_time,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              f.only({"client_id", "subject"});
              auto client_id = f.text("client_id", true, 100);
              auto subject = f.text("subject", true, 500);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              commit_once(ctx, req, who, respond,
                          [who, client_id = *client_id, subject = *subject](store::Tx& tx) {
                            const auto ticket = tickets::open_ticket(tx, who, client_id, subject);
                            if (!ticket) refuse(ticket.refusal());
                            auto r = http::Response::json(201, ticket->to_json());
                            r.headers.emplace_back("Location", "/v1/tickets/" + ticket->id);
                            return r;
                          });
            });

  add_sync_route(
      router, ctx, "GET", "/v1/tickets/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<tickets::Ticket> t;
        ctx.store.read(
            [&](store::Tx& tx) { t = tickets::load_ticket(tx, who.tenant_id, params.at("id")); });
        return t ? http::Response::json(200, t->to_json()) : not_found("ticket", params.at("id"));
      });

  add_route(router, ctx, "POST", "/v1/tickets/{id}/responses", auth::Right::register_time,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              f.only({"body", "author"});
              auto text = f.text("body", true, 20000);
              auto author = f.text("author", false, 200);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              commit(ctx, respond,
                     [who, id = params.at("id"), text = *text,
                      author = author.value_or(who.token_id)](store::Tx& tx) {
                       return ticket_answer(tickets::add_response(tx, who, id, text, author));
                     });
            });

  for (const auto& [action, status] : std::vector<std::pair<std::string, std::string>>{
           {"resolve", "resolved"}, {"close", "closed"}, {"reopen", "open"}}) {
    add_route(
        router, ctx, "POST", "/v1/tickets/{id}/" + action, auth::Right::register_time,
        [&ctx, status = status](const http::Request&, const http::Params& params,
                                const auth::Principal& who, http::Responder respond) {
          commit(ctx, respond, [who, id = params.at("id"), status](store::Tx& tx) {
            return ticket_answer(tickets::move_ticket(tx, who, id, status, "ticket." + status));
          });
        });
  }
}

void add_time_registration(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/tickets/{id}/time-entries", auth::Right::register_time,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              const auto entry = tickets::read_new_time_entry(*body);
              if (!entry) return respond(to_problem(entry.refusal()));
              commit_once(ctx, req, who, respond,
                          [who, id = params.at("id"), entry = *entry](store::Tx& tx) {
                            const auto written = tickets::register_time(tx, who, id, entry);
                            if (!written) refuse(written.refusal());
                            auto r = http::Response::json(201, written->to_json());
                            r.headers.emplace_back("Location", "/v1/time-entries/" + written->id);
                            return r;
                          });
            });

  add_sync_route(
      router, ctx, "GET", "/v1/tickets/{id}/time-entries", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<domain::Result<std::vector<tickets::TimeEntry>>> entries;
        ctx.store.read([&](store::Tx& tx) {
          entries = tickets::ticket_time(tx, who.tenant_id, params.at("id"));
        });
        if (!*entries) return to_problem(entries->refusal());
        Json::Value body;
        body["items"] = Json::Value(Json::arrayValue);
        for (const auto& e : **entries) body["items"].append(e.to_json());
        return http::Response::json(200, body);
      });

  add_sync_route(
      router, ctx, "GET", "/v1/time-entries/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<tickets::TimeEntry> e;
        ctx.store.read([&](store::Tx& tx) {
          e = tickets::load_time_entry(tx, who.tenant_id, params.at("id"));
        });
        return e ? http::Response::json(200, e->to_json())
                 : not_found("time entry", params.at("id"));
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
