#include "billing/numbering_review.hpp"

#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "domain/billing_calendar.hpp"
#include "events/event_log.hpp"
#include "store/json_column.hpp"

#include <algorithm>

namespace psahost::billing {
namespace {

using domain::Refusal;
using domain::RefusalKind;

Refusal problem(RefusalKind kind, std::string slug, std::string detail,
                Json::Value errors = Json::Value(), Json::Value prompt = Json::Value()) {
  if (kind == RefusalKind::invalid) {
    std::vector<domain::FieldError> fields;
    for (const auto& e : errors) fields.push_back({e["field"].asString(), e["message"].asString()});
    return Refusal::invalid(std::move(fields), std::move(detail));
  }
  Refusal r = Refusal::make(kind, std::move(slug), std::move(detail));
  if (!errors.isNull()) r.extra["errors"] = std::move(errors);
  r.prompt = std::move(prompt);
  return r;
}

Json::Value field_errors(const std::string& field, const std::string& message) {
  Json::Value list(Json::arrayValue);
  Json::Value e;
  e["field"] = field;
  e["message"] = message;
  list.append(e);
  return list;
}

// Length-prefixed, so that no two different settings give the same text.
std::string digest_of(const SeriesSettings& s) {
  std::string text;
  for (const std::string& part :
       {s.billing_entity, s.prefix, s.pattern, s.reset, std::to_string(s.next_number)}) {
    text += std::to_string(part.size()) + ":" + part + ";";
  }
  return crypto::sha256_hex(text);
}

// What numbering.allocate would answer for the settings and counter today, without taking it.
std::optional<Json::Value> preview(plugins::Plugin& plugin, const SeriesSettings& settings,
                                   const Json::Value& counter, const std::string& today,
                                   std::string* error) {
  Json::Value ask;
  ask["series"] = settings.to_json();
  ask["series"].removeMember("next_number");
  ask["counter"] = counter;
  ask["issue_date"] = today;
  auto answer = plugin.call("numbering.allocate", ask);
  if (!answer.ok() || !answer.body.isObject() || !answer.body["number"].isString() ||
      !answer.body["seq"].isInt64()) {
    *error = answer.ok() ? "its answer has no number" : answer.error_message();
    return std::nullopt;
  }
  Json::Value next;
  next["number"] = answer.body["number"];
  next["seq"] = answer.body["seq"];
  next["year"] = answer.body["year"];
  return next;
}

store::Value year_value(const Json::Value& year) {
  return year.isInt() ? store::Value(int64_t{year.asInt()}) : store::Value(nullptr);
}

// The highest number issued from the series under the same counter (the same year when it resets
// yearly), or null.
Json::Value last_issued(store::Tx& tx, const std::string& tenant_id, const std::string& series,
                        const Json::Value& year) {
  const auto r = tx.query_one(
      "SELECT number, seq, issue_date FROM invoices WHERE tenant_id = ? AND series = ? AND "
      "seq_year IS ? ORDER BY seq DESC LIMIT 1",
      {tenant_id, series, year_value(year)});
  if (!r) return Json::Value();
  Json::Value v;
  v["number"] = r->text(0);
  v["seq"] = static_cast<Json::Int64>(r->integer(1));
  v["issue_date"] = r->text(2);
  return v;
}

bool number_taken(store::Tx& tx, const std::string& tenant_id, const std::string& number) {
  return tx
      .query_one("SELECT 1 FROM invoices WHERE tenant_id = ? AND number = ?", {tenant_id, number})
      .has_value();
}

// The proposal and the collisions, from the next number, ours and the accounting systems'.
void align(NumberingReview& r, bool next_taken) {
  const int64_t next = r.next["seq"].asInt64();
  int64_t proposed = next;
  const auto add = [&r](const std::string& field, const std::string& message) {
    Json::Value e;
    e["field"] = field;
    e["message"] = message;
    r.collisions.append(e);
  };
  if (!r.last_issued.isNull()) {
    const int64_t ours = r.last_issued["seq"].asInt64();
    proposed = std::max(proposed, ours + 1);
    if (next <= ours) {
      add("next_number", "invoice " + r.last_issued["number"].asString() +
                             " was already issued here; the next number must be above " +
                             std::to_string(ours));
    }
  }
  if (next_taken) {
    add("next_number", "invoice " + r.next["number"].asString() + " was already issued here");
  }
  for (const auto& a : r.accounting) {
    if (!a.report.last_number || !a.report.error.empty()) continue;
    if (!a.matches) {
      add("pattern", a.report.system + "'s last invoice number " + *a.report.last_number +
                         " does not follow the pattern " + r.series.settings.pattern +
                         ", so the numbers would not line up; change the pattern to match it");
      continue;
    }
    if (!a.in_scope) continue;
    proposed = std::max(proposed, *a.seq + 1);
    if (next <= *a.seq) {
      add("next_number", a.report.system + " already has invoice " + *a.report.last_number +
                             "; the next number must be above " + std::to_string(*a.seq));
    }
  }
  r.proposed_next_number = proposed;
}

// Reads a's number with the series' pattern (command.parse_number).
void read_back(plugins::Plugin& plugin, const NumberingReview& r, AccountingAlignment& a) {
  if (!a.report.last_number) return;
  Json::Value ask;
  ask["settings"] = r.series.settings.to_json();
  ask["number"] = *a.report.last_number;
  const auto answer = plugin.call("command.parse_number", ask);
  if (!answer.ok() || !answer.body.isObject()) {
    a.report.error = "the numbering plugin could not read the number: " + answer.error_message();
    return;
  }
  a.matches = answer.body["matches"].asBool() && answer.body["seq"].isInt64();
  if (!a.matches) return;
  a.seq = answer.body["seq"].asInt64();
  if (answer.body["year"].isInt()) a.year = answer.body["year"].asInt();
  // Under a yearly reset an older year's numbers no longer constrain the counter; a number
  // whose year cannot be told is taken to count with it, which can only propose a higher one.
  const Json::Value& year = r.next["year"];
  a.in_scope = !year.isInt() || !a.year || *a.year >= year.asInt();
}

std::optional<Json::Value> plugin_defaults(plugins::Plugin& plugin, std::string* error) {
  const auto answer = plugin.call("command.defaults", Json::Value(Json::objectValue));
  if (!answer.ok() || !SeriesSettings::from_json(answer.body)) {
    *error = answer.ok() ? "its defaults are malformed" : answer.error_message();
    return std::nullopt;
  }
  return answer.body;
}

}  // namespace

SeriesSettings NumberingReview::effective() const {
  SeriesSettings s = series.settings;
  s.next_number = next["seq"].asInt64();
  return s;
}

Json::Value NumberingReview::to_json() const {
  Json::Value v;
  v["billing_entity"] = billing_entity;
  v["series"] = series.settings.billing_entity;
  const SeriesSettings s = effective();
  v["prefix"] = s.prefix;
  v["pattern"] = s.pattern;
  v["reset"] = s.reset;
  v["next_number"] = static_cast<Json::Int64>(s.next_number);
  v["next_invoice_number"] = next["number"];
  v["configured"] = series.stored;
  v["verified"] = series.verified();
  v["verified_at"] = series.verified_at ? Json::Value(*series.verified_at) : Json::Value();
  v["verified_by"] = series.verified_by ? Json::Value(*series.verified_by) : Json::Value();
  v["verified_settings"] = series.verified_settings;
  v["last_issued"] = last_issued;
  if (accounting_asked) {
    Json::Value& list = v["accounting"] = Json::Value(Json::arrayValue);
    for (const auto& a : accounting) {
      Json::Value item;
      item["plugin_id"] = a.report.plugin_id;
      item["connection"] = a.report.connection;
      item["system"] = a.report.system;
      item["last_number"] =
          a.report.last_number ? Json::Value(*a.report.last_number) : Json::Value();
      item["matches_pattern"] = a.matches;
      item["seq"] = a.seq ? Json::Value(static_cast<Json::Int64>(*a.seq)) : Json::Value();
      item["year"] = a.year ? Json::Value(*a.year) : Json::Value();
      item["error"] = a.report.error.empty() ? Json::Value() : Json::Value(a.report.error);
      list.append(std::move(item));
    }
  }
  v["proposed_next_number"] = static_cast<Json::Int64>(proposed_next_number);
  v["collisions"] = collisions;
  v["settings_digest"] = settings_digest;
  if (!series.verified()) {
    v["prompt"]["action"] = "verify_invoice_numbering";
    v["prompt"]["href"] = "/v1/invoice-numbering/verify";
    v["prompt"]["billing_entity"] = series.settings.billing_entity;
  }
  return v;
}

domain::Result<NumberingReview> review_numbering(const NumberingEnv& env,
                                                 const auth::Principal& who,
                                                 const std::string& billing_entity,
                                                 bool ask_accounting) {
  const std::string& tenant_id = who.tenant_id;
  const auto numbering = find_numbering_plugin(env.plugins);
  if (!numbering) return numbering.refusal();
  plugins::Plugin& plugin = **numbering;

  NumberingReview r;
  r.billing_entity = billing_entity;
  std::optional<Series> series;
  env.store.read([&](store::Tx& tx) {
    series = load_series(tx, tenant_id, billing_entity);
    if (!series && !billing_entity.empty()) series = load_series(tx, tenant_id, "");
  });
  std::string error;
  if (series) {
    r.series = *series;
  } else {
    const auto defaults = plugin_defaults(plugin, &error);
    if (!defaults)
      return problem(RefusalKind::failed, "plugin-failed", "the numbering plugin failed: " + error);
    r.series.settings = *SeriesSettings::from_json(*defaults);
    r.series.settings.billing_entity = "";
  }
  const std::string today = domain::format_date(domain::today_utc());
  const auto next = preview(plugin, r.series.settings, r.series.counter(), today, &error);
  if (!next) {
    return problem(RefusalKind::failed, "plugin-failed",
                   "the numbering plugin cannot number invoices with these settings: " + error);
  }
  r.next = *next;
  bool taken = false;
  env.store.read([&](store::Tx& tx) {
    r.last_issued = last_issued(tx, tenant_id, r.series.settings.billing_entity, r.next["year"]);
    taken = number_taken(tx, tenant_id, r.next["number"].asString());
  });
  if (ask_accounting) {
    r.accounting_asked = true;
    for (auto& report : ask_accounting_last_numbers(env.plugins, env.store, tenant_id)) {
      AccountingAlignment a;
      a.report = std::move(report);
      read_back(plugin, r, a);
      r.accounting.push_back(std::move(a));
    }
  }
  align(r, taken);
  r.settings_digest = digest_of(r.effective());
  return r;
}

domain::Result<NumberingReview> update_numbering(const NumberingEnv& env,
                                                 const auth::Principal& who,
                                                 const SeriesSettings& wanted) {
  const std::string& tenant_id = who.tenant_id;
  const std::string& actor = who.token_id;
  const auto numbering = find_numbering_plugin(env.plugins);
  if (!numbering) return numbering.refusal();
  plugins::Plugin& plugin = **numbering;
  const std::string today = domain::format_date(domain::today_utc());

  Json::Value check;
  check["settings"] = wanted.to_json();
  check["issue_date"] = today;
  const auto checked = plugin.call("command.check_settings", check);
  if (!checked.ok() || !checked.body["errors"].isArray()) {
    return problem(RefusalKind::failed, "plugin-failed",
                   "the numbering plugin failed: " + checked.error_message());
  }
  if (!checked.body["errors"].empty()) {
    return problem(RefusalKind::invalid, "validation-failed", "", checked.body["errors"]);
  }

  std::optional<Series> own;
  env.store.read([&](store::Tx& tx) { own = load_series(tx, tenant_id, wanted.billing_entity); });
  // The counter moves only when next_number differs from what the stored counter gives today
  // under the new settings: a PUT of what GET showed changes nothing.
  Json::Value counter;
  bool counter_changes = true;
  std::string error;
  if (own) {
    const auto kept = preview(plugin, wanted, own->counter(), today, &error);
    if (!kept)
      return problem(RefusalKind::failed, "plugin-failed", "the numbering plugin failed: " + error);
    counter_changes = (*kept)["seq"].asInt64() != wanted.next_number;
    counter = own->counter();
  }
  if (counter_changes) {
    counter["next"] = static_cast<Json::Int64>(wanted.next_number);
    counter["year"] = Json::Value();
  }
  const bool settings_change = !own || own->settings.prefix != wanted.prefix ||
                               own->settings.pattern != wanted.pattern ||
                               own->settings.reset != wanted.reset;
  if (!counter_changes && !settings_change) {
    return review_numbering(env, who, wanted.billing_entity, false);
  }
  const auto next = preview(plugin, wanted, counter, today, &error);
  if (!next)
    return problem(RefusalKind::failed, "plugin-failed", "the numbering plugin failed: " + error);

  std::optional<Refusal> refused;
  env.store.write([&](store::Tx& tx) {
    const auto now_series = load_series(tx, tenant_id, wanted.billing_entity);
    if (now_series.has_value() != own.has_value() || (own && now_series->version != own->version)) {
      refused = problem(RefusalKind::conflict, "conflict",
                        "the numbering settings changed meanwhile; look at them again and retry");
      return;
    }
    const Json::Value ours = last_issued(tx, tenant_id, wanted.billing_entity, (*next)["year"]);
    if (!ours.isNull() && ours["seq"].asInt64() >= (*next)["seq"].asInt64()) {
      refused = problem(RefusalKind::invalid, "validation-failed", "",
                        field_errors("next_number", "invoice " + ours["number"].asString() +
                                                        " was already issued; the next number "
                                                        "must be above " +
                                                        ours["seq"].asString()));
      return;
    }
    if (number_taken(tx, tenant_id, (*next)["number"].asString())) {
      refused = problem(RefusalKind::invalid, "validation-failed", "",
                        field_errors("next_number", "invoice " + (*next)["number"].asString() +
                                                        " was already issued"));
      return;
    }
    const std::string now = now_rfc3339();
    const store::Value next_seq = counter["next"].asInt64();
    const store::Value seq_year = year_value(counter["year"]);
    // Any change clears the verification: what was verified is no longer what numbers invoices.
    tx.exec(
        "INSERT INTO invoice_series (tenant_id, billing_entity, prefix, pattern, reset, next_seq, "
        "seq_year, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
        "(tenant_id, billing_entity) DO UPDATE SET prefix = excluded.prefix, pattern = "
        "excluded.pattern, reset = excluded.reset, next_seq = excluded.next_seq, seq_year = "
        "excluded.seq_year, verified_at = NULL, verified_by = NULL, version = version + 1, "
        "updated_at = excluded.updated_at",
        {tenant_id, wanted.billing_entity, wanted.prefix, wanted.pattern, wanted.reset, next_seq,
         seq_year, now, now});
    Json::Value before;
    if (own) {
      before = own->settings.to_json();
      before["verified"] = own->verified();
    }
    Json::Value after = wanted.to_json();
    after["next_number"] = (*next)["seq"];
    after["verified"] = false;
    audit::record(tx, {tenant_id, actor, "invoice_numbering.update", "invoice_series",
                       wanted.billing_entity, audit::json(before), audit::json(after)});
    Json::Value payload = after;
    payload["next_invoice_number"] = (*next)["number"];
    payload["was_verified"] = own && own->verified();
    events::append(tx, {tenant_id, "invoice_numbering.updated", "invoice_series",
                        wanted.billing_entity, payload, actor, ""});
  });
  if (refused) return *refused;
  return review_numbering(env, who, wanted.billing_entity, false);
}

domain::Result<NumberingReview> verify_numbering(
    const NumberingEnv& env, const auth::Principal& who, const std::string& billing_entity,
    const std::optional<std::string>& expected_digest) {
  const std::string& tenant_id = who.tenant_id;
  const std::string& actor = who.token_id;
  auto reviewed = review_numbering(env, who, billing_entity, true);
  if (!reviewed) return reviewed;
  NumberingReview& r = *reviewed;
  const std::string series_entity = r.series.settings.billing_entity;
  if (expected_digest && *expected_digest != r.settings_digest) {
    return problem(RefusalKind::conflict, "conflict",
                   "the numbering settings are no longer those you looked at; look again and "
                   "verify what is shown");
  }
  for (const auto& a : r.accounting) {
    if (a.report.error.empty()) continue;
    Json::Value prompt;
    prompt["action"] = "retry_verification";
    prompt["plugin_id"] = a.report.plugin_id;
    return problem(RefusalKind::upstream, "accounting-unavailable",
                   a.report.system + " could not say its last invoice number (" + a.report.error +
                       "); the numbering cannot be checked against it, so it is not verified",
                   Json::Value(), prompt);
  }
  if (!r.collisions.empty()) {
    Json::Value prompt;
    prompt["action"] = "set_invoice_numbering";
    prompt["href"] = "/v1/invoice-numbering";
    prompt["billing_entity"] = series_entity;
    prompt["next_number"] = static_cast<Json::Int64>(r.proposed_next_number);
    return problem(RefusalKind::conflict, "numbering-collision",
                   "invoices numbered with these settings would collide with existing numbers; "
                   "change them (the proposed next number is " +
                       std::to_string(r.proposed_next_number) + ") and verify again",
                   r.collisions, prompt);
  }

  const SeriesSettings verified = r.effective();
  std::optional<Refusal> refused;
  std::string now;
  env.store.write([&](store::Tx& tx) {
    const auto stored = load_series(tx, tenant_id, series_entity);
    if (stored.has_value() != r.series.stored || (stored && stored->version != r.series.version)) {
      refused = problem(RefusalKind::conflict, "conflict",
                        "the numbering settings changed while they were checked; verify again");
      return;
    }
    now = now_rfc3339();
    Json::Value settings = verified.to_json();
    if (!stored) {
      // Verifying the defaults saves them: from now on they are this partner's settings.
      tx.exec(
          "INSERT INTO invoice_series (tenant_id, billing_entity, prefix, pattern, reset, "
          "next_seq, verified_at, verified_by, verified_settings, created_at, updated_at) VALUES "
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {tenant_id, series_entity, verified.prefix, verified.pattern, verified.reset,
           verified.next_number, now, actor, store::to_text(settings), now, now});
    } else {
      tx.exec(
          "UPDATE invoice_series SET verified_at = ?, verified_by = ?, verified_settings = ?, "
          "version = version + 1, updated_at = ? WHERE tenant_id = ? AND billing_entity = ?",
          {now, actor, store::to_text(settings), now, tenant_id, series_entity});
    }
    Json::Value after;
    after["settings"] = settings;
    after["next_invoice_number"] = r.next["number"];
    after["accounting"] = Json::Value(Json::arrayValue);
    for (const auto& a : r.accounting) {
      Json::Value item;
      item["system"] = a.report.system;
      item["connection"] = a.report.connection;
      item["last_number"] =
          a.report.last_number ? Json::Value(*a.report.last_number) : Json::Value();
      after["accounting"].append(item);
    }
    audit::record(tx, {tenant_id, actor, "invoice_numbering.verify", "invoice_series",
                       series_entity, audit::json(r.series.verified_settings), audit::json(after)});
    events::append(tx, {tenant_id, "invoice_numbering.verified", "invoice_series", series_entity,
                        after, actor, ""});
  });
  if (refused) return *refused;
  r.series.stored = true;
  r.series.verified_at = now;
  r.series.verified_by = actor;
  r.series.verified_settings = verified.to_json();
  ++r.series.version;
  return reviewed;
}

}  // namespace psahost::billing
