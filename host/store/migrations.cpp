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

// The billing picture of every client. Money is INTEGER minor units beside its currency; ids are
// opaque text; every row carries its tenant so that no query can forget it.
constexpr const char* kBillingPicture = R"sql(
CREATE TABLE clients (
  id                   TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id            TEXT NOT NULL REFERENCES tenants(id),
  name                 TEXT NOT NULL CHECK (name <> ''),
  type                 TEXT NOT NULL DEFAULT 'customer' CHECK (type IN ('customer', 'prospect', 'partner')),
  status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  parent_id            TEXT REFERENCES clients(id),
  self_managed_profile INTEGER NOT NULL DEFAULT 0 CHECK (self_managed_profile IN (0, 1)),
  external_ids         TEXT NOT NULL DEFAULT '{}',
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL
) STRICT;
CREATE INDEX clients_by_tenant ON clients (tenant_id, name);

-- The API document as validated by domain::parse_billing_info; completeness is computed from
-- it by BillingInfo::is_complete() on read, so there is one definition and no stale flag.
CREATE TABLE billing_info (
  client_id   TEXT PRIMARY KEY NOT NULL REFERENCES clients(id),
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  data        TEXT NOT NULL,
  debtor_code TEXT,
  updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX billing_info_by_debtor ON billing_info (tenant_id, debtor_code);

CREATE TABLE products (
  tenant_id      TEXT NOT NULL REFERENCES tenants(id),
  sku            TEXT NOT NULL CHECK (sku <> ''),
  name           TEXT NOT NULL CHECK (name <> ''),
  unit           TEXT NOT NULL DEFAULT 'unit',
  part_type      TEXT NOT NULL DEFAULT 'default' CHECK (part_type IN ('default', 'ict_services', 'managed_service')),
  pricing        TEXT NOT NULL CHECK (pricing IN ('fixed', 'per_unit', 'per_hour', 'usage')),
  prices         TEXT NOT NULL DEFAULT '{}',
  default_labour INTEGER NOT NULL DEFAULT 0 CHECK (default_labour IN (0, 1)),
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (tenant_id, sku)
) STRICT;

CREATE TABLE service_assignments (
  tenant_id  TEXT NOT NULL REFERENCES tenants(id),
  client_id  TEXT NOT NULL REFERENCES clients(id),
  sku        TEXT NOT NULL CHECK (sku <> ''),
  quantity   INTEGER NOT NULL CHECK (quantity >= 0),
  since      TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (client_id, sku)
) STRICT;
CREATE INDEX service_assignments_by_tenant ON service_assignments (tenant_id, client_id);

CREATE TABLE tickets (
  id         TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id  TEXT NOT NULL REFERENCES tenants(id),
  client_id  TEXT NOT NULL REFERENCES clients(id),
  subject    TEXT NOT NULL CHECK (subject <> ''),
  status     TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'responded', 'resolved', 'closed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX tickets_by_client ON tickets (tenant_id, client_id);

CREATE TABLE ticket_responses (
  id         TEXT PRIMARY KEY NOT NULL,
  ticket_id  TEXT NOT NULL REFERENCES tickets(id),
  author     TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE time_entries (
  id              TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id       TEXT NOT NULL REFERENCES tenants(id),
  ticket_id       TEXT NOT NULL REFERENCES tickets(id),
  client_id       TEXT NOT NULL REFERENCES clients(id),
  technician      TEXT NOT NULL CHECK (technician <> ''),
  minutes         INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
  billed_minutes  INTEGER CHECK (billed_minutes IS NULL OR billed_minutes >= minutes),
  billable        INTEGER NOT NULL DEFAULT 1 CHECK (billable IN (0, 1)),
  rate            INTEGER CHECK (rate IS NULL OR rate >= 0),
  currency        TEXT,
  work_type       TEXT NOT NULL DEFAULT '',
  note            TEXT NOT NULL DEFAULT '',
  work_date       TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'approved', 'rejected', 'invoiced')),
  approved_by     TEXT,
  approved_at     TEXT,
  rejected_reason TEXT,
  invoice_id      TEXT,
  version         INTEGER NOT NULL DEFAULT 1,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX time_entries_by_client ON time_entries (tenant_id, client_id, status);
CREATE INDEX time_entries_by_ticket ON time_entries (ticket_id);

CREATE TABLE sales_items (
  id          TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  client_id   TEXT NOT NULL REFERENCES clients(id),
  sku         TEXT,
  description TEXT NOT NULL CHECK (description <> ''),
  quantity    INTEGER NOT NULL CHECK (quantity > 0),
  unit_price  INTEGER NOT NULL CHECK (unit_price >= 0),
  currency    TEXT NOT NULL,
  item_date   TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'invoiced')),
  source      TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'integration')),
  hold_reason TEXT,
  invoice_id  TEXT,
  version     INTEGER NOT NULL DEFAULT 1,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX sales_items_by_client ON sales_items (tenant_id, client_id, status);
)sql";

