// What a partner sees and verifies of invoice numbering: a series' settings and the next number
// they give today, the last number issued from it, what the accounting systems report, the next
// number that lines up with all of them, and the collisions that refuse a verification.
// Changing and verifying the settings go through here too; the API and the CLI share it.
#pragma once

#include "api/accounting_numbers.hpp"
#include "api/numbering_services.hpp"

#include <json/value.h>

#include <optional>
#include <string>
#include <vector>

namespace psahost::api {

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

// What a numbering request came to: 200 with the review, or a problem (status, type, detail,
// field errors, prompt) for the route to send and the CLI to print.
struct NumberingOutcome {
  int status = 200;
  std::string type;
  std::string detail;
  Json::Value errors;  // [{"field","message"}] or null
  Json::Value prompt;  // the next action, or null
  NumberingReview review;
};

// Reads the series that numbers billing_entity and, with ask_accounting, what the accounting
// connectors report (plugin calls: keep off the I/O threads).
NumberingOutcome review_numbering(const NumberingEnv& env, const std::string& tenant_id,
                                  const std::string& billing_entity, bool ask_accounting);

// PUT: stores wanted as the settings of its entity's own series. Refused (422, naming the field)
// when the plugin finds the settings malformed or next_number would hand out a number already
// issued. Any change clears the verification; settings equal to the current ones change nothing.
NumberingOutcome update_numbering(const NumberingEnv& env, const std::string& tenant_id,
                                  const std::string& actor, const SeriesSettings& wanted);

// POST .../verify: records that actor verified the settings that number billing_entity as they
// are now, after asking the accounting connectors. Refused with 409 numbering-collision when the
// next number is one already issued here or at or below the accounting system's last (or that
// number does not follow the pattern), 502 accounting-unavailable when a connector cannot say,
// and 409 conflict when expected_digest no longer matches what is shown.
NumberingOutcome verify_numbering(const NumberingEnv& env, const std::string& tenant_id,
                                  const std::string& actor, const std::string& billing_entity,
                                  const std::optional<std::string>& expected_digest);

}  // namespace psahost::api
