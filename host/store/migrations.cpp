// The schema's history: each entry is applied once, in order, in its own transaction.
// Tables are STRICT so a value of the wrong type fails at the INSERT instead of later.
#include "store/migrations.hpp"

namespace psahost::store {

namespace {

// plugin_kv keeps keys and values as TEXT: the store binds every string as TEXT (bytes are
// kept exactly, embedded NULs included), and a STRICT BLOB column would refuse TEXT values.
constexpr const char* kFoundation = R"sql(
CREATE TABLE tenants (
  id         TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  name       TEXT NOT NULL UNIQUE CHECK (name <> ''),
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_tokens (
  id         TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id  TEXT NOT NULL REFERENCES tenants(id),
  role       TEXT NOT NULL CHECK (role IN ('admin', 'billing', 'technician', 'integration')),
  token_hash TEXT NOT NULL UNIQUE CHECK (token_hash <> ''),
  name       TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;
CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant_id);

CREATE TABLE plugin_settings (
  plugin_id  TEXT PRIMARY KEY NOT NULL CHECK (plugin_id <> ''),
  enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  config     TEXT NOT NULL DEFAULT '{}',
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE plugin_kv (
  plugin_id  TEXT NOT NULL CHECK (plugin_id <> ''),
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (plugin_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id    TEXT NOT NULL,
  type         TEXT NOT NULL CHECK (type <> ''),
  object_type  TEXT NOT NULL,
  object_id    TEXT NOT NULL,
  ordering_key TEXT NOT NULL,
  payload      TEXT NOT NULL,
  actor        TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_tenant ON events (tenant_id, seq);

CREATE TABLE subscriber_cursors (
  subscriber      TEXT PRIMARY KEY NOT NULL CHECK (subscriber <> ''),
  last_seq        INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  failures        INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  next_attempt_at TEXT,
  last_error      TEXT,
  parked_seq      INTEGER,
  updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id   TEXT NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL CHECK (action <> ''),
  object_type TEXT NOT NULL,
  object_id   TEXT NOT NULL,
  before      TEXT,
  after       TEXT,
  created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_object ON audit_log (tenant_id, object_type, object_id, id);
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  // Built once on first use and never modified afterwards: constant data, not mutable state.
  static const std::vector<Migration> kAll = {
      {1, "foundation", kFoundation},
  };
  return kAll;
}

}  // namespace psahost::store
