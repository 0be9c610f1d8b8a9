// Reads the partner's console needs that the API did not have: who the token is (its tenant,
// role and rights, so the console offers only what the role may do) and the ticket list.
#include "api/context.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "api/problem.hpp"

#include <algorithm>

namespace psahost::api {
namespace {

struct NamedRight {
  auth::Right right;
  const char* name;
};

constexpr NamedRight kRights[] = {
    {auth::Right::read, "read"},
    {auth::Right::manage_plugins, "manage_plugins"},
    {auth::Right::manage_clients, "manage_clients"},
    {auth::Right::register_time, "register_time"},
    {auth::Right::approve_time, "approve_time"},
    {auth::Right::manage_sales, "manage_sales"},
    {auth::Right::manage_billing, "manage_billing"},
    {auth::Right::review_admission, "review_admission"},
    {auth::Right::manage_integrations, "manage_integrations"},
};

const std::vector<std::string> kTicketStatuses = {"new", "open", "responded", "resolved", "closed"};

}  // namespace

void add_console_read_routes(http::Router& router, const ApiContext& ctx) {
  add_sync_route(router, ctx, "GET", "/v1/session", auth::Right::read,
                 [](const http::Request&, const http::Params&, const auth::Principal& who) {
                   Json::Value body;
                   body["tenant"] = who.tenant_name;
                   body["role"] = std::string(auth::role_name(who.role));
                   body["token_id"] = who.token_id;
                   body["rights"] = Json::Value(Json::arrayValue);
                   for (const auto& r : kRights) {
                     if (auth::allows(who.role, r.right)) body["rights"].append(r.name);
                   }
                   return http::Response::json(200, body);
                 });

  // Paged by id with ?after=<the last id seen> (the list's next_after); ?client_id and ?status
  // narrow the list.
  add_sync_route(
      router, ctx, "GET", "/v1/tickets", auth::Right::read,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
        std::vector<domain::FieldError> errors;
        const Page page = list_page(req, errors);
        const auto status = req.query_param("status");
        if (status && std::find(kTicketStatuses.begin(), kTicketStatuses.end(), *status) ==
                          kTicketStatuses.end()) {
          errors.push_back({"status", "must be one of new, open, responded, resolved, closed"});
        }
        if (!errors.empty()) return validation_failed(errors);
        Json::Value body;
        body["items"] = Json::Value(Json::arrayValue);
        std::string sql =
            "SELECT t.id, t.client_id, c.name, t.subject, t.status, t.created_at, t.updated_at, "
            "(SELECT COUNT(*) FROM time_entries e WHERE e.ticket_id = t.id AND e.status = "
            "'submitted') FROM tickets t JOIN clients c ON c.id = t.client_id "
            "WHERE t.tenant_id = ? AND t.id > ?";
        std::vector<store::Value> params = {who.tenant_id, page.after};
        if (const auto client = req.query_param("client_id")) {
          sql += " AND t.client_id = ?";
          params.emplace_back(*client);
        }
        if (status) {
          sql += " AND t.status = ?";
          params.emplace_back(*status);
        }
        sql += " ORDER BY t.id LIMIT ?";
        params.emplace_back(page.limit);
        ctx.store.read([&](store::Tx& tx) {
          const auto rows = tx.query(sql, params);
          for (const auto& row : rows) {
            Json::Value t;
            t["id"] = row.text(0);
            t["client_id"] = row.text(1);
            t["client_name"] = row.text(2);
            t["subject"] = row.text(3);
            t["status"] = row.text(4);
            t["created_at"] = row.text(5);
            t["updated_at"] = row.text(6);
            t["submitted_time_entries"] = static_cast<Json::Int64>(row.integer(7));
            body["items"].append(t);
          }
          if (static_cast<int64_t>(rows.size()) == page.limit)
            body["next_after"] = rows.back().text(0);
        });
        return http::Response::json(200, body);
      });
}

}  // namespace psahost::api
