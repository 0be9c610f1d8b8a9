#include "billing/numbering.hpp"

#include "core/clock.hpp"
#include "store/json_column.hpp"

#include <psa/sdk.hpp>

#include <algorithm>

namespace psahost::billing {
namespace {

constexpr const char* kSeriesColumns =
    "billing_entity, prefix, pattern, reset, next_seq, seq_year, verified_at, verified_by, "
    "verified_settings, version, updated_at";

Series series_from_row(const store::Row& r) {
  Series s;
  s.settings = {r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4)};
  s.stored = true;
  if (!r.is_null(5)) s.seq_year = static_cast<int>(r.integer(5));
  s.verified_at = r.optional_text(6);
  s.verified_by = r.optional_text(7);
  if (!r.is_null(8)) s.verified_settings = store::from_text(r.text(8));
  s.version = r.integer(9);
  s.updated_at = r.text(10);
  return s;
}

std::vector<Series> load_all_series(store::Tx& tx, const std::string& tenant_id) {
  std::vector<Series> out;
  tx.each(std::string("SELECT ") + kSeriesColumns +
              " FROM invoice_series WHERE tenant_id = ? ORDER BY billing_entity",
          {tenant_id}, [&](const store::Row& r) { out.push_back(series_from_row(r)); });
  return out;
}

// An allocation answer the host can store: a number it can keep and a counter that moved on.
bool well_formed(const Json::Value& a) {
  if (!a.isObject() || !a["number"].isString() || !a["seq"].isInt64() || !a["counter"].isObject() ||
      !a["counter"]["next"].isInt64()) {
    return false;
  }
  const std::string number = a["number"].asString();
  if (number.empty() || number.size() > 64) return false;
  for (unsigned char c : number) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return a["seq"].asInt64() >= 1 && a["counter"]["next"].asInt64() > a["seq"].asInt64() &&
         (a["year"].isNull() || a["year"].isInt()) &&
         (a["counter"]["year"].isNull() || a["counter"]["year"].isInt());
}

}  // namespace

Json::Value SeriesSettings::to_json() const {
  Json::Value v;
  v["billing_entity"] = billing_entity;
  v["prefix"] = prefix;
  v["pattern"] = pattern;
  v["reset"] = reset;
  v["next_number"] = static_cast<Json::Int64>(next_number);
  return v;
}

std::optional<SeriesSettings> SeriesSettings::from_json(const Json::Value& v) {
  if (!v.isObject() || !v["prefix"].isString() || !v["pattern"].isString() ||
      !v["reset"].isString() || !v["next_number"].isInt64()) {
    return std::nullopt;
  }
  return SeriesSettings{v.get("billing_entity", "").asString(), v["prefix"].asString(),
                        v["pattern"].asString(), v["reset"].asString(), v["next_number"].asInt64()};
}

Json::Value Series::counter() const {
  Json::Value c;
  c["next"] = static_cast<Json::Int64>(settings.next_number);
  c["year"] = seq_year ? Json::Value(*seq_year) : Json::Value();
  return c;
}

std::optional<Series> load_series(store::Tx& tx, const std::string& tenant_id,
                                  const std::string& billing_entity) {
  const auto r = tx.query_one(std::string("SELECT ") + kSeriesColumns +
                                  " FROM invoice_series WHERE tenant_id = ? AND billing_entity = ?",
                              {tenant_id, billing_entity});
  if (!r) return std::nullopt;
  return series_from_row(*r);
}

