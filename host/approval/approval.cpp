#include "approval/approval.hpp"

#include "audit/audit_log.hpp"
#include "auth/tokens.hpp"
#include "clients/client_record.hpp"
#include "core/clock.hpp"
#include "domain/fields.hpp"
#include "events/event_log.hpp"
#include "store/in_flight_write.hpp"
#include "store/json_column.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace psahost::approval {
namespace {

using domain::Refusal;
using domain::RefusalKind;
using store::from_text;
using store::to_text;
using tickets::entry_from_row;
using tickets::kTimeEntryColumns;
using tickets::load_time_entry;

// The bundled plugin's name, for refusals given when no plugin answered; a plugin is found by the
// hooks it handles (command.approve, command.transition), not by this id.
constexpr const char* kPluginName = "time-approval";
// Entries per command.approve call: large enough that a call's fixed costs are shared, small
// enough that one answer stays a small document.
constexpr std::size_t kBatch = 1000;
// Approvals per commit: each commit costs a sync of the WAL, and 5,000 approvals hold the writer
// for about a tenth of a second (bench/time_approval.cpp), short enough for other requests.
constexpr std::size_t kWriteRows = 5000;
// Ids per lookup; short lists are padded so one prepared statement serves every lookup.
constexpr std::size_t kLookup = 250;
constexpr std::size_t kMaxContextClients = 5000;

Json::Value optional_json(const std::optional<std::string>& v) {
  return v ? Json::Value(*v) : Json::Value();
}

store::Value optional_value(const std::optional<int64_t>& v) {
  return v ? store::Value(*v) : store::Value(nullptr);
}

store::Value optional_value(const std::optional<std::string>& v) {
  return v ? store::Value(*v) : store::Value(nullptr);
}

std::unordered_map<std::string, TimeEntry> load_entries(store::Store& store,
                                                        const std::string& tenant_id,
                                                        const std::vector<std::string>& ids) {
  // The tenant is checked on each row rather than in the WHERE: given both, SQLite's planner
  // (without statistics) prefers the tenant's index to 250 primary-key lookups, and scans all of
  // the tenant's entries once per lookup.
  std::string sql =
      std::string("SELECT ") + kTimeEntryColumns + ", tenant_id FROM time_entries WHERE id IN (?";
  for (std::size_t i = 1; i < kLookup; ++i) sql += ", ?";
  sql += ")";
  std::unordered_map<std::string, TimeEntry> out;
  out.reserve(ids.size());
  store.read([&](store::Tx& tx) {
    for (std::size_t first = 0; first < ids.size(); first += kLookup) {
      std::vector<store::Value> params;
      params.reserve(kLookup);
      for (std::size_t i = first; i < first + kLookup; ++i) {
        // Ids are never empty (a CHECK says so), so padding matches nothing.
        params.emplace_back(i < ids.size() ? ids[i] : std::string());
      }
      tx.each(sql, params, [&](const store::Row& r) {
        if (r.text(21) != tenant_id) return;  // another tenant's entry is not found
        TimeEntry e = entry_from_row(r);
        std::string id = e.id;
        out.emplace(std::move(id), std::move(e));
      });
    }
  });
  return out;
}

void refuse_with(ApprovalOutcome& r, const admission::Verdict& verdict) {
  r.outcome = "refused";
  r.type = verdict.type.empty() ? "admission-denied" : verdict.type;
  r.reason = verdict.reason;
  r.prompt = verdict.prompt;
  r.decided_by = verdict.decided_by;
}

// Asks the admission pipeline once about one client's entries; a denial refuses them all. The
// single route sends the entry itself, as the platform does. A bulk approval sends the group:
// {"client_id","entry_ids","minutes","billable_minutes"} (registered minutes summed), a few bytes
// per entry for each reviewer to parse. Which of the entries have a labour rate is then asked of
// the time-approval plugin entry by entry (command.approve), by the rules its review applies to
// a single entry.
bool admit(const TimeApprovalEnv& env, const ApprovalRequest& request,
           std::vector<ApprovalOutcome>& results, const std::vector<std::size_t>& group) {
  const TimeEntry& first = *results[group.front()].entry;
  Json::Value object;
  if (request.single) {
    object = first.to_json();
  } else {
    object["client_id"] = first.client_id;
    Json::Value& ids = object["entry_ids"] = Json::Value(Json::arrayValue);
    int64_t minutes = 0;
    int64_t billable = 0;
    for (std::size_t i : group) {
      const TimeEntry& e = *results[i].entry;
      ids.append(e.id);
      minutes += e.minutes;
      billable += e.billable ? e.minutes : 0;
    }
    object["minutes"] = static_cast<Json::Int64>(minutes);
    object["billable_minutes"] = static_cast<Json::Int64>(billable);
  }
  admission::Review review{auth::new_id("adm"), request.tenant_id, "time_entry.approve",
                           std::move(object),   Json::nullValue,   Json::nullValue};
  review.user["token_id"] = request.actor;
  const auto verdict = env.admission.review(review);
  if (!verdict.allowed) {
    for (std::size_t i : group) refuse_with(results[i], verdict);
  }
  return verdict.allowed;
}

struct Approval {
  std::size_t index;  // into the results
  std::optional<int64_t> billed_minutes;
  std::optional<int64_t> rate;
  std::optional<std::string> currency;
};

bool is_currency(const std::string& s) {
  return s.size() == 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Reads the plugin's decision about one entry; an answer the host cannot apply refuses the
// entry rather than writing nonsense.
std::optional<Approval> read_decision(const Json::Value& d, std::size_t index, ApprovalOutcome& r,
                                      const std::string& decider) {
  const TimeEntry& e = *r.entry;
  // Read defensively: a malformed answer must refuse the entry, not throw out of the batch.
  const auto text = [&](const char* name) {
    return d[name].isString() ? d[name].asString() : std::string();
  };
  if (!d.isObject() || text("id") != e.id || !d["approve"].isBool()) {
    r.outcome = "refused";
    r.type = "plugin-failed";
    r.reason = "the time-approval plugin gave no decision about time entry " + e.id;
    r.decided_by = decider;
    return std::nullopt;
  }
  if (!d["approve"].asBool()) {
    r.outcome = "refused";
    r.type = text("type").empty() ? "approval-refused" : text("type");
    r.reason = text("reason");
    r.prompt = d["prompt"].isObject() ? d["prompt"] : Json::Value();
    r.decided_by = decider;
    return std::nullopt;
  }
  Approval a{index, std::nullopt, std::nullopt, std::nullopt};
  if (e.billable) {
    const Json::Value& billed = d["billed_minutes"];
    const Json::Value& rate = d["rate"];
    const Json::Value& currency = d["currency"];
    if (!billed.isInt64() || billed.asInt64() < e.minutes || billed.asInt64() > 100'000 ||
        !rate.isInt64() || rate.asInt64() < 0 || !currency.isString() ||
        !is_currency(currency.asString())) {
      r.outcome = "refused";
      r.type = "plugin-failed";
      r.reason = "the time-approval plugin's decision about time entry " + e.id +
                 " has no valid billed_minutes, rate and currency";
      r.decided_by = decider;
      return std::nullopt;
    }
    a.billed_minutes = billed.asInt64();
    a.rate = rate.asInt64();
    a.currency = currency.asString();
    r.rate_source = text("rate_source");
  }
  return a;
}

// What the audit log keeps of an approval: the fields it changes, before and after. Written
// without building a Json::Value, because it runs twice for every approved entry.
std::string approval_audit(const TimeEntry& e) {
  const auto number = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("null");
  };
  const auto text = [](const std::optional<std::string>& v) {
    return v ? to_text(Json::Value(*v)) : std::string("null");
  };
  std::string out;
  out.reserve(160);
  out += "{\"status\":" + text(e.status) + ",\"billed_minutes\":" + number(e.billed_minutes);
  out += ",\"rate\":" + number(e.rate) + ",\"currency\":" + text(e.currency);
  out += ",\"approved_by\":" + text(e.approved_by) + ",\"approved_at\":" + text(e.approved_at);
  out += ",\"version\":" + std::to_string(e.version) + "}";
  return out;
}

// Writes a group of approvals inside one transaction, with an audit row and a
// time_entry.approved event each. Each UPDATE is guarded by status and version: an entry
// approved, edited or un-approved since it was read changes nothing and is reported as a
// conflict.
void apply_approvals(store::Tx& tx, const ApprovalRequest& request,
                     const std::vector<Approval>& approvals,
                     std::vector<ApprovalOutcome>& results) {
  const std::string now = now_rfc3339();
  for (const auto& a : approvals) {
    ApprovalOutcome& r = results[a.index];
    const TimeEntry& before = *r.entry;
    const auto changed = tx.exec(
        "UPDATE time_entries SET status = 'approved', billed_minutes = ?, rate = ?, currency = ?, "
        "approved_by = ?, approved_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND "
        "tenant_id = ? AND status = 'submitted' AND version = ? AND billed_externally IS NULL",
        {optional_value(a.billed_minutes), optional_value(a.rate), optional_value(a.currency),
         request.actor, now, now, before.id, request.tenant_id, before.version});
    if (changed != 1) {
      r.outcome = "conflict";
      r.type = "conflict";
      r.reason = "time entry " + before.id +
                 " changed while it was being approved (another approver or an edit); reload "
                 "and retry";
      r.rate_source.clear();
      r.entry = load_time_entry(tx, request.tenant_id, before.id);
      continue;
    }
    TimeEntry after = before;
    after.status = "approved";
    after.billed_minutes = a.billed_minutes;
    after.rate = a.rate;
    after.currency = a.currency;
    after.approved_by = request.actor;
    after.approved_at = now;
    after.version = before.version + 1;
    after.updated_at = now;
    audit::record(tx, {request.tenant_id, request.actor, "time_entry.approve", "time_entry",
                       after.id, approval_audit(before), approval_audit(after), now});
    events::append(tx, {request.tenant_id, "time_entry.approved", "time_entry", after.id,
                        after.to_json(), request.actor, "ticket:" + after.ticket_id});
    r.outcome = "approved";
    r.entry = std::move(after);
  }
}

}  // namespace

