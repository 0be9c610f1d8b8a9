// Hands the inbox to connectors: each verified request, oldest first and one at a time per
// connection, goes to the connector's webhook.map hook, and the domain changes it answers with
// are applied through the API's routes. Failures are retried with backoff and then parked, where
// GET /v1/inbox shows them and POST /v1/inbox/{id}/replay sends them through again.
#pragma once

#include "events/event_log.hpp"
#include "plugins/bounded_call.hpp"
#include "store/store.hpp"
#include "webhooks/changes.hpp"
#include "webhooks/connections.hpp"

#include <json/value.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace psahost {
class Logger;
class Metrics;
namespace plugins {
class PluginRegistry;
}
}  // namespace psahost

namespace psahost::webhooks {

struct InboxOptions {
  int max_attempts = 8;  // failed attempts before an entry is parked
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
  // While the connection's connector is not loaded, its entries wait this long between looks
  // (without counting attempts: nothing was tried).
  std::chrono::milliseconds connector_missing_delay{5'000};
  std::chrono::milliseconds idle_poll{1'000};
  // After a wake-up, how long new entries are let gather before a round looks at them.
  std::chrono::milliseconds gather{5};
  std::size_t batch = 256;
  Metrics* metrics = nullptr;  // counts outcomes when set
};

class InboxProcessor {
 public:
  InboxProcessor(store::Store& store, Connections& connections,
                 const plugins::PluginRegistry& plugins, const ChangeApplier& applier, Logger& log,
                 std::function<void()> events_committed, InboxOptions options = {});
  ~InboxProcessor();
  InboxProcessor(const InboxProcessor&) = delete;
  InboxProcessor& operator=(const InboxProcessor&) = delete;

  void start();
  // Finishes the entry in progress and joins. Idempotent.
  void stop();
  // New entries were committed: look now rather than at the next poll.
  void notify();

 private:
  struct Entry {
    int64_t id = 0;
    std::string tenant_id, connection_id, headers, body, received_at;
    int64_t attempts = 0;
  };
  enum class Result { processed, failed, deferred, waiting };
  // What processing an entry came to, written with others in one transaction: an entry that
  // changes nothing must not cost a commit of its own.
  struct Update {
    int64_t id = 0;
    Result result = Result::processed;
    std::string outcome;  // processed: the results, as JSON text
    std::string error;    // failed or waiting: why
    std::string next_attempt_at;
    int64_t attempts = 0;
    bool park = false;
    bool deferred = false;
    std::vector<events::NewEvent> events;
    // A change was applied: the features appended events the dispatcher and outbox must hear of.
    bool applied = false;
  };

  void run();
  // Works through the due entries; returns true if it processed any. wake is set to when the
  // next one becomes due.
  bool round(std::chrono::system_clock::time_point& wake);
  Result process(const Entry& entry, const Connection& connection);
  void fail(const Entry& entry, const std::string& error, bool deferred = false);
  void wait(const Entry& entry, const std::string& why);
  // Writes the updates gathered so far in one transaction.
  void flush();
  std::chrono::milliseconds backoff(int64_t attempts);

  store::Store& store_;
  Connections& connections_;
  const plugins::PluginRegistry& plugins_;
  const ChangeApplier& applier_;
  Logger& log_;
  std::function<void()> events_committed_;
  InboxOptions options_;
  plugins::BoundedCalls calls_;
  std::mt19937_64 jitter_{std::random_device{}()};
  std::vector<Update> updates_;  // processor thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The only writers of the inbox besides the processor above.
// Stores a received request (a webhook, or a delivery a poll found) once per connection and
// dedupe key; true when it was new.
bool store_inbox_entry(store::Tx& tx, const std::string& tenant_id,
                       const std::string& connection_id, const std::string& dedupe_key,
                       const std::string& headers, const std::string& body,
                       const std::string& received_at);
// A replay starts the entry over: the connector maps it again, with a fresh count of attempts,
// whatever became of it before. The entry as inbox_entry_json() shows it, with "replayed": false
// when it was pending already; nullopt when the tenant has no such entry.
std::optional<Json::Value> replay_inbox_entry(store::Tx& tx, const std::string& tenant_id,
                                              int64_t id);

// Rows for GET /v1/inbox and replay, shared by the routes and the CLI.
Json::Value inbox_entry_json(const store::Row& row, bool with_body);
inline constexpr const char* kInboxColumns =
    "i.id, i.connection_id, c.name, i.dedupe_key, i.received_at, i.status, i.attempts, "
    "i.next_attempt_at, i.last_error, i.outcome, i.processed_at, i.headers, i.body";

}  // namespace psahost::webhooks