Json::Value numbering_status(store::Tx& tx, const std::string& tenant_id) {
  Json::Value out;
  bool configured = false;
  bool all_verified = true;
  Json::Value& list = out["series"] = Json::Value(Json::arrayValue);
  for (const auto& s : load_all_series(tx, tenant_id)) {
    configured = configured || s.settings.billing_entity.empty();
    all_verified = all_verified && s.verified();
    Json::Value item;
    item["billing_entity"] = s.settings.billing_entity;
    item["verified"] = s.verified();
    item["was_verified"] = !s.verified_settings.isNull();
    item["verified_at"] = s.verified_at ? Json::Value(*s.verified_at) : Json::Value();
    item["verified_by"] = s.verified_by ? Json::Value(*s.verified_by) : Json::Value();
    list.append(std::move(item));
  }
  if (!configured) {
    // The default series is what the partner verifies first; list it as the one to verify.
    Json::Value item;
    item["billing_entity"] = "";
    item["verified"] = false;
    item["was_verified"] = false;
    item["verified_at"] = Json::Value();
    item["verified_by"] = Json::Value();
    Json::Value all(Json::arrayValue);
    all.append(std::move(item));
    for (const auto& s : list) all.append(s);
    list = std::move(all);
  }
  out["configured"] = configured;
  out["verified"] = configured && all_verified;
  return out;
}

domain::Result<std::shared_ptr<plugins::Plugin>> find_numbering_plugin(
    const plugins::PluginRegistry& registry) {
  const auto found = registry.require("numbering.allocate");
  if (found.plugin) return found.plugin;
  if (found.enabled_ids.size() > 1) {
    return domain::Refusal::conflict(
        "numbering-ambiguous", "more than one numbering plugin is enabled (" +
                                   found.enabled_ids[0] + ", " + found.enabled_ids[1] +
                                   "); exactly one may number invoices, so disable the others");
  }
  if (!found.disabled_id.empty()) {
    return domain::Refusal::conflict("plugin-disabled",
                                     "the invoice numbering plugin is disabled; enable it with "
                                     "POST /v1/plugins/invoice-numbering/enable");
  }
  return domain::Refusal::make(
      domain::RefusalKind::unavailable, "numbering-unavailable",
      "no invoice numbering plugin is loaded, so no invoice can be numbered");
}

namespace {

// Only what numbering needs, read for every invoice: not the verification record's JSON.
constexpr const char* kCounter =
    "SELECT billing_entity, prefix, pattern, reset, next_seq, seq_year, verified_at IS NOT NULL "
    "FROM invoice_series WHERE tenant_id = ? AND billing_entity = ?";

// The series that numbers billing_entity: its own, else the default one.
std::optional<store::Row> numbering_series(store::Tx& tx, const std::string& tenant_id,
                                           const std::string& billing_entity) {
  auto series = tx.query_one(kCounter, {tenant_id, billing_entity});
  if (!series && !billing_entity.empty()) series = tx.query_one(kCounter, {tenant_id, ""});
  return series;
}

// numbering.allocate's request for the series (a kCounter row) as stored now.
Json::Value allocate_request(const store::Row& series, const std::string& tenant_id,
                             const std::string& issue_date) {
  Json::Value ask;
  ask["tenant_id"] = tenant_id;
  ask["series"]["billing_entity"] = series.text(0);
  ask["series"]["prefix"] = series.text(1);
  ask["series"]["pattern"] = series.text(2);
  ask["series"]["reset"] = series.text(3);
  ask["counter"]["next"] = static_cast<Json::Int64>(series.integer(4));
  ask["counter"]["year"] =
      series.is_null(5) ? Json::Value() : Json::Value(static_cast<int>(series.integer(5)));
  ask["issue_date"] = issue_date;
  return ask;
}

}  // namespace