Json::Value approval_context(store::Tx& tx, const std::string& tenant_id,
                             const std::vector<std::string>& client_ids) {
  // The default labour product is the tenant's, the same for every client of the batch.
  std::string labour_sku;
  Json::Value labour_prices;
  if (auto p = tx.query_one(
          "SELECT sku, prices FROM products WHERE tenant_id = ? AND default_labour = 1 AND "
          "pricing = 'per_hour' ORDER BY sku LIMIT 1",
          {tenant_id})) {
    labour_sku = p->text(0);
    labour_prices = from_text(p->text(1));
  }
  Json::Value out;
  Json::Value& clients = out["clients"] = Json::Value(Json::objectValue);
  for (const auto& id : client_ids) {
    if (clients.isMember(id)) continue;
    Json::Value& c = clients[id];
    const auto client = clients::load_client(tx, tenant_id, id);
    c["exists"] = client.has_value();
    if (!client) continue;
    c["name"] = client->name;
    const std::string currency = client->billing ? client->billing->currency : "";
    // Without billing info there is no roundup to give; the plugin applies its own default.
    c["roundup_minutes"] =
        client->billing ? Json::Value(client->billing->roundup_minutes) : Json::Value();
    c["currency"] = currency.empty() ? Json::Value() : Json::Value(currency);
    Json::Value& parts = c["labour_parts"] = Json::Value(Json::arrayValue);
    tx.each(
        "SELECT k.id, p.sku, p.price, k.currency, COALESCE(p.start_date, k.start_date), "
        "COALESCE(p.end_date, k.end_date) FROM contracts k JOIN contract_parts p ON "
        "p.contract_id = k.id JOIN products d ON d.tenant_id = k.tenant_id AND d.sku = p.sku "
        "WHERE k.tenant_id = ? AND k.client_id = ? AND k.status = 'active' AND "
        "d.pricing = 'per_hour' AND p.price IS NOT NULL ORDER BY k.start_date, k.id, p.id",
        {tenant_id, id}, [&](const store::Row& r) {
          Json::Value part;
          part["contract_id"] = r.text(0);
          part["sku"] = r.text(1);
          part["rate"] = static_cast<Json::Int64>(r.integer(2));
          part["currency"] = r.text(3);
          part["from"] = optional_json(r.optional_text(4));
          part["to"] = optional_json(r.optional_text(5));
          parts.append(std::move(part));
        });
    if (labour_sku.empty()) {
      c["default_labour"] = Json::Value();
    } else {
      c["default_labour"]["sku"] = labour_sku;
      const Json::Value& price = currency.empty() ? Json::Value() : labour_prices[currency];
      c["default_labour"]["rate"] = price.isInt64() ? price : Json::Value();
    }
  }
  return out;
}

