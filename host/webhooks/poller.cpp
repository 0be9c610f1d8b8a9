#include "webhooks/poller.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"
#include "events/event_log.hpp"
#include "plugins/bounded_call.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "webhooks/inbox.hpp"

#include <psa/sdk.hpp>

#include <algorithm>
#include <vector>

namespace psahost::webhooks {
namespace {

constexpr std::size_t kMaxKey = 200;
constexpr std::size_t kMaxDeliveries = 1000;
constexpr int64_t kMaxRetryAfter = 24 * 3600;

// The poll state row, made on first use.
void ensure_row(store::Tx& tx, const std::string& connection_id, const std::string& now) {
  tx.exec(
      "INSERT INTO connection_polls (connection_id, updated_at) VALUES (?, ?) ON CONFLICT DO "
      "NOTHING",
      {connection_id, now});
}

std::string later(std::chrono::milliseconds delay) {
  return rfc3339(std::chrono::system_clock::now() + delay);
}

// A connector's answer is used only whole: every delivery with a key and a payload, and a cursor.
std::string unusable(const Json::Value& answer) {
  if (!answer.isObject()) return "the answer is not an object";
  const Json::Value& deliveries = answer["deliveries"];
  if (!deliveries.isNull() && !deliveries.isArray()) return "deliveries is not a list";
  if (deliveries.size() > kMaxDeliveries) return "more than 1000 deliveries in one page";
  for (Json::ArrayIndex i = 0; i < deliveries.size(); ++i) {
    const Json::Value& d = deliveries[i];
    const std::string at = "deliveries[" + std::to_string(i) + "]";
    if (!d["key"].isString() || d["key"].asString().empty() || d["key"].asString().size() > kMaxKey)
      return at + ".key must be 1 to 200 characters";
    if (!d["payload"].isObject() && !d["payload"].isArray())
      return at + ".payload must be an object or a list";
  }
  if (!answer["cursor"].isObject()) return "cursor is not an object";
  return "";
}

}  // namespace

bool polls(const plugins::PluginRegistry& plugins, const Connection& connection) {
  const auto plugin = plugins.find(connection.connector);
  if (!plugin) return false;
  const auto& commands = plugin->manifest().hooks.commands;
  return std::find(commands.begin(), commands.end(), "poll") != commands.end();
}

ConnectionPoller::ConnectionPoller(store::Store& store, Connections& connections,
                                   const plugins::PluginRegistry& plugins, Logger& log,
                                   std::function<void()> received, PollerOptions options)
    : store_(store),
      connections_(connections),
      plugins_(plugins),
      log_(log),
      received_(std::move(received)),
      options_(options) {}

ConnectionPoller::~ConnectionPoller() {
  stop();
}

void ConnectionPoller::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void ConnectionPoller::stop() {
  stopping_.store(true);
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConnectionPoller::poll_soon(const std::string& connection_id) {
  {
    std::lock_guard lock(mutex_);
    asked_.insert(connection_id);
  }
  wake_.notify_all();
}

void ConnectionPoller::run() {
  while (!stopping_.load()) {
    try {
      round();
    } catch (const std::exception& e) {
      Json::Value f;
      f["error"] = e.what();
      log_.error("a catch-up poll round failed", f);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.idle, [this] { return stopping_.load() || !asked_.empty(); });
  }
}

void ConnectionPoller::round() {
  std::set<std::string> asked;
  {
    std::lock_guard lock(mutex_);
    asked.swap(asked_);
  }
  struct Due {
    std::string tenant_id, id;
    bool asked = false;
  };
  std::vector<Due> due;
  const std::string now = now_rfc3339();
  store_.read([&](store::Tx& tx) {
    tx.each(
        "SELECT c.tenant_id, c.id, p.next_poll_at FROM connections c LEFT JOIN connection_polls p "
        "ON p.connection_id = c.id WHERE c.status = 'active' ORDER BY c.id",
        {}, [&](const store::Row& r) {
          const bool was_asked = asked.count(r.text(1)) > 0;
          if (was_asked || r.is_null(2) || r.text(2) <= now) {
            due.push_back({r.text(0), r.text(1), was_asked});
          }
        });
  });
  for (const auto& d : due) {
    if (stopping_.load()) return;
    const auto connection = connections_.get(d.tenant_id, d.id);
    if (!connection || !polls(plugins_, *connection)) continue;
    poll(*connection, d.asked ? "asked" : "schedule");
  }
}

void ConnectionPoller::poll(const Connection& connection, const std::string& reason) {
  const auto plugin = plugins_.find(connection.connector);
  if (!plugin) return;
  for (int page = 0; page < options_.max_pages && !stopping_.load(); ++page) {
    Json::Value cursor(Json::objectValue);
    int64_t failures = 0;
    store_.read([&](store::Tx& tx) {
      if (auto r =
              tx.query_one("SELECT cursor, failures FROM connection_polls WHERE connection_id = ?",
                           {connection.id})) {
        cursor = store::from_text(r->text(0));
        failures = r->integer(1);
      }
    });
    Json::Value request;
    request["tenant_id"] = connection.tenant_id;
    request["connection"] = connection_json(connection);
    request["cursor"] = cursor;
    request["reason"] = reason;
    const auto answer = calls_.call(plugin, "command.poll", request);
    std::string error = answer.ok() ? unusable(answer.body) : answer.error_message();
    if (!error.empty()) {
      // Backoff doubles with each failure in a row, from one interval up to max_backoff.
      auto delay = options_.interval * (int64_t{1} << std::min<int64_t>(failures, 10));
      delay = std::min(delay,
                       std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_backoff));
      const std::string now = now_rfc3339();
      store_.write([&](store::Tx& tx) {
        ensure_row(tx, connection.id, now);
        tx.exec(
            "UPDATE connection_polls SET failures = failures + 1, last_error = ?, next_poll_at = "
            "?, updated_at = ? WHERE connection_id = ?",
            {error, later(delay), now, connection.id});
      });
      Json::Value f;
      f["connection"] = connection.name;
      f["error"] = error;
      log_.warn("a catch-up poll failed; it is tried again later", f);
      return;
    }
    const Json::Value& body = answer.body;
    const bool more = body["more"].isBool() && body["more"].asBool();
    int64_t retry_after = 0;
    if (body["retry_after_seconds"].isIntegral() && !body["retry_after_seconds"].isBool()) {
      retry_after = std::clamp<int64_t>(body["retry_after_seconds"].asInt64(), 1, kMaxRetryAfter);
    }
    const std::string next = retry_after > 0 ? later(std::chrono::seconds(retry_after))
                             : more          ? now_rfc3339()
                                             : later(options_.interval);
    const std::string now = now_rfc3339();
    std::size_t stored = 0;
    store_.write([&](store::Tx& tx) {
      stored = 0;
      for (const auto& d : body["deliveries"]) {
        stored += store_inbox_entry(tx, connection.tenant_id, connection.id,
                                    "poll:" + d["key"].asString(), R"({"x-psahost-source":"poll"})",
                                    psa::json::write(d["payload"]), now)
                      ? 1
                      : 0;
      }
      ensure_row(tx, connection.id, now);
      tx.exec(
          "UPDATE connection_polls SET cursor = ?, failures = 0, last_error = NULL, "
          "last_polled_at = ?, next_poll_at = ?, updated_at = ? WHERE connection_id = ?",
          {store::to_text(body["cursor"]), now, next, now, connection.id});
    });
    if (stored > 0 && received_) received_();
    if (body["note"].isString()) {
      Json::Value f;
      f["connection"] = connection.name;
      log_.info(body["note"].asString(), f);
    }
    if (!more || retry_after > 0) return;
  }
}

bool record_webhook_deactivated(store::Store& store, const Connection& connection,
                                const std::string& detail) {
  const auto at = std::chrono::system_clock::now();
  const std::string now = rfc3339(at);
  const std::string quiet_since = rfc3339(at - kDeactivationQuietPeriod);
  bool recorded = false;
  store.write([&](store::Tx& tx) {
    ensure_row(tx, connection.id, now);
    const auto last = tx.query_one(
        "SELECT 1 FROM connection_polls WHERE connection_id = ? AND webhook_state = "
        "'deactivated' AND webhook_state_at > ?",
        {connection.id, quiet_since});
    if (last) return;
    recorded = true;
    tx.exec(
        "UPDATE connection_polls SET webhook_state = 'deactivated', webhook_state_at = ?, "
        "next_poll_at = ?, updated_at = ? WHERE connection_id = ?",
        {now, now, now, connection.id});
    Json::Value payload;
    payload["connection"] = connection_json(connection);
    payload["detail"] = detail;
    payload["catching_up"] = "the host polls the connection's system for what it missed";
    events::append(
        tx, {connection.tenant_id, "connection.webhook_deactivated", "connection", connection.id,
             payload, "connection:" + connection.name, "connection:" + connection.id});
  });
  return recorded;
}

Json::Value catch_up_json(store::Store& store, const std::string& connection_id) {
  Json::Value out;
  store.read([&](store::Tx& tx) {
    const auto r = tx.query_one(
        "SELECT cursor, last_polled_at, next_poll_at, last_error, failures, webhook_state, "
        "webhook_state_at FROM connection_polls WHERE connection_id = ?",
        {connection_id});
    if (!r) return;
    out["cursor"] = store::from_text(r->text(0));
    out["last_polled_at"] = r->is_null(1) ? Json::Value() : Json::Value(r->text(1));
    out["next_poll_at"] = r->is_null(2) ? Json::Value() : Json::Value(r->text(2));
    out["last_error"] = r->is_null(3) ? Json::Value() : Json::Value(r->text(3));
    out["failures"] = static_cast<Json::Int64>(r->integer(4));
    out["webhook_state"] = r->text(5);
    out["webhook_state_at"] = r->is_null(6) ? Json::Value() : Json::Value(r->text(6));
  });
  return out;
}

}  // namespace psahost::webhooks
