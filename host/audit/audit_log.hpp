// The audit trail: who changed what, with the before and after that decide money. This is the
// only code that writes audit_log; every feature records its changes through record().
#pragma once

#include "store/store.hpp"

#include <json/value.h>

#include <optional>
#include <string>

namespace psahost::audit {

struct Change {
  std::string tenant_id;
  std::string actor;        // the token id, or the plugin or connection that acted
  std::string action;       // "contract.update", "time_entry.approve", ...
  std::string object_type;  // "contract", "time_entry", ...
  std::string object_id;
  std::optional<std::string> before = {};  // as stored (usually JSON); absent is NULL
  std::optional<std::string> after = {};
  std::string at = {};  // RFC 3339; now when empty
};

// Appends one row in the caller's transaction, so it commits or rolls back with the change.
void record(store::Tx& tx, const Change& change);

// A JSON value as the trail keeps it: null is absent.
std::optional<std::string> json(const Json::Value& v);

}  // namespace psahost::audit