void register_time_host_calls(plugins::HostCalls& calls, store::Store& store) {
  calls.add("time.approval_context", "time_entries:read",
            [&store](const plugins::CallerInfo&, const Json::Value& request) {
              const Json::Value& tenant = request["tenant_id"];
              if (!tenant.isString() || tenant.asString().empty()) {
                return plugins::CallResult::error(PSA_INVALID_ARGUMENT, "tenant_id is required");
              }
              const Json::Value& ids = request["client_ids"];
              if (!ids.isArray() || ids.size() > kMaxContextClients) {
                return plugins::CallResult::error(PSA_INVALID_ARGUMENT,
                                                  "client_ids must be a list of at most " +
                                                      std::to_string(kMaxContextClients) + " ids");
              }
              std::vector<std::string> client_ids;
              client_ids.reserve(ids.size());
              for (const auto& id : ids) {
                if (!id.isString() || id.asString().empty()) {
                  return plugins::CallResult::error(PSA_INVALID_ARGUMENT,
                                                    "client_ids must hold non-empty strings");
                }
                client_ids.push_back(id.asString());
              }
              Json::Value out;
              store.read([&](store::Tx& tx) {
                out = approval_context(tx, tenant.asString(), client_ids);
              });
              return plugins::CallResult::ok(std::move(out));
            });
}

