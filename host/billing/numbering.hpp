// Invoice numbering series in the store: settings, counter and verification (who verified which
// settings, cleared by any change), and the one path every issued invoice takes its number by.
#pragma once

#include "domain/refusal.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace psahost::billing {

struct SeriesSettings {
  std::string billing_entity;  // "" is the partner's default series, which other entities share
  std::string prefix;
  std::string pattern;
  std::string reset;  // never | yearly
  int64_t next_number = 1;

  // {"billing_entity","prefix","pattern","reset","next_number"}
  Json::Value to_json() const;
  // The same JSON as the plugin's settings; nothing when a member is missing or mistyped.
  static std::optional<SeriesSettings> from_json(const Json::Value& v);
};

// A series as stored, or the numbering plugin's defaults while nothing is stored.
struct Series {
  SeriesSettings settings;  // next_number is the stored counter
  bool stored = false;
  std::optional<int> seq_year;  // the year the counter counts in (yearly reset); none until used
  std::optional<std::string> verified_at, verified_by;
  Json::Value verified_settings;  // the settings last verified, kept after a change; null: never
  int64_t version = 0;
  std::string updated_at;

  bool verified() const { return verified_at.has_value(); }
  // {"next","year"} as numbering.allocate takes it.
  Json::Value counter() const;
};

std::optional<Series> load_series(store::Tx& tx, const std::string& tenant_id,
                                  const std::string& billing_entity);

// {"configured","verified","series":[{"billing_entity","verified","was_verified","verified_at",
// "verified_by"}]}. Verified when the default series is stored and every stored series is
// verified: other entities' invoices fall back to the default series, and a series changed
// since its verification must be verified again before anything is billed.
Json::Value numbering_status(store::Tx& tx, const std::string& tenant_id);

// The one enabled plugin that handles numbering.allocate, or why there is none: unavailable
// numbering-unavailable (none loaded), conflict plugin-disabled or numbering-ambiguous.
domain::Result<std::shared_ptr<plugins::Plugin>> find_numbering_plugin(
    const plugins::PluginRegistry& registry);

struct TakenNumber {
  std::string number;
  std::string series;  // billing entity of the series that numbered it
  int64_t seq = 0;
  std::optional<int> year;
};

// Why no number could be taken: numbering_not_configured, numbering_not_verified,
// numbering_failed; with a detail for people.
struct NumberRefusal {
  std::string reason;
  std::string detail;
};

// numbering.allocate's answers asked ahead, by the exact request each answers. A write that
// issues many invoices asks the plugin once per series for a run of numbers from the stored
// counter, instead of once per invoice. numbering.allocate is pure (its answer depends on its
// request alone, as the SDK's contract for it says), so a stored answer is the one asking again
// would give; a request nobody asked ahead (an invoice refused after it took a number leaves
// the counter where it was, so the next one asks the same request again) goes to the plugin.
class NumberingAhead {
 public:
  // Within tx: for each billing entity, count numbers of the series that numbers it, from the
  // counter stored now. Asks nothing for a series missing or unverified (take_number refuses
  // those) or of a plugin that cannot answer ahead.
  void ask(store::Tx& tx, plugins::Plugin& numbering, const std::string& tenant_id,
           const std::map<std::string, std::size_t>& count_by_entity,
           const std::string& issue_date);
  const plugins::HookResult* answer(const std::string& request_json) const;

 private:
  std::unordered_map<std::string, plugins::HookResult> answers_;
};

// Takes the next number of the series that numbers billing_entity (its own, else the default
// series) for issue_date, inside the issuing write: asks numbering.allocate, a pure hook (or
// finds its answer in ahead), and advances the stored counter in tx, so the number is consumed
// exactly when tx commits. Sets *refusal and returns nothing when the series is missing,
// unverified, or the plugin fails.
std::optional<TakenNumber> take_number(store::Tx& tx, plugins::Plugin& numbering,
                                       const std::string& tenant_id,
                                       const std::string& billing_entity,
                                       const std::string& issue_date, NumberRefusal* refusal,
                                       const NumberingAhead* ahead = nullptr);

// numbering.status (numbering:read): {"tenant_id"} -> numbering_status().
void register_numbering_host_calls(plugins::HostCalls& calls, store::Store& store);

}  // namespace psahost::billing
