#include "webhooks/inbox.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "events/event_log.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace psahost::webhooks {

Json::Value inbox_entry_json(const store::Row& r, bool with_body) {
  Json::Value v;
  v["id"] = static_cast<Json::Int64>(r.integer(0));
  v["connection_id"] = r.text(1);
  v["connection"] = r.text(2);
  v["dedupe_key"] = r.text(3);
  v["received_at"] = r.text(4);
  v["status"] = r.text(5);
  v["attempts"] = static_cast<Json::Int64>(r.integer(6));
  v["next_attempt_at"] = r.is_null(7) ? Json::Value() : Json::Value(r.text(7));
  v["last_error"] = r.is_null(8) ? Json::Value() : Json::Value(r.text(8));
  v["outcome"] = r.is_null(9) ? Json::Value() : store::from_text(r.text(9));
  v["processed_at"] = r.is_null(10) ? Json::Value() : Json::Value(r.text(10));
  if (with_body) {
    v["headers"] = store::from_text(r.text(11));
    v["payload"] = store::from_text(r.text(12));
  }
  return v;
}

InboxProcessor::InboxProcessor(store::Store& store, Connections& connections,
                               const plugins::PluginRegistry& plugins, const ChangeApplier& applier,
                               Logger& log, std::function<void()> events_committed,
                               InboxOptions options)
    : store_(store),
      connections_(connections),
      plugins_(plugins),
      applier_(applier),
      log_(log),
      events_committed_(std::move(events_committed)),
      options_(options) {}

InboxProcessor::~InboxProcessor() {
  stop();
}

void InboxProcessor::start() {
  if (thread_.joinable()) return;
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
}

void InboxProcessor::stop() {
  stopping_.store(true);
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void InboxProcessor::notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

void InboxProcessor::run() {
  while (!stopping_.load()) {
    auto wake = std::chrono::system_clock::now() + options_.idle_poll;
    bool worked = false;
    try {
      worked = round(wake);
    } catch (const std::exception& e) {
      Json::Value f;
      f["error"] = e.what();
      log_.error("inbox round failed; trying again shortly", f);
    }
    if (worked) continue;
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, wake, [this] { return notified_ || stopping_.load(); });
    const bool notified = notified_;
    notified_ = false;
    // Under a stream of webhooks every commit notifies: gathering them for a moment turns a
    // round per commit into a round per batch.
    if (notified && !stopping_.load()) {
      wake_.wait_for(lock, options_.gather, [this] { return stopping_.load(); });
      notified_ = false;
    }
  }
}

bool InboxProcessor::round(std::chrono::system_clock::time_point& wake) {
  const auto now = std::chrono::system_clock::now();
  const std::string now_text = rfc3339(now);
  struct Due {
    std::string connection_id, tenant_id;
    std::vector<Entry> entries;
  };
  std::vector<Due> work;
  store_.read([&](store::Tx& tx) {
    // Connections are few and the pending index leads with them: one probe each.
    std::vector<std::pair<std::string, std::string>> ids;
    tx.each(
        "SELECT id, tenant_id FROM connections c WHERE EXISTS (SELECT 1 FROM inbox i WHERE "
        "i.connection_id = c.id AND i.status = 'pending')",
        {}, [&](const store::Row& r) { ids.emplace_back(r.text(0), r.text(1)); });
    for (const auto& [id, tenant_id] : ids) {
      // Oldest first, and nothing after an entry that waits for its retry: a connector sees a
      // connection's deliveries in the order they came, so an old update never overwrites a
      // newer one. An entry that waits for an object not synced yet is the exception: what
      // comes after it goes ahead, since it may be what it waits for. The first entry that
      // counts is looked at alone first, so a connection that waits costs one probe.
      constexpr const char* kCounting =
          "FROM inbox WHERE connection_id = ? AND status = 'pending' AND NOT (deferred = 1 AND "
          "next_attempt_at > ?) ORDER BY id";
      if (auto deferred = tx.query_one(
              "SELECT MIN(next_attempt_at) FROM inbox WHERE connection_id = ? AND status = "
              "'pending' AND deferred = 1 AND next_attempt_at > ?",
              {id, now_text});
          deferred && !deferred->is_null(0)) {
        if (auto at = parse_rfc3339(deferred->text(0))) wake = std::min(wake, *at);
      }
      auto head = tx.query_one(std::string("SELECT next_attempt_at ") + kCounting + " LIMIT 1",
                               {id, now_text});
      if (!head) continue;
      if (!head->is_null(0) && head->text(0) > now_text) {
        if (auto at = parse_rfc3339(head->text(0))) wake = std::min(wake, *at);
        continue;
      }
      std::vector<Entry> entries;
      bool blocked = false;
      tx.each(std::string("SELECT id, tenant_id, connection_id, headers, body, received_at, "
                          "attempts, next_attempt_at ") +
                  kCounting + " LIMIT ?",
              {id, now_text, static_cast<int64_t>(options_.batch)}, [&](const store::Row& r) {
                if (blocked) return;
                if (!r.is_null(7) && r.text(7) > now_text) {
                  blocked = true;
                  if (auto at = parse_rfc3339(r.text(7))) wake = std::min(wake, *at);
                  return;
                }
                entries.push_back(Entry{r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4),
                                        r.text(5), r.integer(6)});
              });
      if (!entries.empty()) work.push_back({id, tenant_id, std::move(entries)});
    }
  });
  bool worked = false;
  for (const auto& due : work) {
    auto connection = connections_.get(due.tenant_id, due.connection_id);
    if (!connection) continue;
    for (const auto& entry : due.entries) {
      if (stopping_.load()) break;
      worked = true;
      const Result r = process(entry, *connection);
      if (updates_.size() >= 64) flush();
      if (r == Result::failed || r == Result::waiting) break;  // keep the order
    }
  }
  flush();
  return worked;
}