std::vector<std::string> select_submitted(store::Tx& tx, const std::string& tenant_id,
                                          const EntryFilter& filter) {
  std::string sql =
      "SELECT id FROM time_entries WHERE tenant_id = ? AND status = 'submitted' AND "
      "billed_externally IS NULL";
  std::vector<store::Value> params{tenant_id};
  if (filter.client_id) {
    sql += " AND client_id = ?";
    params.emplace_back(*filter.client_id);
  }
  if (filter.ticket_id) {
    sql += " AND ticket_id = ?";
    params.emplace_back(*filter.ticket_id);
  }
  if (filter.from) {
    sql += " AND work_date >= ?";
    params.emplace_back(*filter.from);
  }
  if (filter.to) {
    sql += " AND work_date <= ?";
    params.emplace_back(*filter.to);
  }
  sql += " AND id > ? ORDER BY id LIMIT ?";
  params.emplace_back(filter.after);
  params.emplace_back(filter.limit);
  std::vector<std::string> ids;
  tx.each(sql, params, [&](const store::Row& r) { ids.push_back(r.text(0)); });
  return ids;
}

namespace {

// The loaded, enabled plugin, or (in *why) why there is none.
std::shared_ptr<plugins::Plugin> time_plugin(const plugins::PluginRegistry& registry,
                                             std::string_view hook, Refusal* why) {
  const auto found = registry.require(hook);
  if (found.plugin) return found.plugin;
  if (found.enabled_ids.size() > 1) {
    *why = Refusal::conflict("plugin-ambiguous",
                             "more than one plugin handles " + std::string(hook) + " (" +
                                 found.enabled_ids[0] + ", " + found.enabled_ids[1] +
                                 "); exactly one may approve time, so disable the others");
  } else if (!found.disabled_id.empty()) {
    *why = Refusal::conflict("plugin-disabled", "the " + found.disabled_id +
                                                    " plugin is disabled; enable it with POST "
                                                    "/v1/plugins/" +
                                                    found.disabled_id + "/enable");
  } else {
    *why = Refusal::make(RefusalKind::unavailable, "plugin-unavailable",
                         std::string("the ") + kPluginName + " plugin is not loaded");
  }
  return nullptr;
}

}  // namespace

domain::Result<PluginAnswer> call_time_plugin(const plugins::PluginRegistry& registry,
                                              std::string_view hook, const Json::Value& request) {
  Refusal why;
  const auto plugin = time_plugin(registry, hook, &why);
  if (!plugin) return why;
  auto result = plugin->call(hook, request);
  if (!result.ok() || !result.body.isObject()) {
    return Refusal::make(
        RefusalKind::failed, "plugin-failed",
        "the " + plugin->id() + " plugin failed: " +
            (result.ok() ? std::string("its answer is not an object") : result.error_message()));
  }
  return PluginAnswer{plugin->id(), std::move(result.body)};
}

