// Approving, rejecting, un-approving and editing ticket time. The time-approval plugin decides
// each step; the host checks the input, asks it, and applies the answer guarded by version.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "approval/approval.hpp"

#include <cstdint>

namespace psahost::api {
namespace {

using approval::ApprovalOutcome;
using approval::EntryFilter;
using approval::TimeApprovalEnv;
using approval::Transition;

constexpr int64_t kMaxBulk = 10'000;

TimeApprovalEnv env_of(const ApiContext& ctx) {
  return TimeApprovalEnv{ctx.store, ctx.plugins, ctx.admission, ctx.events_committed};
}

// The body of a route whose body is optional: none at all reads as {}.
std::optional<Json::Value> optional_body(const http::Request& req, http::Response* refusal) {
  if (req.body.empty()) return Json::Value(Json::objectValue);
  return json_body(req, refusal);
}

// One row of the bulk answer.
Json::Value outcome_json(const ApprovalOutcome& r) {
  Json::Value v;
  v["id"] = r.id;
  v["outcome"] = r.outcome;
  // The full problem type, as problem+json and admission verdicts spell it.
  if (!r.type.empty()) v["type"] = std::string(http::kProblemTypePrefix) + r.type;
  if (!r.reason.empty()) v["reason"] = r.reason;
  if (!r.prompt.isNull()) v["prompt"] = r.prompt;
  if (!r.decided_by.empty()) v["decided_by"] = r.decided_by;
  if (const auto& e = r.entry) {
    const auto number = [](const std::optional<int64_t>& n) {
      return n ? Json::Value(static_cast<Json::Int64>(*n)) : Json::Value();
    };
    v["client_id"] = e->client_id;
    v["status"] = e->status;
    v["minutes"] = static_cast<Json::Int64>(e->minutes);
    v["billed_minutes"] = number(e->billed_minutes);
    v["rate"] = number(e->rate);
    v["currency"] = e->currency ? Json::Value(*e->currency) : Json::Value();
    v["version"] = static_cast<Json::Int64>(e->version);
  }
  if (!r.rate_source.empty()) v["rate_source"] = r.rate_source;
  return v;
}

// The answer of the single approval route for one outcome.
http::Response single_answer(const ApprovalOutcome& r) {
  if (r.outcome == "approved" || r.outcome == "already_approved") {
    Json::Value body = r.entry->to_json();
    body["changed"] = r.outcome == "approved";
    if (r.outcome == "already_approved") body["detail"] = r.reason;
    if (!r.rate_source.empty()) body["rate_source"] = r.rate_source;
    return http::Response::json(200, body);
  }
  return to_problem(*approval::refusal_of(r));
}

// A bulk approval names its entries by id, or by a filter selecting the submitted entries of a
// client, a ticket and/or a period of work dates, a page at a time (after, limit).
struct BulkRequest {
  std::vector<std::string> ids;
  std::optional<EntryFilter> filter;
};

std::optional<BulkRequest> read_bulk(const Json::Value& body, http::Response* refusal) {
  Fields f(body);
  f.only({"ids", "filter", "after", "limit"});
  const bool by_ids = body.isMember("ids");
  const bool by_filter = body.isMember("filter");
  if (by_ids == by_filter) f.error("ids", "give either ids or filter, not both or neither");
  BulkRequest out;
  if (by_ids && !by_filter) {
    const Json::Value& list = body["ids"];
    if (!list.isArray() || list.empty() || list.size() > kMaxBulk) {
      f.error("ids", "expected a list of 1 to " + std::to_string(kMaxBulk) + " ids");
    } else {
      for (Json::ArrayIndex i = 0; i < list.size(); ++i) {
        if (!list[i].isString() || list[i].asString().empty() || list[i].asString().size() > 100) {
          f.error("ids[" + std::to_string(i) + "]", "expected a time entry id");
        } else {
          out.ids.push_back(list[i].asString());
        }
      }
    }
    if (body.isMember("after")) f.error("after", "pages a filter; not allowed with ids");
    if (body.isMember("limit")) f.error("limit", "limits a filter; not allowed with ids");
  }
  if (by_filter && !by_ids) {
    EntryFilter filter;
    const Json::Value& spec = body["filter"];
    if (!spec.isObject()) {
      f.error("filter", "expected an object with client_id, ticket_id, from or to");
    } else {
      // Its own Fields, so that an unknown member is named "filter.<name>".
      Fields ff(spec, "filter");
      ff.only({"client_id", "ticket_id", "from", "to"});
      filter.client_id = ff.text("client_id", false, 100);
      filter.ticket_id = ff.text("ticket_id", false, 100);
      filter.from = ff.date("from", false);
      filter.to = ff.date("to", false);
      if (filter.from && filter.to && *filter.to < *filter.from) {
        ff.error("to", "must not be before from");
      }
      for (const auto& e : ff.errors()) f.error(e["field"].asString(), e["message"].asString());
    }
    filter.after = f.text("after", false, 100).value_or("");
    filter.limit = f.integer("limit", false, 1, kMaxBulk).value_or(kMaxBulk);
    out.filter = std::move(filter);
  }
  if (!f.ok()) {
    *refusal = validation_failed(f.errors());
    return std::nullopt;
  }
  return out;
}

void add_approve(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/time-entries/{id}/approve", auth::Right::approve_time,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = optional_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              f.only({"version"});
              auto version = f.integer("version", false, 1, INT64_MAX);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              const auto run = approval::approve_time_entries(
                  env_of(ctx), {who.tenant_id, who.token_id, {params.at("id")}, version, true});
              if (run.refusal) return respond(to_problem(*run.refusal));
              respond(single_answer(run.results.front()));
            });