// Contracts (bootstrapped from assigned services or made by hand) and invoice numbering series.
constexpr const char* kContractsAndNumbering = R"sql(
CREATE TABLE contracts (
  id               TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id        TEXT NOT NULL REFERENCES tenants(id),
  client_id        TEXT NOT NULL REFERENCES clients(id),
  reference        TEXT NOT NULL,
  name             TEXT NOT NULL,
  contact_email    TEXT NOT NULL DEFAULT '',
  billing_entity   TEXT NOT NULL DEFAULT '',
  invoice_interval TEXT NOT NULL DEFAULT 'monthly' CHECK (invoice_interval IN ('monthly', 'quarterly', 'semi_annually', 'yearly')),
  bill_timing      TEXT NOT NULL DEFAULT 'upfront' CHECK (bill_timing IN ('upfront', 'afterwards')),
  payment_method   TEXT NOT NULL DEFAULT 'manual' CHECK (payment_method IN ('manual', 'direct_debit')),
  start_date       TEXT NOT NULL,
  end_date         TEXT CHECK (end_date IS NULL OR end_date >= start_date),
  invoice_delivery TEXT NOT NULL DEFAULT 'email' CHECK (invoice_delivery IN ('email', 'mail')),
  currency         TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'ended', 'cancelled')),
  source           TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'bootstrap')),
  version          INTEGER NOT NULL DEFAULT 1,
  activated_at     TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX contracts_by_client ON contracts (tenant_id, client_id, status);
-- Bootstrapping makes at most one contract per client: a second is impossible, not unlikely.
CREATE UNIQUE INDEX contracts_one_bootstrap ON contracts (tenant_id, client_id) WHERE source = 'bootstrap';

CREATE TABLE contract_parts (
  id               TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  contract_id      TEXT NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
  tenant_id        TEXT NOT NULL REFERENCES tenants(id),
  part_type        TEXT NOT NULL DEFAULT 'default' CHECK (part_type IN ('default', 'ict_services', 'managed_service')),
  sku              TEXT,
  description      TEXT NOT NULL DEFAULT '',
  quantity         INTEGER NOT NULL CHECK (quantity >= 0),
  follows_assignment INTEGER NOT NULL DEFAULT 0 CHECK (follows_assignment IN (0, 1)),
  price            INTEGER CHECK (price IS NULL OR price >= 0),
  discount         TEXT NOT NULL DEFAULT '0',
  start_date       TEXT,
  end_date         TEXT,
  trial            INTEGER NOT NULL DEFAULT 0 CHECK (trial IN (0, 1)),
  sla              TEXT NOT NULL DEFAULT '',
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX contract_parts_by_contract ON contract_parts (contract_id);

CREATE TABLE invoice_series (
  tenant_id       TEXT NOT NULL REFERENCES tenants(id),
  billing_entity  TEXT NOT NULL DEFAULT '',
  prefix          TEXT NOT NULL DEFAULT '',
  pattern         TEXT NOT NULL,
  next_number     INTEGER NOT NULL CHECK (next_number >= 1),
  reset           TEXT NOT NULL DEFAULT 'never' CHECK (reset IN ('never', 'yearly')),
  owner           TEXT NOT NULL DEFAULT 'psahost' CHECK (owner IN ('psahost', 'accounting')),
  verified_at     TEXT,
  verified_by     TEXT,
  verified_digest TEXT,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (tenant_id, billing_entity)
) STRICT;
)sql";