namespace {

// Asks the time-approval plugin about admitted entries (one command.approve call) and adds the
// approvals it decides to *approvals; the others are refused with its reason.
void decide(const TimeApprovalEnv& env, const ApprovalRequest& request,
            const std::vector<std::size_t>& admitted, std::vector<ApprovalOutcome>& results,
            std::vector<Approval>& approvals) {
  Json::Value ask;
  ask["tenant_id"] = request.tenant_id;
  Json::Value& entries = ask["entries"] = Json::Value(Json::arrayValue);
  for (std::size_t i : admitted) {
    const TimeEntry& e = *results[i].entry;
    Json::Value v;
    v["id"] = e.id;
    v["client_id"] = e.client_id;
    v["minutes"] = static_cast<Json::Int64>(e.minutes);
    v["billable"] = e.billable;
    v["work_type"] = e.work_type;
    v["work_date"] = e.work_date;
    entries.append(std::move(v));
  }
  const auto answer = call_time_plugin(env.plugins, "command.approve", ask);
  const Json::Value& decisions = answer ? answer->body["decisions"] : Json::Value::nullSingleton();
  const std::string decider = answer ? answer->plugin_id : kPluginName;
  for (std::size_t k = 0; k < admitted.size(); ++k) {
    ApprovalOutcome& r = results[admitted[k]];
    if (!answer || !decisions.isArray()) {
      r.outcome = "refused";
      r.type = "plugin-failed";
      r.reason =
          !answer ? answer.refusal().detail : "the time-approval plugin's answer has no decisions";
      r.decided_by = decider;
      continue;
    }
    if (auto a =
            read_decision(decisions[static_cast<Json::ArrayIndex>(k)], admitted[k], r, decider)) {
      approvals.push_back(*a);
    }
  }
}

}  // namespace

ApprovalRun approve_time_entries(const TimeApprovalEnv& env, const ApprovalRequest& request) {
  ApprovalRun run;
  std::vector<std::string> ids;
  {
    std::unordered_set<std::string> seen;
    for (const auto& id : request.ids) {
      if (seen.insert(id).second) ids.push_back(id);
    }
  }
  // Without the plugin nothing can be decided; say so before anything else is looked at.
  if (Refusal why; !time_plugin(env.plugins, "command.approve", &why)) {
    run.refusal = std::move(why);
    return run;
  }
  auto loaded = load_entries(env.store, request.tenant_id, ids);
  run.results.resize(ids.size());
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ApprovalOutcome& r = run.results[i];
    r.id = ids[i];
    auto found = loaded.find(ids[i]);
    if (found == loaded.end()) {
      r.outcome = "not_found";
      r.type = "not-found";
      r.reason = "time entry " + ids[i] + " does not exist";
      continue;
    }
    r.entry = std::move(found->second);
    const TimeEntry& e = *r.entry;
    if (request.expected_version && e.version != *request.expected_version) {
      r.outcome = "conflict";
      r.type = "conflict";
      r.reason = "time entry " + e.id + " is at version " + std::to_string(e.version) + ", not " +
                 std::to_string(*request.expected_version) +
                 "; someone changed it meanwhile; reload and retry";
    } else if (e.billed_externally) {
      // Billed in the PSA already: approving it here is the road to billing it twice.
      r.outcome = "refused";
      r.type = "billed-externally";
      r.reason = "time entry " + e.id + " was billed in " +
                 from_text(*e.billed_externally)["system"].asString() +
                 " already; it is never approved or invoiced here";
    } else if (e.status == "approved") {
      r.outcome = "already_approved";
      r.reason = "time entry " + e.id + " was already approved";
    } else if (e.status != "submitted") {
      r.outcome = "refused";
      r.type = e.status == "invoiced" ? "entry-invoiced" : "invalid-transition";
      r.reason = "time entry " + e.id + " is " + e.status +
                 (e.status == "rejected" ? "; edit it to resubmit it before approving it"
                                         : "; invoiced time never changes");
    } else {
      candidates.push_back(i);
    }
  }
  // Grouped by client so that each batch asks the admission pipeline once per client.
  std::stable_sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
    return run.results[a].entry->client_id < run.results[b].entry->client_id;
  });

  // Decided in batches of kBatch entries (one plugin call each) and written in groups of up to
  // kWriteRows approvals (one commit each). A group is written while the next one is decided:
  // groups touch disjoint results, and at most one write is in flight.
  store::InFlightWrite writing;
  const auto written = [&] {
    if (writing.finish() && env.events_committed) env.events_committed();
  };
  std::vector<Approval> approvals;
  const auto write = [&] {
    written();
    writing.start(env.store, [&run, &request, group = std::move(approvals)](store::Tx& tx) {
      apply_approvals(tx, request, group, run.results);
    });
    approvals.clear();
  };
  for (std::size_t start = 0; start < candidates.size(); start += kBatch) {
    const std::size_t end = std::min(candidates.size(), start + kBatch);
    std::vector<std::size_t> admitted;
    for (std::size_t g = start; g < end;) {
      const std::string& client = run.results[candidates[g]].entry->client_id;
      std::size_t h = g;
      while (h < end && run.results[candidates[h]].entry->client_id == client) ++h;
      const std::vector<std::size_t> group(candidates.begin() + static_cast<long>(g),
                                           candidates.begin() + static_cast<long>(h));
      if (admit(env, request, run.results, group)) {
        admitted.insert(admitted.end(), group.begin(), group.end());
      }
      g = h;
    }
    if (!admitted.empty()) decide(env, request, admitted, run.results, approvals);
    if (approvals.size() >= kWriteRows) write();
  }
  if (!approvals.empty()) write();
  written();
  return run;
}