  add_route(
      router, ctx, "POST", "/v1/time-entries/approve", auth::Right::approve_time,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        auto bulk = read_bulk(*body, &refusal);
        if (!bulk) return respond(refusal);
        std::vector<std::string>& ids = bulk->ids;
        const std::optional<EntryFilter>& filter = bulk->filter;
        bool more = false;
        if (filter) {
          // A filter naming another tenant's (or no) client or ticket is a 404 naming it, as the
          // object routes answer; it does not silently match nothing.
          auto page = approval::select_page(ctx.store, who.tenant_id, *filter);
          if (!page) return respond(to_problem(page.refusal()));
          ids = std::move(page->ids);
          more = page->more;
        }
        const auto run = approval::approve_time_entries(
            env_of(ctx), {who.tenant_id, who.token_id, ids, {}, false});
        if (run.refusal) return respond(to_problem(*run.refusal));
        Json::Value out;
        Json::Value& results = out["results"] = Json::Value(Json::arrayValue);
        Json::Value& counts = out["counts"];
        for (const char* k : {"approved", "already_approved", "refused", "conflict", "not_found"}) {
          counts[k] = 0;
        }
        for (const auto& r : run.results) {
          results.append(outcome_json(r));
          counts[r.outcome] = counts[r.outcome].asInt() + 1;
        }
        // Ordered by id, so the last id given says where the next page starts.
        out["next_after"] = more ? Json::Value(ids.back()) : Json::Value();
        respond(http::Response::json(200, out));
      });
}

// Asks the time-approval plugin whether the entry may take this step, then writes it.
void run_transition(const ApiContext& ctx, const auth::Principal& who, const std::string& id,
                    const Transition& t, http::Responder respond) {
  auto plan = approval::plan_transition(env_of(ctx), who.tenant_id, id, t);
  if (!plan) return respond(to_problem(plan.refusal()));
  if (!plan->changed) {
    Json::Value body = plan->after.to_json();
    body["changed"] = false;
    body["detail"] = plan->detail;
    return respond(http::Response::json(200, body));
  }
  commit(ctx, std::move(respond), [who, plan = std::move(*plan)](store::Tx& tx) mutable {
    auto written = approval::apply_transition(tx, who.tenant_id, who.token_id, std::move(plan));
    if (!written) refuse(written.refusal());
    Json::Value body = written->to_json();
    body["changed"] = true;
    return http::Response::json(200, body);
  });
}

void add_transitions(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/time-entries/{id}/reject", auth::Right::approve_time,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto t = approval::read_reject(*body);
              if (!t) return respond(to_problem(t.refusal()));
              run_transition(ctx, who, params.at("id"), *t, std::move(respond));
            });

  add_route(router, ctx, "POST", "/v1/time-entries/{id}/unapprove", auth::Right::approve_time,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = optional_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              f.only({"version"});
              auto version = f.integer("version", false, 1, INT64_MAX);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              Transition t{"unapprove", version, "", {}, {}, {}, {}};
              run_transition(ctx, who, params.at("id"), std::move(t), std::move(respond));
            });

  // Technicians correct their own time, so editing needs the right to register it.
  add_route(router, ctx, "PATCH", "/v1/time-entries/{id}", auth::Right::register_time,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto t = approval::read_edit(*body);
              if (!t) return respond(to_problem(t.refusal()));
              run_transition(ctx, who, params.at("id"), *t, std::move(respond));
            });
}

}  // namespace

void add_time_approval_routes(http::Router& router, const ApiContext& ctx) {
  add_approve(router, ctx);
  add_transitions(router, ctx);
}

}  // namespace psahost::api