// Webhooks in and out. A connection is one configured instance of a connector for one tenant,
// served at /webhooks/{name}; its secrets are sealed (crypto::SecretBox) and bound to the row.
// The inbox holds verified inbound requests until the connector has mapped them; deliveries are
// the outbox: signed webhooks to endpoints, events for connectors' sync.push, and the requests
// those produce. external_refs links objects here to their ids in external systems.
constexpr const char* kWebhooks = R"sql(
CREATE TABLE connections (
  id          TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  name        TEXT NOT NULL UNIQUE CHECK (name <> ''),
  connector   TEXT NOT NULL CHECK (connector <> ''),
  base_url    TEXT,
  settings    TEXT NOT NULL DEFAULT '{}',
  secret      TEXT,
  credentials TEXT,
  status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX connections_by_tenant ON connections (tenant_id, name);

-- No AUTOINCREMENT: rows are never deleted, and sqlite_sequence would be one more write per
-- request on the ingest path.
CREATE TABLE inbox (
  id              INTEGER PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  connection_id   TEXT NOT NULL REFERENCES connections(id),
  dedupe_key      TEXT NOT NULL,
  headers         TEXT NOT NULL,
  body            TEXT NOT NULL,
  received_at     TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'parked')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  -- 1 while it waits for an object another delivery brings: later entries go ahead of it.
  deferred        INTEGER NOT NULL DEFAULT 0 CHECK (deferred IN (0, 1)),
  last_error      TEXT,
  outcome         TEXT,
  processed_at    TEXT
) STRICT;
CREATE UNIQUE INDEX inbox_once ON inbox (connection_id, dedupe_key);
CREATE INDEX inbox_pending ON inbox (connection_id, id) WHERE status = 'pending';
CREATE INDEX inbox_deferred ON inbox (connection_id, next_attempt_at) WHERE status = 'pending' AND deferred = 1;
CREATE INDEX inbox_by_tenant ON inbox (tenant_id, id);

CREATE TABLE webhook_endpoints (
  id              TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id       TEXT NOT NULL REFERENCES tenants(id),
  url             TEXT NOT NULL CHECK (url LIKE 'https://%'),
  description     TEXT NOT NULL DEFAULT '',
  event_types     TEXT NOT NULL,
  secret          TEXT NOT NULL,
  max_in_flight   INTEGER NOT NULL DEFAULT 4 CHECK (max_in_flight BETWEEN 1 AND 64),
  status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- host: disabled for failing (its messages keep queueing for when it is back); partner: asked.
  disabled_by     TEXT CHECK (disabled_by IS NULL OR disabled_by IN ('host', 'partner')),
  disabled_reason TEXT,
  failing_since   TEXT,
  warned_at       TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id);

-- kind webhook: the event signed to an endpoint (the body is rendered from the event log);
-- kind sync: the event handed to a connection's sync.push; kind request: one HTTPS request a
-- sync.push asked for, kept in request. failures drives the retry schedule and restarts at 0 on
-- replay; attempts counts every attempt ever made.
CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('webhook', 'sync', 'request')),
  endpoint_id     TEXT REFERENCES webhook_endpoints(id),
  connection_id   TEXT REFERENCES connections(id),
  event_seq       INTEGER NOT NULL,
  event_type      TEXT NOT NULL,
  message_id      TEXT NOT NULL,
  request         TEXT,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  failures        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  delivered_at    TEXT,
  CHECK ((endpoint_id IS NULL) <> (connection_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX deliveries_once ON deliveries (kind, COALESCE(endpoint_id, connection_id), message_id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, id);

CREATE TABLE delivery_attempts (
  id               INTEGER PRIMARY KEY,
  delivery_id      INTEGER NOT NULL REFERENCES deliveries(id),
  attempt          INTEGER NOT NULL CHECK (attempt >= 1),
  started_at       TEXT NOT NULL,
  status_code      INTEGER,
  error            TEXT,
  latency_us       INTEGER NOT NULL CHECK (latency_us >= 0),
  response_excerpt TEXT,
  truncated        INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1))
) STRICT;
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt);

