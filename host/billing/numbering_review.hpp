// What a partner sees and verifies of invoice numbering: a series' settings and the next number
// they give today, the last number issued from it, what the accounting systems report, the next
// number that lines up with all of them, and the collisions that refuse a verification.
// Changing and verifying the settings go through here too; the API and the CLI share it.
#pragma once

#include "auth/tokens.hpp"
#include "billing/accounting_numbers.hpp"
#include "billing/numbering.hpp"
#include "domain/refusal.hpp"

#include <json/value.h>

#include <optional>
#include <string>
#include <vector>

namespace psahost::billing {

struct NumberingEnv {
  store::Store& store;
  const plugins::PluginRegistry& plugins;
};

// An accounting system's last number read with the series' pattern.
struct AccountingAlignment {
  AccountingReport report;
  bool matches = false;  // the number follows the pattern
  std::optional<int64_t> seq;
  std::optional<int> year;
  bool in_scope = false;  // counted by the same counter as the next number (same year if yearly)
};

struct NumberingReview {
  std::string billing_entity;  // the entity asked about
  Series series;               // the series that numbers it: its own, else the default one
  Json::Value next;            // {"number","seq","year"}: what an invoice issued today would get
  Json::Value last_issued;     // {"number","seq","issue_date"} under the same counter, or null
  bool accounting_asked = false;
  std::vector<AccountingAlignment> accounting;
  int64_t proposed_next_number = 0;
  Json::Value collisions = Json::Value(Json::arrayValue);  // [{"field","message"}]
  std::string settings_digest;  // of the settings as shown, with the next number they give

  // The series' settings with next_number as it takes effect today (next["seq"]).
  SeriesSettings effective() const;
  // The document GET /v1/invoice-numbering answers (see docs/openapi.json).
  Json::Value to_json() const;
};

// Reads the series that numbers billing_entity and, with ask_accounting, what the accounting
// connectors report (plugin calls: keep off the I/O threads). Refused when no numbering plugin
// can be asked (see find_numbering_plugin) or it fails (failed, plugin-failed).
domain::Result<NumberingReview> review_numbering(const NumberingEnv& env,
                                                 const auth::Principal& who,
                                                 const std::string& billing_entity,
                                                 bool ask_accounting);

// PUT: stores wanted as the settings of its entity's own series. Refused as invalid (naming the
// field) when the plugin finds the settings malformed or next_number would hand out a number
// already issued. Any change clears the verification; settings equal to the current ones change
// nothing.
domain::Result<NumberingReview> update_numbering(const NumberingEnv& env,
                                                 const auth::Principal& who,
                                                 const SeriesSettings& wanted);

// POST .../verify: records that the principal verified the settings that number billing_entity
// as they are now, after asking the accounting connectors. Refused as a conflict
// numbering-collision (extra "errors" lists the collisions) when the next number is one already
// issued here or at or below the accounting system's last (or that number does not follow the
// pattern), upstream accounting-unavailable when a connector cannot say, and conflict when
// expected_digest no longer matches what is shown.
domain::Result<NumberingReview> verify_numbering(const NumberingEnv& env,
                                                 const auth::Principal& who,
                                                 const std::string& billing_entity,
                                                 const std::optional<std::string>& expected_digest);

}  // namespace psahost::billing