domain::Result<Selection> select_page(store::Store& store, const std::string& tenant_id,
                                      const EntryFilter& filter) {
  std::optional<Refusal> missing;
  Selection out;
  store.read([&](store::Tx& tx) {
    if (filter.client_id && !clients::load_client(tx, tenant_id, *filter.client_id)) {
      missing = Refusal::not_found("client", *filter.client_id);
      return;
    }
    if (filter.ticket_id && !tx.query_one("SELECT 1 FROM tickets WHERE id = ? AND tenant_id = ?",
                                          {*filter.ticket_id, tenant_id})) {
      missing = Refusal::not_found("ticket", *filter.ticket_id);
      return;
    }
    // One more than the limit says whether there is a next page.
    EntryFilter probe = filter;
    probe.limit = filter.limit + 1;
    out.ids = select_submitted(tx, tenant_id, probe);
  });
  if (missing) return *missing;
  out.more = static_cast<int64_t>(out.ids.size()) > filter.limit;
  if (out.more) out.ids.resize(static_cast<std::size_t>(filter.limit));
  return out;
}

domain::Result<PlannedTransition> plan_transition(const TimeApprovalEnv& env,
                                                  const std::string& tenant_id,
                                                  const std::string& id, const Transition& t) {
  std::optional<TimeEntry> entry;
  env.store.read([&](store::Tx& tx) { entry = load_time_entry(tx, tenant_id, id); });
  if (!entry) return Refusal::not_found("time entry", id);
  if (t.version && *t.version != entry->version) {
    return Refusal::conflict("conflict", "time entry " + id + " is at version " +
                                             std::to_string(entry->version) + ", not " +
                                             std::to_string(*t.version) + "; reload and retry");
  }
  Json::Value ask;
  ask["tenant_id"] = tenant_id;
  ask["action"] = t.action;
  ask["entry"] = entry->to_json();
  const auto answer = call_time_plugin(env.plugins, "command.transition", ask);
  if (!answer) return answer.refusal();
  const Json::Value& verdict = answer->body;
  if (!verdict["allowed"].asBool()) {
    auto r =
        Refusal::make(RefusalKind::refused, verdict.get("type", "invalid-transition").asString(),
                      verdict["reason"].asString());
    r.extra["decided_by"] = answer->plugin_id;
    return r;
  }
  PlannedTransition plan{*entry, *entry, t.action, "", true, Json::Value()};
  if (!verdict["changed"].asBool()) {
    plan.changed = false;
    plan.detail = verdict["detail"];
    return plan;
  }
  TimeEntry& after = plan.after;
  if (t.action == "reject") {
    after.status = "rejected";
    after.rejected_reason = t.reason;
    plan.event = "time_entry.rejected";
  } else if (t.action == "unapprove") {
    after.status = "submitted";
    after.billed_minutes.reset();
    after.rate.reset();
    after.currency.reset();
    after.approved_by.reset();
    after.approved_at.reset();
    plan.event = "time_entry.unapproved";
  } else {
    after.status = "submitted";
    after.rejected_reason.reset();
    if (t.minutes) after.minutes = *t.minutes;
    if (t.billable) after.billable = *t.billable;
    if (t.note) after.note = *t.note;
    if (t.work_type) after.work_type = *t.work_type;
    plan.event = entry->status == "rejected" ? "time_entry.resubmitted" : "time_entry.updated";
  }
  return plan;
}