CREATE TABLE external_refs (
  tenant_id   TEXT NOT NULL,
  system      TEXT NOT NULL CHECK (system <> ''),
  object_type TEXT NOT NULL CHECK (object_type <> ''),
  external_id TEXT NOT NULL CHECK (external_id <> ''),
  object_id   TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (tenant_id, system, object_type, external_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX external_refs_by_object ON external_refs (tenant_id, object_type, object_id);

-- The first 2xx answer to a create sent with an Idempotency-Key, stored with the change itself.
CREATE TABLE idempotency_keys (
  tenant_id  TEXT NOT NULL,
  key        TEXT NOT NULL CHECK (key <> ''),
  response   TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, key)
) STRICT, WITHOUT ROWID;
)sql";

// Invoices, their lines and billing runs, and invoice_series again. Nothing wrote invoice_series
// before this migration (numbering had no API), so it is recreated rather than altered: the
// counter (next_seq, seq_year) is kept apart from the settings, and verification is a record of
// who verified which settings, cleared by any change to them.
//
// What makes double billing impossible rather than unlikely:
// - one run invoice per client, period and billing entity (invoices_one_per_period);
// - one line per contract part and interval (invoice_lines_part_interval): a quarterly part
//   billed upfront in January cannot be billed again in February;
// - one line per time entry and per sales item;
// - one invoice per number within a tenant, so a number is never handed out twice.
constexpr const char* kInvoicesAndBillingRuns = R"sql(
DROP TABLE invoice_series;
CREATE TABLE invoice_series (
  tenant_id         TEXT NOT NULL REFERENCES tenants(id),
  billing_entity    TEXT NOT NULL DEFAULT '',
  prefix            TEXT NOT NULL DEFAULT '',
  pattern           TEXT NOT NULL CHECK (pattern <> ''),
  reset             TEXT NOT NULL CHECK (reset IN ('never', 'yearly')),
  next_seq          INTEGER NOT NULL CHECK (next_seq >= 1),
  seq_year          INTEGER CHECK (seq_year IS NULL OR seq_year BETWEEN 1900 AND 9999),
  verified_at       TEXT,
  verified_by       TEXT,
  verified_settings TEXT,
  version           INTEGER NOT NULL DEFAULT 1,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  PRIMARY KEY (tenant_id, billing_entity),
  CHECK ((verified_at IS NULL) = (verified_by IS NULL))
) STRICT;

CREATE TABLE billing_runs (
  id           TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id    TEXT NOT NULL REFERENCES tenants(id),
  period       TEXT NOT NULL CHECK (period GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
  dry_run      INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
  status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed', 'interrupted')),
  requested_by TEXT NOT NULL,
  runner_pid   INTEGER,
  clients      INTEGER NOT NULL DEFAULT 0 CHECK (clients >= 0),
  processed    INTEGER NOT NULL DEFAULT 0 CHECK (processed >= 0),
  issued       INTEGER NOT NULL DEFAULT 0 CHECK (issued >= 0),
  skipped      INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),
  failed       INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
  totals       TEXT NOT NULL DEFAULT '{}',
  error        TEXT,
  created_at   TEXT NOT NULL,
  started_at   TEXT,
  finished_at  TEXT,
  updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX billing_runs_by_tenant ON billing_runs (tenant_id, status);

-- What a run did with each client (and billing entity): issued, would issue (dry run), skipped or
-- failed, with the reason; report holds the invoice's number and totals, items left off it and,
-- for a dry run, the invoice it would issue.
CREATE TABLE billing_run_clients (
  run_id         TEXT NOT NULL REFERENCES billing_runs(id),
  client_id      TEXT NOT NULL,
  billing_entity TEXT NOT NULL DEFAULT '',
  tenant_id      TEXT NOT NULL REFERENCES tenants(id),
  outcome        TEXT NOT NULL CHECK (outcome IN ('issued', 'would_issue', 'skipped', 'failed')),
  reason         TEXT,
  detail         TEXT,
  invoice_id     TEXT,
  report         TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, client_id, billing_entity)
) STRICT, WITHOUT ROWID;

