// Billing runs: for every active client of a tenant, the invoices due for a period, drafted from
// one read per batch of clients, reviewed (invoice.issue) and issued in one write per batch, each
// invoice with its number in a savepoint of its own. What became of each client is kept with the
// run. The API (on a background worker), the CLI and the benchmark share this one path.
#pragma once

#include "admission/pipeline.hpp"
#include "auth/tokens.hpp"
#include "domain/billing_calendar.hpp"
#include "domain/refusal.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace psahost::billing {

struct BillingEnv {
  store::Store& store;
  const plugins::PluginRegistry& plugins;
  const admission::Pipeline& admission;
  std::function<void()> events_committed;  // wakes the event dispatcher; may be empty
};

struct RunRequest {
  std::string period;  // YYYY-MM
  bool dry_run = false;
};

// A run recorded as queued, for execute_billing_run to take up.
struct QueuedRun {
  std::string id;
};

// Why period cannot be run, or nothing: it must be YYYY-MM and at most the month after today's.
// Past months may be run (a late or repeated run), and the next one because upfront billing
// invoices the coming interval before it starts.
std::optional<std::string> period_problem(std::string_view period, domain::Date today);

// Checks the request, asks the admission pipeline (billing_run.start: the numbering must be
// verified before a real run), and records the run as queued, requested by the principal's token
// ("cli" from the command line). Refused as invalid (period), as the admission pipeline decides,
// or as find_numbering_plugin says when no plugin can number a real run's invoices. Plugin
// calls: not on I/O threads.
domain::Result<QueuedRun> start_billing_run(const BillingEnv& env, const auth::Principal& who,
                                            const RunRequest& request);

struct RunProgress {
  int64_t clients = 0;  // active clients of the tenant when the run started
  int64_t processed = 0;
  int64_t issued = 0;  // invoices issued (for a dry run: that it would issue)
  int64_t skipped = 0;
  int64_t failed = 0;
};

// Runs a queued run to its end on the calling thread: completed, failed (error kept), or
// interrupted when stop is requested (it ends after the batch in hand is written). Each batch's
// invoices, the clients' outcomes and the run's counts commit together, so a crash leaves whole
// invoices with their numbers and nothing half done; running the period again completes it.
// on_progress is called after each batch is durable.
void execute_billing_run(const BillingEnv& env, const std::string& tenant_id,
                         const std::string& run_id, std::stop_token stop,
                         const std::function<void(const RunProgress&)>& on_progress = {});

// Which clients of the run GET /v1/billing-runs/{id} lists: by client id after `after`.
struct RunItemsPage {
  int64_t limit = 100;
  std::string after;
  std::optional<std::string> outcome;  // issued | would_issue | skipped | failed
};

// The run as GET /v1/billing-runs/{id} shows it, with one page of its clients; null when the
// tenant has no such run.
Json::Value billing_run_json(store::Tx& tx, const std::string& tenant_id, const std::string& run_id,
                             const RunItemsPage& page);

// Marks interrupted the runs a process that is gone left queued or running (a crash, a kill);
// returns how many. Called when serve starts; a run in a live process (a CLI run) is left alone.
int64_t interrupt_abandoned_runs(store::Store& store);

}  // namespace psahost::billing