InboxProcessor::Result InboxProcessor::process(const Entry& entry, const Connection& connection) {
  if (connection.status != "active") {
    wait(entry, "connection " + connection.name + " is disabled");
    return Result::waiting;
  }
  const auto plugin = plugins_.find(connection.connector);
  if (!plugin || !plugin->manifest().hooks.webhook) {
    wait(entry, "connector " + connection.connector + " is not loaded");
    return Result::waiting;
  }
  if (!plugins_.acts_for(connection.tenant_id, connection.connector)) {
    wait(entry, "connector " + connection.connector + " is switched off for this tenant");
    return Result::waiting;
  }
  Json::Value request;
  request["tenant_id"] = connection.tenant_id;
  request["connection"] = connection_json(connection);
  request["delivery"]["id"] = static_cast<Json::Int64>(entry.id);
  request["delivery"]["received_at"] = entry.received_at;
  request["delivery"]["attempt"] = static_cast<Json::Int64>(entry.attempts + 1);
  request["headers"] = store::from_text(entry.headers);
  request["payload"] = store::from_text(entry.body);

  const auto answer = calls_.call(plugin, "webhook.map", request);
  if (!answer.ok()) {
    fail(entry, "webhook.map failed: " + answer.error_message());
    return Result::failed;
  }
  std::vector<ChangeResult> results;
  try {
    const Json::Value& changes = answer.body["changes"];
    results =
        applier_.apply(connection, changes.isNull() ? Json::Value(Json::arrayValue) : changes);
  } catch (const NotSyncedYet& e) {
    fail(entry, e.what(), true);
    return Result::deferred;
  } catch (const RetryLater& e) {
    fail(entry, e.what());
    return Result::failed;
  } catch (const InvalidChange& e) {
    fail(entry, std::string("the connector's changes are not usable: ") + e.what());
    return Result::failed;
  }

  Json::Value outcome(Json::arrayValue);
  for (const auto& r : results) outcome.append(r.to_json());
  const Json::Value& changes = answer.body["changes"];
  Update u;
  u.id = entry.id;
  u.outcome = store::to_text(outcome);
  for (const auto& r : results) u.applied = u.applied || r.outcome == "applied";
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].outcome != "refused") continue;
    // The connector hears of refusals by subscribing to this event (sync.push), so that the
    // system the change came from can show why, e.g. time approved there but not billable here.
    Json::Value payload;
    payload["connection_id"] = connection.id;
    payload["connection"] = connection.name;
    payload["inbox_id"] = static_cast<Json::Int64>(entry.id);
    payload["change"] = changes[static_cast<Json::ArrayIndex>(i)];
    payload["status"] = results[i].status;
    payload["problem"] = results[i].problem;
    payload["object_id"] =
        results[i].object_id.empty() ? Json::Value() : Json::Value(results[i].object_id);
    u.events.push_back({connection.tenant_id, "inbound.change_refused", "connection", connection.id,
                        payload, "connection:" + connection.name, "connection:" + connection.id});
  }
  updates_.push_back(std::move(u));
  return Result::processed;
}