-- Issued invoices never change but for status and external ids; client is the bill-to party as
-- it was at issue (name, billing info), so a later edit of the client does not rewrite history.
CREATE TABLE invoices (
  id                 TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  tenant_id          TEXT NOT NULL REFERENCES tenants(id),
  client_id          TEXT NOT NULL REFERENCES clients(id),
  billing_entity     TEXT NOT NULL DEFAULT '',
  series             TEXT NOT NULL,
  number             TEXT NOT NULL CHECK (number <> ''),
  seq                INTEGER NOT NULL CHECK (seq >= 1),
  seq_year           INTEGER,
  kind               TEXT NOT NULL CHECK (kind IN ('run', 'manual')),
  period             TEXT CHECK ((kind = 'run') = (period IS NOT NULL)),
  billing_run_id     TEXT REFERENCES billing_runs(id),
  status             TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'sent', 'paid', 'void')),
  currency           TEXT NOT NULL CHECK (length(currency) = 3),
  tax_rate           TEXT NOT NULL,
  net_amount         INTEGER NOT NULL,
  tax_amount         INTEGER NOT NULL,
  total_amount       INTEGER NOT NULL CHECK (total_amount = net_amount + tax_amount),
  issue_date         TEXT NOT NULL,
  due_date           TEXT NOT NULL CHECK (due_date >= issue_date),
  payment_terms_days INTEGER NOT NULL CHECK (payment_terms_days >= 0),
  client             TEXT NOT NULL,
  external_ids       TEXT NOT NULL DEFAULT '{}',
  issued_by          TEXT NOT NULL,
  issued_at          TEXT NOT NULL,
  version            INTEGER NOT NULL DEFAULT 1,
  updated_at         TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX invoices_by_number ON invoices (tenant_id, number);
-- NULL periods (manual invoices) are distinct, so only run invoices are held to one per period.
CREATE UNIQUE INDEX invoices_one_per_period ON invoices (tenant_id, client_id, period, billing_entity);
CREATE INDEX invoices_by_series ON invoices (tenant_id, series, seq_year, seq);
CREATE INDEX invoices_by_period ON invoices (tenant_id, period);

-- quantity is units for a part or a sales item and minutes for time; amounts are net, in the
-- invoice's currency, each rounded half-up on its own. invoice_id has no foreign key: lines are
-- written only with their invoice, in its savepoint, and invoices are never deleted, while the
-- key's check cost a fifth of a billing run (bench/billing_run.cpp, 1,000 clients: 1.14 s ->
-- 0.91 s).
CREATE TABLE invoice_lines (
  invoice_id       TEXT NOT NULL,
  line_no          INTEGER NOT NULL CHECK (line_no >= 1),
  tenant_id        TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('contract_part', 'time_entry', 'sales_item', 'manual')),
  description      TEXT NOT NULL,
  quantity         INTEGER NOT NULL,
  unit             TEXT NOT NULL DEFAULT '',
  unit_price       INTEGER NOT NULL,
  discount         TEXT NOT NULL DEFAULT '0.00',
  amount           INTEGER NOT NULL,
  tax_amount       INTEGER NOT NULL,
  contract_id      TEXT,
  contract_part_id TEXT,
  interval_start   TEXT,
  interval_end     TEXT,
  service_from     TEXT,
  service_to       TEXT,
  days             INTEGER,
  interval_days    INTEGER,
  time_entry_id    TEXT,
  ticket_id        TEXT,
  work_date        TEXT,
  sales_item_id    TEXT,
  PRIMARY KEY (invoice_id, line_no),
  CHECK ((kind = 'contract_part') = (contract_part_id IS NOT NULL AND interval_start IS NOT NULL)),
  CHECK ((kind = 'time_entry') = (time_entry_id IS NOT NULL)),
  CHECK ((kind = 'sales_item') = (sales_item_id IS NOT NULL))
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX invoice_lines_part_interval ON invoice_lines (contract_part_id, interval_start) WHERE contract_part_id IS NOT NULL;
CREATE UNIQUE INDEX invoice_lines_time_entry ON invoice_lines (time_entry_id) WHERE time_entry_id IS NOT NULL;
CREATE UNIQUE INDEX invoice_lines_sales_item ON invoice_lines (sales_item_id) WHERE sales_item_id IS NOT NULL;
)sql";