domain::Result<TimeEntry> apply_transition(store::Tx& tx, const std::string& tenant_id,
                                           const std::string& actor, PlannedTransition plan) {
  const TimeEntry& before = plan.before;
  TimeEntry& after = plan.after;
  after.version = before.version + 1;
  after.updated_at = now_rfc3339();
  const auto changed = tx.exec(
      "UPDATE time_entries SET status = ?, minutes = ?, billable = ?, note = ?, "
      "work_type = ?, billed_minutes = ?, rate = ?, currency = ?, approved_by = ?, "
      "approved_at = ?, rejected_reason = ?, version = ?, updated_at = ? WHERE id = ? "
      "AND tenant_id = ? AND status = ? AND version = ?",
      {after.status, after.minutes, int64_t{after.billable ? 1 : 0}, after.note, after.work_type,
       optional_value(after.billed_minutes), optional_value(after.rate),
       optional_value(after.currency), optional_value(after.approved_by),
       optional_value(after.approved_at), optional_value(after.rejected_reason), after.version,
       after.updated_at, before.id, tenant_id, before.status, before.version});
  if (changed != 1) {
    return Refusal::conflict("conflict", "time entry " + before.id +
                                             " changed meanwhile (approved, rejected or edited "
                                             "by someone else); reload and retry");
  }
  audit::record(tx, {tenant_id, actor, "time_entry." + plan.action, "time_entry", after.id,
                     to_text(before.audit_json()), to_text(after.audit_json()), after.updated_at});
  Json::Value payload = after.to_json();
  if (plan.event == "time_entry.rejected") payload["reason"] = after.rejected_reason.value_or("");
  events::append(tx, {tenant_id, plan.event, "time_entry", after.id, payload, actor,
                      "ticket:" + after.ticket_id});
  return std::move(after);
}

domain::Result<Transition> read_edit(const Json::Value& body) {
  domain::Fields f(body);
  f.only({"minutes", "billable", "note", "work_type", "version"});
  Transition t{"edit", {}, "", {}, {}, {}, {}};
  t.minutes = f.integer("minutes", false, 1, 24 * 60);
  t.billable = f.boolean("billable", false);
  t.note = f.text("note", false, 5000);
  t.work_type = f.text("work_type", false, 100);
  t.version = f.integer("version", false, 1, INT64_MAX);
  if (f.ok() && !f.has("minutes") && !f.has("billable") && !f.has("note") && !f.has("work_type")) {
    f.error("minutes", "give at least one of minutes, billable, note or work_type");
  }
  if (!f.ok()) return f.to_refusal();
  return t;
}

domain::Result<Transition> read_reject(const Json::Value& body) {
  domain::Fields f(body);
  f.only({"reason", "version"});
  auto reason = f.text("reason", true, 2000);
  auto version = f.integer("version", false, 1, INT64_MAX);
  if (!f.ok()) return f.to_refusal();
  return Transition{"reject", version, *reason, {}, {}, {}, {}};
}

std::optional<domain::Refusal> refusal_of(const ApprovalOutcome& r) {
  if (r.outcome == "approved" || r.outcome == "already_approved") return std::nullopt;
  if (r.outcome == "not_found") return domain::Refusal::not_found("time entry", r.id);
  if (r.outcome == "conflict") {
    auto refusal = domain::Refusal::conflict("conflict", r.reason);
    if (r.entry) refusal.extra["current_version"] = static_cast<Json::Int64>(r.entry->version);
    return refusal;
  }
  auto refusal = domain::Refusal::make(
      r.type == "plugin-failed" ? domain::RefusalKind::failed : domain::RefusalKind::refused,
      r.type, r.reason);
  refusal.prompt = r.prompt;
  if (!r.decided_by.empty()) refusal.extra["decided_by"] = r.decided_by;
  return refusal;
}

}  // namespace psahost::approval