void InboxProcessor::flush() {
  if (updates_.empty()) return;
  const std::string now = now_rfc3339();
  bool appended = false;
  store_.write([&](store::Tx& tx) {
    for (const auto& u : updates_) {
      switch (u.result) {
        case Result::processed:
          tx.exec(
              "UPDATE inbox SET status = 'processed', attempts = attempts + 1, outcome = ?, "
              "last_error = NULL, next_attempt_at = NULL, deferred = 0, processed_at = ? WHERE id "
              "= ? AND status = 'pending'",
              {u.outcome, now, u.id});
          break;
        case Result::failed:
        case Result::deferred:
          tx.exec(
              "UPDATE inbox SET attempts = ?, last_error = ?, status = ?, next_attempt_at = ?, "
              "deferred = ? WHERE id = ? AND status = 'pending'",
              {u.attempts, u.error, std::string(u.park ? "parked" : "pending"),
               u.park ? store::Value(nullptr) : store::Value(u.next_attempt_at),
               int64_t{u.deferred ? 1 : 0}, u.id});
          break;
        case Result::waiting:
          tx.exec(
              "UPDATE inbox SET last_error = ?, next_attempt_at = ? WHERE id = ? AND status = "
              "'pending'",
              {u.error, u.next_attempt_at, u.id});
          break;
      }
      appended = appended || u.applied;
      for (const auto& e : u.events) {
        events::append(tx, e);
        appended = true;
      }
    }
  });
  if (options_.metrics) {
    for (const auto& u : updates_) {
      options_.metrics->count_inbox(u.result == Result::processed ? "processed"
                                    : u.result == Result::waiting ? "waiting"
                                    : u.park                      ? "parked"
                                                                  : "failed");
    }
  }
  updates_.clear();
  if (appended && events_committed_) events_committed_();
}

std::chrono::milliseconds InboxProcessor::backoff(int64_t attempts) {
  auto delay = options_.initial_backoff;
  for (int64_t i = 1; i < attempts && delay < options_.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options_.max_backoff);
  // ±20% so that entries failing together do not all come back in the same instant.
  std::uniform_real_distribution<double> spread(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(delay.count() * spread(jitter_)));
}

void InboxProcessor::fail(const Entry& entry, const std::string& error, bool deferred) {
  Update u;
  u.id = entry.id;
  u.result = Result::failed;
  u.deferred = deferred;
  u.attempts = entry.attempts + 1;
  u.park = u.attempts >= options_.max_attempts;
  u.error = error;
  u.next_attempt_at = rfc3339(std::chrono::system_clock::now() + backoff(u.attempts));
  Json::Value f;
  f["inbox_id"] = static_cast<Json::Int64>(entry.id);
  f["attempts"] = static_cast<Json::Int64>(u.attempts);
  f["error"] = error;
  if (u.park) {
    log_.error("inbound webhook parked after repeated failures; replay it once fixed", f);
  } else {
    log_.warn("inbound webhook failed; it will be retried", f);
  }
  updates_.push_back(std::move(u));
}

void InboxProcessor::wait(const Entry& entry, const std::string& why) {
  Update u;
  u.id = entry.id;
  u.result = Result::waiting;
  u.error = why;
  u.next_attempt_at = rfc3339(std::chrono::system_clock::now() + options_.connector_missing_delay);
  updates_.push_back(std::move(u));
}

bool store_inbox_entry(store::Tx& tx, const std::string& tenant_id,
                       const std::string& connection_id, const std::string& dedupe_key,
                       const std::string& headers, const std::string& body,
                       const std::string& received_at) {
  return tx.exec(
             "INSERT INTO inbox (tenant_id, connection_id, dedupe_key, headers, body, "
             "received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (connection_id, dedupe_key) DO "
             "NOTHING",
             {tenant_id, connection_id, dedupe_key, headers, body, received_at}) > 0;
}

std::optional<Json::Value> replay_inbox_entry(store::Tx& tx, const std::string& tenant_id,
                                              int64_t id) {
  const auto changed = tx.exec(
      "UPDATE inbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, deferred = 0, "
      "last_error = NULL WHERE tenant_id = ? AND id = ? AND status <> 'pending'",
      {tenant_id, id});
  auto r = tx.query_one(std::string("SELECT ") + kInboxColumns +
                            " FROM inbox i JOIN connections c ON c.id = i.connection_id WHERE "
                            "i.tenant_id = ? AND i.id = ?",
                        {tenant_id, id});
  if (!r) return std::nullopt;
  Json::Value body = inbox_entry_json(*r, false);
  body["replayed"] = changed > 0;
  return body;
}

}  // namespace psahost::webhooks