// Plugin and connector switches per tenant: a tenant's admin decides which optional plugins act
// for that tenant only; plugin_settings stays the operator's host-wide switch. Switches a tenant
// admin wrote into plugin_settings before this migration move to that tenant (the audit log
// names who wrote the last one) and the host-wide switch goes back on.
constexpr const char* kTenantPluginSettings = R"sql(
CREATE TABLE tenant_plugin_settings (
  tenant_id  TEXT NOT NULL CHECK (tenant_id <> ''),
  plugin_id  TEXT NOT NULL CHECK (plugin_id <> ''),
  enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  config     TEXT NOT NULL DEFAULT '{}',
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, plugin_id)
) STRICT, WITHOUT ROWID;

INSERT INTO tenant_plugin_settings (tenant_id, plugin_id, enabled, updated_at)
SELECT a.tenant_id, p.plugin_id, p.enabled, p.updated_at
FROM plugin_settings p
JOIN audit_log a ON a.id = (SELECT max(id) FROM audit_log
                            WHERE object_type = 'plugin' AND object_id = p.plugin_id)
WHERE p.enabled = 0 AND a.tenant_id <> '';

UPDATE plugin_settings SET enabled = 1
WHERE enabled = 0 AND plugin_id IN (SELECT plugin_id FROM tenant_plugin_settings);
)sql";

// What connectors learned of their vendors (issue 20).
// time_entries.billed_externally: time a PSA reports as billed or invoiced there (ConnectWise's
// Billed and BilledAgreement, an invoice reference), as {"system","reference","status",
// "reported_at"}; such an entry is never approved here and never on one of our invoices.
// connection_polls: per connection whose connector polls (command.poll), where the last poll
// got to (the connector's own cursor, written with the deliveries it produced, so a poll
// resumes after a crash), when the next is due, and what the vendor said of its webhooks
// (Autotask's deactivation URL).
constexpr const char* kConnectorCatchUp = R"sql(
ALTER TABLE time_entries ADD COLUMN billed_externally TEXT;

CREATE TABLE connection_polls (
  connection_id    TEXT PRIMARY KEY NOT NULL REFERENCES connections(id),
  cursor           TEXT NOT NULL DEFAULT '{}',
  next_poll_at     TEXT,
  last_polled_at   TEXT,
  last_error       TEXT,
  failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  webhook_state    TEXT NOT NULL DEFAULT 'active' CHECK (webhook_state IN ('active', 'deactivated')),
  webhook_state_at TEXT,
  updated_at       TEXT NOT NULL
) STRICT;
)sql";

// remote_plugin_secrets: the Standard Webhooks secret each remote plugin's hook calls are signed
// with, sealed (context "plugin:<id>:remote-secret"); issued by `psahost plugins secret ID`.
constexpr const char* kRemotePluginSecrets = R"sql(
CREATE TABLE remote_plugin_secrets (
  plugin_id  TEXT PRIMARY KEY NOT NULL CHECK (plugin_id <> ''),
  secret     TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  // Built once on first use and never modified afterwards: constant data, not mutable state.
  static const std::vector<Migration> kAll = {
      {1, "foundation", kFoundation},
      {2, "billing picture", kBillingPicture},
      {3, "contracts and numbering", kContractsAndNumbering},
      {4, "invoices and billing runs", kInvoicesAndBillingRuns},
      {5, "webhooks and deliveries", kWebhooks},
      {6, "plugin switches per tenant", kTenantPluginSettings},
      {7, "connector catch-up and external billing", kConnectorCatchUp},
      {8, "remote plugin secrets", kRemotePluginSecrets},
  };
  return kAll;
}

}  // namespace psahost::store
