// Approving, rejecting, un-approving and editing ticket time. The time-approval plugin decides
// each step; the host checks the input, asks it, and applies the answer guarded by version.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "api/time_services.hpp"
#include "core/clock.hpp"
#include "events/event_log.hpp"

#include <cstdint>

namespace psahost::api {
namespace {

constexpr int64_t kMaxBulk = 10'000;

TimeApprovalEnv env_of(const ApiContext& ctx) {
  return TimeApprovalEnv{ctx.store, ctx.plugins, ctx.admission, ctx.events_committed};
}

// The body of a route whose body is optional: none at all reads as {}.
std::optional<Json::Value> optional_body(const http::Request& req, http::Response* refusal) {
  if (req.body.empty()) return Json::Value(Json::objectValue);
  return json_body(req, refusal);
}

// Why the time-approval plugin could not be asked: disabled (409), not loaded (503), failed (500).
http::Response plugin_problem(int status, const std::string& slug, const std::string& detail) {
  const char* title = status == 409   ? "Conflict"
                      : status == 503 ? "Service Unavailable"
                                      : "Internal Server Error";
  return http::problem(status, slug, title, detail);
}

http::Response conflict(const std::string& detail) {
  return http::problem(409, "conflict", "Conflict", detail);
}

// The answer of the single approval route for one outcome.
http::Response single_answer(const ApprovalOutcome& r) {
  if (r.outcome == "not_found") return not_found("time entry", r.id);
  if (r.outcome == "approved" || r.outcome == "already_approved") {
    Json::Value body = r.entry->to_json();
    body["changed"] = r.outcome == "approved";
    if (r.outcome == "already_approved") body["detail"] = r.reason;
    if (!r.rate_source.empty()) body["rate_source"] = r.rate_source;
    return http::Response::json(200, body);
  }
  if (r.outcome == "conflict") {
    Json::Value extra;
    if (r.entry) extra["current_version"] = static_cast<Json::Int64>(r.entry->version);
    return http::problem(409, "conflict", "Conflict", r.reason, extra);
  }
  Json::Value extra;
  if (!r.prompt.isNull()) extra["prompt"] = r.prompt;
  if (!r.decided_by.empty()) extra["decided_by"] = r.decided_by;
  const int status = r.type == "plugin-failed" ? 500 : 409;
  return http::problem(status, r.type, status == 500 ? "Internal Server Error" : "Refused",
                       r.reason, extra);
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
  router.add("POST", "/v1/time-entries/{id}/approve",
             [&ctx](const http::Request& req, const http::Params& params, http::Responder respond) {
               http::Response refusal;
               auto who = ctx.authorize(req, auth::Right::approve_time, &refusal);
               if (!who) return respond(refusal);
               auto body = optional_body(req, &refusal);
               if (!body) return respond(refusal);
               Fields f(*body);
               f.only({"version"});
               auto version = f.integer("version", false, 1, INT64_MAX);
               if (!f.ok()) return respond(validation_failed(f.errors()));
               const auto run = approve_time_entries(
                   env_of(ctx), {who->tenant_id, who->token_id, {params.at("id")}, version, true});
               if (run.status != 200) {
                 return respond(plugin_problem(run.status, run.error, run.detail));
               }
               respond(single_answer(run.results.front()));
             });

  router.add(
      "POST", "/v1/time-entries/approve",
      [&ctx](const http::Request& req, const http::Params&, http::Responder respond) {
        http::Response refusal;
        auto who = ctx.authorize(req, auth::Right::approve_time, &refusal);
        if (!who) return respond(refusal);
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
          std::optional<http::Response> missing;
          ctx.store.read([&](store::Tx& tx) {
            if (filter->client_id && !load_client(tx, who->tenant_id, *filter->client_id)) {
              missing = not_found("client", *filter->client_id);
              return;
            }
            if (filter->ticket_id &&
                !tx.query_one("SELECT 1 FROM tickets WHERE id = ? AND tenant_id = ?",
                              {*filter->ticket_id, who->tenant_id})) {
              missing = not_found("ticket", *filter->ticket_id);
              return;
            }
            // One more than the limit says whether there is a next page.
            EntryFilter probe = *filter;
            probe.limit = filter->limit + 1;
            ids = select_submitted(tx, who->tenant_id, probe);
          });
          if (missing) return respond(*missing);
          more = static_cast<int64_t>(ids.size()) > filter->limit;
          if (more) ids.resize(static_cast<std::size_t>(filter->limit));
        }
        const auto run =
            approve_time_entries(env_of(ctx), {who->tenant_id, who->token_id, ids, {}, false});
        if (run.status != 200) {
          return respond(plugin_problem(run.status, run.error, run.detail));
        }
        Json::Value out;
        Json::Value& results = out["results"] = Json::Value(Json::arrayValue);
        Json::Value& counts = out["counts"];
        for (const char* k : {"approved", "already_approved", "refused", "conflict", "not_found"}) {
          counts[k] = 0;
        }
        for (const auto& r : run.results) {
          results.append(r.to_json());
          counts[r.outcome] = counts[r.outcome].asInt() + 1;
        }
        // Ordered by id, so the last id given says where the next page starts.
        out["next_after"] = more ? Json::Value(ids.back()) : Json::Value();
        respond(http::Response::json(200, out));
      });
}

struct Transition {
  std::string action;  // reject | unapprove | edit
  std::optional<int64_t> version;
  std::string reason;  // reject
  // edit: the new values
  std::optional<int64_t> minutes;
  std::optional<bool> billable;
  std::optional<std::string> note, work_type;
};

// Asks the plugin whether the entry may take this step, then applies it guarded by status and
// version, with an audit row and an event.
void run_transition(const ApiContext& ctx, const auth::Principal& who, const std::string& id,
                    Transition t, http::Responder respond) {
  std::optional<TimeEntry> entry;
  ctx.store.read([&](store::Tx& tx) { entry = load_time_entry(tx, who.tenant_id, id); });
  if (!entry) return respond(not_found("time entry", id));
  if (t.version && *t.version != entry->version) {
    return respond(conflict("time entry " + id + " is at version " +
                            std::to_string(entry->version) + ", not " + std::to_string(*t.version) +
                            "; reload and retry"));
  }
  Json::Value ask;
  ask["tenant_id"] = who.tenant_id;
  ask["action"] = t.action;
  ask["entry"] = entry->to_json();
  const auto answer = call_time_plugin(ctx.plugins, "command.transition", ask);
  if (answer.status != 200) {
    return respond(plugin_problem(answer.status, answer.error, answer.detail));
  }
  const Json::Value& verdict = answer.body;
  if (!verdict["allowed"].asBool()) {
    Json::Value extra;
    extra["decided_by"] = "time-approval";
    return respond(http::problem(409, verdict.get("type", "invalid-transition").asString(),
                                 "Refused", verdict["reason"].asString(), extra));
  }
  if (!verdict["changed"].asBool()) {
    Json::Value body = entry->to_json();
    body["changed"] = false;
    body["detail"] = verdict["detail"];
    return respond(http::Response::json(200, body));
  }

  TimeEntry after = *entry;
  std::string event;
  if (t.action == "reject") {
    after.status = "rejected";
    after.rejected_reason = t.reason;
    event = "time_entry.rejected";
  } else if (t.action == "unapprove") {
    after.status = "submitted";
    after.billed_minutes.reset();
    after.rate.reset();
    after.currency.reset();
    after.approved_by.reset();
    after.approved_at.reset();
    event = "time_entry.unapproved";
  } else {
    after.status = "submitted";
    after.rejected_reason.reset();
    if (t.minutes) after.minutes = *t.minutes;
    if (t.billable) after.billable = *t.billable;
    if (t.note) after.note = *t.note;
    if (t.work_type) after.work_type = *t.work_type;
    event = entry->status == "rejected" ? "time_entry.resubmitted" : "time_entry.updated";
  }
  commit(
      ctx, std::move(respond),
      [who, before = *entry, after, event, action = t.action](store::Tx& tx) mutable {
        after.version = before.version + 1;
        after.updated_at = now_rfc3339();
        const auto changed = tx.exec(
            "UPDATE time_entries SET status = ?, minutes = ?, billable = ?, note = ?, "
            "work_type = ?, billed_minutes = ?, rate = ?, currency = ?, approved_by = ?, "
            "approved_at = ?, rejected_reason = ?, version = ?, updated_at = ? WHERE id = ? "
            "AND tenant_id = ? AND status = ? AND version = ?",
            {after.status, after.minutes, int64_t{after.billable ? 1 : 0}, after.note,
             after.work_type,
             after.billed_minutes ? store::Value(*after.billed_minutes) : store::Value(nullptr),
             after.rate ? store::Value(*after.rate) : store::Value(nullptr),
             after.currency ? store::Value(*after.currency) : store::Value(nullptr),
             after.approved_by ? store::Value(*after.approved_by) : store::Value(nullptr),
             after.approved_at ? store::Value(*after.approved_at) : store::Value(nullptr),
             after.rejected_reason ? store::Value(*after.rejected_reason) : store::Value(nullptr),
             after.version, after.updated_at, before.id, who.tenant_id, before.status,
             before.version});
        if (changed != 1) {
          refuse(conflict("time entry " + before.id +
                          " changed meanwhile (approved, rejected or edited by someone "
                          "else); reload and retry"));
        }
        audit_time_entry(tx, who.tenant_id, who.token_id, "time_entry." + action, before, after);
        Json::Value payload = after.to_json();
        if (event == "time_entry.rejected") payload["reason"] = after.rejected_reason.value_or("");
        events::append(tx, {who.tenant_id, event, "time_entry", after.id, payload, who.token_id,
                            "ticket:" + after.ticket_id});
        Json::Value body = after.to_json();
        body["changed"] = true;
        return http::Response::json(200, body);
      });
}

void add_transitions(http::Router& router, const ApiContext& ctx) {
  router.add("POST", "/v1/time-entries/{id}/reject",
             [&ctx](const http::Request& req, const http::Params& params, http::Responder respond) {
               http::Response refusal;
               auto who = ctx.authorize(req, auth::Right::approve_time, &refusal);
               if (!who) return respond(refusal);
               auto body = json_body(req, &refusal);
               if (!body) return respond(refusal);
               Fields f(*body);
               f.only({"reason", "version"});
               auto reason = f.text("reason", true, 2000);
               auto version = f.integer("version", false, 1, INT64_MAX);
               if (!f.ok()) return respond(validation_failed(f.errors()));
               Transition t{"reject", version, *reason, {}, {}, {}, {}};
               run_transition(ctx, *who, params.at("id"), std::move(t), std::move(respond));
             });

  router.add("POST", "/v1/time-entries/{id}/unapprove",
             [&ctx](const http::Request& req, const http::Params& params, http::Responder respond) {
               http::Response refusal;
               auto who = ctx.authorize(req, auth::Right::approve_time, &refusal);
               if (!who) return respond(refusal);
               auto body = optional_body(req, &refusal);
               if (!body) return respond(refusal);
               Fields f(*body);
               f.only({"version"});
               auto version = f.integer("version", false, 1, INT64_MAX);
               if (!f.ok()) return respond(validation_failed(f.errors()));
               Transition t{"unapprove", version, "", {}, {}, {}, {}};
               run_transition(ctx, *who, params.at("id"), std::move(t), std::move(respond));
             });

  // Technicians correct their own time, so editing needs the right to register it.
  router.add("PATCH", "/v1/time-entries/{id}",
             [&ctx](const http::Request& req, const http::Params& params, http::Responder respond) {
               http::Response refusal;
               auto who = ctx.authorize(req, auth::Right::register_time, &refusal);
               if (!who) return respond(refusal);
               auto body = json_body(req, &refusal);
               if (!body) return respond(refusal);
               Fields f(*body);
               f.only({"minutes", "billable", "note", "work_type", "version"});
               Transition t{"edit", {}, "", {}, {}, {}, {}};
               t.minutes = f.integer("minutes", false, 1, 24 * 60);
               t.billable = f.boolean("billable", false);
               t.note = f.text("note", false, 5000);
               t.work_type = f.text("work_type", false, 100);
               t.version = f.integer("version", false, 1, INT64_MAX);
               if (f.ok() && !f.has("minutes") && !f.has("billable") && !f.has("note") &&
                   !f.has("work_type")) {
                 f.error("minutes", "give at least one of minutes, billable, note or work_type");
               }
               if (!f.ok()) return respond(validation_failed(f.errors()));
               run_transition(ctx, *who, params.at("id"), std::move(t), std::move(respond));
             });
}

}  // namespace

void add_time_approval_routes(http::Router& router, const ApiContext& ctx) {
  add_approve(router, ctx);
  add_transitions(router, ctx);
}

}  // namespace psahost::api