void NumberingAhead::ask(store::Tx& tx, plugins::Plugin& numbering, const std::string& tenant_id,
                         const std::map<std::string, std::size_t>& count_by_entity,
                         const std::string& issue_date) {
  std::map<std::string, std::pair<Json::Value, std::size_t>> by_series;
  for (const auto& [entity, count] : count_by_entity) {
    const auto series = numbering_series(tx, tenant_id, entity);
    if (!series || series->integer(6) == 0) continue;
    auto& [first, total] = by_series[series->text(0)];
    if (total == 0) first = allocate_request(*series, tenant_id, issue_date);
    total += count;
  }
  for (auto& [name, wanted] : by_series) {
    // The request after an answer is the one take_number builds once the counter is stored.
    auto answers = numbering.call_sequence(
        "numbering.allocate", std::move(wanted.first),
        [](const Json::Value& request, const plugins::HookResult& answer) {
          if (!well_formed(answer.body)) return Json::Value();
          Json::Value next = request;
          const Json::Value& counter = answer.body["counter"];
          next["counter"]["next"] = static_cast<Json::Int64>(counter["next"].asInt64());
          next["counter"]["year"] =
              counter["year"].isInt() ? Json::Value(counter["year"].asInt()) : Json::Value();
          return next;
        },
        wanted.second);
    for (auto& [request, answer] : answers) answers_.emplace(std::move(request), std::move(answer));
  }
}

const plugins::HookResult* NumberingAhead::answer(const std::string& request_json) const {
  const auto it = answers_.find(request_json);
  return it == answers_.end() ? nullptr : &it->second;
}

std::optional<TakenNumber> take_number(store::Tx& tx, plugins::Plugin& numbering,
                                       const std::string& tenant_id,
                                       const std::string& billing_entity,
                                       const std::string& issue_date, NumberRefusal* refusal,
                                       const NumberingAhead* ahead) {
  const auto series = numbering_series(tx, tenant_id, billing_entity);
  if (!series) {
    *refusal = {"numbering_not_configured",
                "no invoice numbering series is set up; verify the numbering settings"};
    return std::nullopt;
  }
  const std::string name = series->text(0);
  if (series->integer(6) == 0) {
    // Checked here, in the write, and not only when a run is admitted: settings changed during
    // a run must not number its later invoices.
    *refusal = {"numbering_not_verified",
                "the numbering settings" + (name.empty() ? "" : " of billing entity " + name) +
                    " changed since they were verified; verify them again"};
    return std::nullopt;
  }
  const Json::Value ask = allocate_request(*series, tenant_id, issue_date);
  const plugins::HookResult* known = ahead ? ahead->answer(psa::json::write(ask)) : nullptr;
  const auto answer = known ? *known : numbering.call("numbering.allocate", ask);
  if (!answer.ok() || !well_formed(answer.body)) {
    *refusal = {"numbering_failed", "the numbering plugin gave no number: " +
                                        (answer.ok() ? std::string("its answer is malformed")
                                                     : answer.error_message())};
    return std::nullopt;
  }
  const Json::Value& counter = answer.body["counter"];
  tx.exec(
      "UPDATE invoice_series SET next_seq = ?, seq_year = ?, updated_at = ? WHERE tenant_id = ? "
      "AND billing_entity = ?",
      {static_cast<int64_t>(counter["next"].asInt64()),
       counter["year"].isInt() ? store::Value(int64_t{counter["year"].asInt()})
                               : store::Value(nullptr),
       now_rfc3339(), tenant_id, name});
  TakenNumber taken;
  taken.number = answer.body["number"].asString();
  taken.series = name;
  taken.seq = answer.body["seq"].asInt64();
  if (answer.body["year"].isInt()) taken.year = answer.body["year"].asInt();
  return taken;
}

void register_numbering_host_calls(plugins::HostCalls& calls, store::Store& store) {
  // {"tenant_id"} -> {"configured","verified","series":[{"billing_entity","verified",
  // "was_verified","verified_at","verified_by"}]}
  calls.add("numbering.status", "numbering:read",
            [&store](const plugins::CallerInfo&, const Json::Value& request) {
              const Json::Value& tenant = request["tenant_id"];
              if (!tenant.isString() || tenant.asString().empty()) {
                return plugins::CallResult::error(PSA_INVALID_ARGUMENT, "tenant_id is required");
              }
              Json::Value out;
              store.read([&](store::Tx& tx) { out = numbering_status(tx, tenant.asString()); });
              return plugins::CallResult::ok(std::move(out));
            });
}

}  // namespace psahost::billing
