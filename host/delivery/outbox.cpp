#include "delivery/outbox.hpp"

#include "delivery/connector_http.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "events/event_log.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "webhooks/signature.hpp"

#include <psa/sdk.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace psahost::delivery {
namespace {

constexpr const char* kCursor = "outbox";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The body of a webhook: the event as receivers apply it, with the key they order by.
std::string webhook_body(const events::Event& e) {
  Json::Value v;
  v["type"] = e.type;
  v["timestamp"] = e.created_at;
  v["id"] = "evt_" + std::to_string(e.seq);
  v["seq"] = static_cast<Json::Int64>(e.seq);
  v["object"]["type"] = e.object_type;
  v["object"]["id"] = e.object_id;
  v["ordering_key"] = e.ordering_key;
  v["data"] = e.payload;
  return psa::json::write(v);
}

bool is_token(std::string_view s) {
  return !s.empty() && s.size() <= 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z'); });
}

// Checks one request a connector's sync.push asked for and makes it absolute; "" when usable,
// else what is wrong. The host only sends to what the connector may reach (may_reach).
std::string check_request(Json::Value& request, const webhooks::Connection& connection,
                          const plugins::Manifest& manifest) {
  if (!request.isObject()) return "a request must be an object";
  const std::string method = request.get("method", "POST").asString();
  if (!is_token(method)) return "method must be an upper-case HTTP method";
  request["method"] = method;
  std::string problem;
  const std::string url = request_url(request, connection, &problem);
  if (url.empty()) return problem;
  if (!may_reach(connection, manifest, url)) {
    return "the url's origin is neither the connection's site nor in the manifest's network";
  }
  request["url"] = url;
  request.removeMember("path");
  if (!request["headers"].isNull() && !request["headers"].isObject()) {
    return "headers must be an object of strings";
  }
  for (const auto& name : request["headers"].getMemberNames()) {
    if (!request["headers"][name].isString()) return "header " + name + " must be a string";
  }
  if (request["body"].isObject() || request["body"].isArray()) {
    request["body"] = psa::json::write(request["body"]);
    if (!request["headers"].isMember("content-type") &&
        !request["headers"].isMember("Content-Type")) {
      request["headers"]["content-type"] = "application/json";
    }
  } else if (!request["body"].isNull() && !request["body"].isString()) {
    return "body must be a string, an object or an array";
  }
  if (!request["idempotency_key"].isNull() &&
      (!request["idempotency_key"].isString() || request["idempotency_key"].asString().empty() ||
       request["idempotency_key"].asString().size() > 200)) {
    return "idempotency_key must be a string of 1 to 200 characters";
  }
  return "";
}

}  // namespace

std::optional<std::vector<std::chrono::milliseconds>> parse_retry_schedule(std::string_view text) {
  std::vector<std::chrono::milliseconds> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string item(text.substr(0, comma));
    char* end = nullptr;
    const double seconds = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(seconds) || seconds < 0 ||
        seconds > 7 * 24 * 3600) {
      return std::nullopt;
    }
    out.emplace_back(static_cast<int64_t>(seconds * 1000));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty() || out.size() > 20) return std::nullopt;
  return out;
}

Outbox::Outbox(store::Store& store, webhooks::Connections& connections,
               const plugins::PluginRegistry& plugins, const webhooks::ChangeApplier& applier,
               const crypto::SecretBox& secrets, net::HttpsClient& client, Logger& log,
               std::function<void()> events_committed, ConnectionAuth* auth, OutboxOptions options)
    : store_(store),
      connections_(connections),
      plugins_(plugins),
      applier_(applier),
      secrets_(secrets),
      client_(client),
      log_(log),
      events_committed_(std::move(events_committed)),
      auth_(auth),
      options_(std::move(options)) {}

Outbox::~Outbox() {
  stop();
}

void Outbox::start() {
  if (feeder_.joinable()) return;
  stopping_.store(false);
  feeder_ = std::thread([this] { feed(); });
  scheduler_ = std::thread([this] { schedule(); });
  worker_ = std::thread([this] { work(); });
}

void Outbox::stop() {
  stopping_.store(true);
  {
    std::lock_guard lock(mutex_);
    feed_notified_ = send_notified_ = true;
  }
  feed_wake_.notify_all();
  send_wake_.notify_all();
  work_wake_.notify_all();
  for (auto* t : {&feeder_, &scheduler_, &worker_}) {
    if (t->joinable()) t->join();
  }
}

void Outbox::events_committed() {
  if (events_committed_) events_committed_();
  notify();
}

void Outbox::notify() {
  {
    std::lock_guard lock(mutex_);
    feed_notified_ = send_notified_ = true;
  }
  feed_wake_.notify_one();
  send_wake_.notify_one();
}

// --- fan-out: events -> deliveries -----------------------------------------------------------

void Outbox::feed() {
  while (!stopping_.load()) {
    bool more = false;
    try {
      more = fan_out_round();
    } catch (const std::exception& e) {
      Json::Value f;
      f["error"] = e.what();
      log_.error("outbox fan-out failed; trying again shortly", f);
    }
    if (more) continue;
    std::unique_lock lock(mutex_);
    feed_wake_.wait_for(lock, options_.idle_poll,
                        [this] { return feed_notified_ || stopping_.load(); });
    feed_notified_ = false;
  }
}

bool Outbox::fan_out_round() {
  int64_t cursor = 0;
  std::vector<events::Event> events;
  std::vector<Endpoint> endpoints;
  struct Syncing {
    std::string id, tenant_id, created_at;
    std::vector<std::string> types;
  };
  std::vector<Syncing> syncing;
  store_.read([&](store::Tx& tx) {
    if (auto r = tx.query_one("SELECT last_seq FROM subscriber_cursors WHERE subscriber = ?",
                              {std::string(kCursor)})) {
      cursor = r->integer(0);
    }
    events = events::read_after(tx, cursor, static_cast<int64_t>(options_.batch));
    if (events.empty()) return;
    endpoints = receiving_endpoints(tx);
    tx.each("SELECT id, tenant_id, connector, created_at FROM connections WHERE status = 'active'",
            {}, [&](const store::Row& r) {
              const auto manifest = plugins_.manifest_of(r.text(2));
              if (!manifest || manifest->hooks.sync.empty()) return;
              syncing.push_back({r.text(0), r.text(1), r.text(3), manifest->hooks.sync});
            });
  });
  if (events.empty()) return false;

  std::vector<std::vector<store::Value>> rows;
  const std::string now = now_rfc3339();
  for (const auto& e : events) {
    const std::string message_id = "evt_" + std::to_string(e.seq);
    // A subscriber gets what happened after it subscribed, not the history before it.
    for (const auto& ep : endpoints) {
      if (ep.tenant_id == e.tenant_id && ep.subscribes_to(e.type) &&
          e.created_at >= ep.created_at) {
        rows.push_back(
            {e.tenant_id, std::string("webhook"), ep.id, nullptr, e.seq, e.type, message_id, now});
      }
    }
    for (const auto& c : syncing) {
      const bool wanted = std::any_of(c.types.begin(), c.types.end(), [&](const std::string& t) {
        return t == "*" || t == e.type;
      });
      if (c.tenant_id == e.tenant_id && wanted && e.created_at >= c.created_at) {
        rows.push_back(
            {e.tenant_id, std::string("sync"), nullptr, c.id, e.seq, e.type, message_id, now});
      }
    }
  }
  const int64_t last = events.back().seq;
  store_.write([&](store::Tx& tx) {
    for (auto& row : rows) {
      row.push_back(now);
      row.push_back(now);
      tx.exec(
          "INSERT INTO deliveries (tenant_id, kind, endpoint_id, connection_id, event_seq, "
          "event_type, message_id, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, "
          "?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
          row);
    }
    tx.exec(
        "INSERT INTO subscriber_cursors (subscriber, last_seq, updated_at) VALUES (?, ?, ?) ON "
        "CONFLICT (subscriber) DO UPDATE SET last_seq = excluded.last_seq, updated_at = "
        "excluded.updated_at",
        {std::string(kCursor), last, now});
  });
  if (!rows.empty()) {
    {
      std::lock_guard lock(mutex_);
      send_notified_ = true;
    }
    send_wake_.notify_one();
  }
  return events.size() == options_.batch;
}

// --- sending -----------------------------------------------------------------------------------

void Outbox::schedule() {
  while (!stopping_.load()) {
    auto wake = std::chrono::system_clock::now() + options_.idle_poll;
    bool started = false;
    try {
      started = send_round(wake);
    } catch (const std::exception& e) {
      Json::Value f;
      f["error"] = e.what();
      log_.error("outbox delivery round failed; trying again shortly", f);
    }
    if (started) continue;
    std::unique_lock lock(mutex_);
    send_wake_.wait_until(lock, wake, [this] { return send_notified_ || stopping_.load(); });
    send_notified_ = false;
  }
}

bool Outbox::send_round(std::chrono::system_clock::time_point& wake) {
  const std::string now = now_rfc3339();
  {
    // What finishes from here on may still look pending in what is read below: it must not be
    // sent again on the strength of that.
    std::lock_guard lock(mutex_);
    finished_since_read_.clear();
  }
  std::vector<Pending> due;
  std::map<std::string, Endpoint> endpoints;
  std::map<std::string, int64_t> oldest_request;  // per connection: the one that goes next
  store_.read([&](store::Tx& tx) {
    // Messages of a disabled endpoint or connection wait where they are, out of the way.
    tx.each(
        "SELECT d.id, d.kind, d.tenant_id, COALESCE(d.endpoint_id, ''), COALESCE(d.connection_id, "
        "''), d.event_seq, d.event_type, d.message_id, COALESCE(d.request, ''), d.attempts, "
        "d.failures FROM deliveries d LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id LEFT "
        "JOIN connections c ON c.id = d.connection_id WHERE d.status = 'pending' AND "
        "d.next_attempt_at <= ? AND (e.status = 'active' OR c.status = 'active') ORDER BY "
        "d.next_attempt_at, d.id LIMIT ?",
        {now, static_cast<int64_t>(options_.batch)}, [&](const store::Row& r) {
          due.push_back(Pending{r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4),
                                r.integer(5), r.text(6), r.text(7), r.text(8), r.integer(9),
                                r.integer(10)});
        });
    if (auto r =
            tx.query_one("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND "
                         "next_attempt_at > ?",
                         {now});
        r && !r->is_null(0)) {
      if (auto at = parse_rfc3339(r->text(0))) wake = std::min(wake, *at);
    }
    tx.each(std::string("SELECT ") + kEndpointColumns + " FROM webhook_endpoints", {},
            [&](const store::Row& r) {
              auto e = endpoint_from_row(r);
              endpoints.emplace(e.id, std::move(e));
            });
    tx.each(
        "SELECT connection_id, MIN(id) FROM deliveries WHERE status = 'pending' AND kind = "
        "'request' GROUP BY connection_id",
        {}, [&](const store::Row& r) { oldest_request[r.text(0)] = r.integer(1); });
  });

  bool started = false;
  for (const auto& d : due) {
    if (stopping_.load()) break;
    std::string target;
    int cap = 1;
    if (d.kind == "webhook") {
      auto it = endpoints.find(d.endpoint_id);
      if (it == endpoints.end() || it->second.status != "active") continue;
      target = "endpoint:" + d.endpoint_id;
      cap = it->second.max_in_flight;
    } else if (d.kind == "request") {
      // A connector's requests go one at a time and in order: an invoice's customer exists in
      // the external system before the invoice is sent.
      if (oldest_request[d.connection_id] != d.id) continue;
      target = "connection:" + d.connection_id;
    } else {
      target = "sync:" + d.connection_id;
    }
    {
      std::lock_guard lock(mutex_);
      if (in_flight_.count(d.id) || finished_since_read_.count(d.id) ||
          in_flight_per_target_[target] >= cap) {
        continue;
      }
      in_flight_.insert(d.id);
      ++in_flight_per_target_[target];
    }
    started = true;
    // Whatever goes wrong in preparing a send is recorded as that attempt's failure: a
    // delivery taken for sending always comes back, or its endpoint would be blocked for good.
    const auto guarded = [this, d, target](const std::function<void()>& send) {
      try {
        send();
      } catch (const std::exception& e) {
        Attempt a;
        a.started_at = now_rfc3339();
        a.error = std::string("could not send: ") + e.what();
        record(d, a, target);
      }
    };
    if (d.kind == "webhook") {
      guarded([&] { send_webhook(d, endpoints.at(d.endpoint_id)); });
    } else if (d.kind == "sync") {
      post_work([this, d, guarded] { guarded([&] { push(d); }); });
    } else {
      post_work([this, d, guarded] {
        guarded([&] {
          auto connection = connections_.get(d.tenant_id, d.connection_id);
          if (!connection) throw std::runtime_error("the connection is gone");
          send_request(d, *connection);
        });
      });
    }
  }
  return started && due.size() == options_.batch;
}

void Outbox::finish(int64_t id, const std::string& target) {
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(id);
    finished_since_read_.insert(id);
    if (--in_flight_per_target_[target] <= 0) in_flight_per_target_.erase(target);
    send_notified_ = true;
  }
  send_wake_.notify_one();
}

void Outbox::send_webhook(const Pending& d, const Endpoint& endpoint) {
  const std::string target = "endpoint:" + endpoint.id;
  std::string key;
  std::optional<events::Event> event;
  try {
    {
      std::lock_guard lock(mutex_);
      if (auto it = endpoint_keys_.find(endpoint.id); it != endpoint_keys_.end()) key = it->second;
    }
    store_.read([&](store::Tx& tx) {
      event = events::read_one(tx, d.event_seq);
      if (key.empty()) {
        auto row = tx.query_one("SELECT secret FROM webhook_endpoints WHERE id = ?", {endpoint.id});
        auto secret =
            row ? secrets_.open(row->text(0), endpoint_secret_context(endpoint.id)) : std::nullopt;
        if (!secret) throw std::runtime_error("the endpoint's secret does not open");
        key = webhooks::standard_webhooks_key(*secret).value_or("");
      }
    });
  } catch (const std::exception& e) {
    Attempt a;
    a.started_at = now_rfc3339();
    a.error = e.what();
    return record(d, a, target);
  }
  {
    std::lock_guard lock(mutex_);
    endpoint_keys_[endpoint.id] = key;
  }
  if (!event) {
    Attempt a;
    a.started_at = now_rfc3339();
    a.error = "event " + std::to_string(d.event_seq) + " is not in the log";
    a.verdict = "failed";
    return record(d, a, target);
  }
  net::OutboundRequest request;
  request.method = "POST";
  request.url = endpoint.url;
  request.body = webhook_body(*event);
  const std::string timestamp = std::to_string(unix_now());
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", d.message_id},
                     {"webhook-timestamp", timestamp},
                     {"webhook-signature", webhooks::standard_webhooks_signature(
                                               key, d.message_id, timestamp, request.body)}};
  request.timeout = options_.request_timeout;
  const std::string started_at = now_rfc3339();
  client_.async_send(std::move(request), [this, d, target, started_at](net::OutboundResponse r) {
    if (r.failure == net::Failure::shutdown) return finish(d.id, target);  // sent again later
    Attempt a;
    a.started_at = started_at;
    answered(a, r);
    record(d, a, target);
  });
}

// --- connectors: sync.push, their requests and sync.result ----------------------------------

void Outbox::post_work(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  work_wake_.notify_one();
}

void Outbox::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      work_wake_.wait(lock, [this] { return !jobs_.empty() || stopping_.load(); });
      if (stopping_.load()) return;  // what is left stays pending in the store
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      Json::Value f;
      f["error"] = e.what();
      log_.error("outbox connector job failed", f);
    }
  }
}

void Outbox::push(const Pending& d) {
  const std::string target = "sync:" + d.connection_id;
  Attempt a;
  a.started_at = now_rfc3339();
  const auto started = std::chrono::steady_clock::now();
  const auto connection = connections_.get(d.tenant_id, d.connection_id);
  const auto plugin = connection && plugins_.acts_for(d.tenant_id, connection->connector)
                          ? plugins_.find(connection->connector)
                          : nullptr;
  std::optional<events::Event> event;
  store_.read([&](store::Tx& tx) { event = events::read_one(tx, d.event_seq); });
  if (!connection || !plugin || !event) {
    a.error = !connection ? "the connection is gone"
              : !plugin   ? "connector " + connection->connector + " is not loaded"
                          : "event " + std::to_string(d.event_seq) + " is not in the log";
    return record(d, a, target);
  }
  Json::Value request;
  request["tenant_id"] = d.tenant_id;
  request["connection"] = webhooks::connection_json(*connection);
  request["event"] = event->to_json();
  const auto answer = calls_.call(plugin, "sync.push", request);
  a.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  if (!answer.ok()) {
    a.error = "sync.push failed: " + answer.error_message();
    return record(d, a, target);
  }
  // What no retry can mend (a number too long for the system, a setting missing) is said once
  // and ends the delivery, where the partner sees it, instead of being tried for a day.
  if (answer.body["failed"].isString()) {
    a.verdict = "failed";
    a.error = "the connector gave up: " + answer.body["failed"].asString();
    return record(d, a, target);
  }
  std::vector<Json::Value> requests;
  const Json::Value& asked = answer.body["requests"];
  for (Json::ArrayIndex i = 0; i < asked.size(); ++i) {
    Json::Value r = asked[i];
    if (const std::string problem = check_request(r, *connection, plugin->manifest());
        !problem.empty()) {
      a.error = "sync.push asked for an unusable request " + std::to_string(i) + ": " + problem;
      return record(d, a, target);
    }
    requests.push_back(std::move(r));
  }
  a.verdict = "delivered";
  a.excerpt = std::to_string(requests.size()) + " request(s) queued";
  record(d, a, target, std::move(requests));
}

void Outbox::send_request(const Pending& d, const webhooks::Connection& connection) {
  const std::string target = "connection:" + d.connection_id;
  const Json::Value stored = store::from_text(d.request);
  net::OutboundRequest request;
  request.method = stored["method"].asString();
  request.url = stored["url"].asString();
  request.body = stored["body"].asString();
  for (const auto& name : stored["headers"].getMemberNames()) {
    request.headers.push_back({name, stored["headers"][name].asString()});
  }
  if (stored["idempotency_key"].isString()) {
    request.headers.push_back({"Idempotency-Key", stored["idempotency_key"].asString()});
  }
  Attempt a;
  a.started_at = now_rfc3339();
  try {
    if (auth_) {
      for (auto& h : auth_->headers(connection)) request.headers.push_back(std::move(h));
    }
  } catch (const std::exception& e) {
    a.error = std::string("could not authenticate to the connection's system: ") + e.what();
    return record(d, a, target);
  }
  request.timeout = options_.request_timeout;
  client_.async_send(std::move(request),
                     [this, d, connection, stored, a](net::OutboundResponse r) mutable {
                       if (r.failure == net::Failure::shutdown)
                         return finish(d.id, "connection:" + d.connection_id);
                       post_work([this, d, connection, stored, a, r = std::move(r)]() mutable {
                         request_done(d, connection, stored, std::move(r), std::move(a));
                       });
                     });
}

void Outbox::request_done(const Pending& d, const webhooks::Connection& connection,
                          const Json::Value& request, net::OutboundResponse r, Attempt a) {
  const std::string target = "connection:" + d.connection_id;
  if (r.status == 401 && auth_) auth_->invalidate(connection.id);
  answered(a, r);

  // The connector reads the answer: it links what was created, and says whether an answer is a
  // success, worth another try, or final (a duplicate invoice number must not be retried).
  if (const auto plugin = plugins_.find(connection.connector)) {
    Json::Value q;
    q["tenant_id"] = d.tenant_id;
    q["connection"] = webhooks::connection_json(connection);
    q["message_id"] = d.message_id;
    q["event_seq"] = static_cast<Json::Int64>(d.event_seq);
    q["attempt"] = static_cast<Json::Int64>(d.attempts + 1);
    q["request"] = request;
    if (r.status > 0) {
      q["response"]["status"] = r.status;
      q["response"]["body"] = r.body;
      q["response"]["truncated"] = r.truncated;
      for (const auto& h : r.headers) q["response"]["headers"][h.name] = h.value;
    } else {
      q["response"] = Json::nullValue;
      q["error"] = a.error;
      // Whether the request may have arrived decides if a retry risks a duplicate.
      q["request_sent"] = r.request_sent;
    }
    const auto answer = calls_.call(plugin, "sync.result", q);
    if (answer.ok()) {
      const std::string outcome = answer.body["outcome"].asString();
      if (outcome == "delivered" || outcome == "retry" || outcome == "failed") a.verdict = outcome;
      if (answer.body["reason"].isString()) {
        a.error = (a.error.empty() ? "" : a.error + "; ") + answer.body["reason"].asString();
      }
      try {
        const Json::Value& changes = answer.body["changes"];
        if (changes.isArray() && !changes.empty()) {
          const auto results = applier_.apply(connection, changes);
          // What the features wrote appended events: the dispatcher and the outbox fan them out.
          if (std::any_of(results.begin(), results.end(),
                          [](const auto& c) { return c.outcome == "applied"; })) {
            events_committed();
          }
        }
      } catch (const std::exception& e) {
        a.verdict = "retry";
        a.error += std::string("; applying the connector's changes failed: ") + e.what();
      }
    } else if (answer.code != PSA_NOT_FOUND) {
      a.verdict = "retry";
      a.error += "; sync.result failed: " + answer.error_message();
    }
  }
  record(d, a, target);
}

// --- recording ---------------------------------------------------------------------------------

void Outbox::answered(Attempt& a, const net::OutboundResponse& r) const {
  a.latency = r.elapsed;
  if (r.status > 0) {
    a.status = r.status;
    a.excerpt = r.body.substr(0, options_.response_excerpt);
    a.truncated = r.truncated;
    if (auto ra = r.header("retry-after")) {
      a.retry_after = net::parse_retry_after(*ra, std::chrono::system_clock::now());
    }
  }
  if (r.ok()) return;
  if (!r.request_sent && r.failure != net::Failure::invalid_request &&
      r.failure != net::Failure::shutdown) {
    // One text for every way a connection can fail (refused, unreachable, TLS, a refused
    // address): the tenant reads it, and it must not map the host's network for them. The cause
    // goes to the operator's log.
    a.error = "could not connect: no connection could be made to the receiver";
    Json::Value f;
    f["failure"] = std::string(net::to_string(r.failure));
    f["error"] = r.error;
    log_.warn("outbound connection failed", f);
    return;
  }
  a.error = std::string(net::to_string(r.failure)) + ": " + r.error;
}

std::chrono::milliseconds Outbox::wait_after(int64_t failures, const Attempt& attempt) {
  const auto& schedule = options_.retry_schedule;
  const auto base = schedule[static_cast<std::size_t>(
      std::min<int64_t>(failures, static_cast<int64_t>(schedule.size())) - 1)];
  std::uniform_real_distribution<double> spread(1.0 - options_.jitter, 1.0 + options_.jitter);
  std::chrono::milliseconds wait(
      static_cast<int64_t>(static_cast<double>(base.count()) * spread(jitter_)));
  if (attempt.retry_after) {
    const auto asked = std::min(*attempt.retry_after, options_.max_retry_after);
    wait = std::max(wait, std::chrono::duration_cast<std::chrono::milliseconds>(asked));
  }
  return wait;
}

void Outbox::record(const Pending& d, const Attempt& a, const std::string& target,
                    std::vector<Json::Value> new_requests) {
  const int status = a.status.value_or(0);
  const bool success =
      a.verdict ? *a.verdict == "delivered" : a.error.empty() && status >= 200 && status < 300;
  const bool gone = d.kind == "webhook" && status == 410;
  // A 4xx other than 408 and 429 says the message itself is refused; sending it again would be
  // refused again.
  const bool refused = status >= 400 && status < 500 && status != 408 && status != 429;
  const bool final_failure = a.verdict ? *a.verdict == "failed" : (gone || refused);
  const int64_t failures = success ? 0 : d.failures + 1;
  const bool exhausted =
      !success && !final_failure && failures > static_cast<int64_t>(options_.retry_schedule.size());
  std::string next;
  if (!success && !final_failure && !exhausted) {
    next = rfc3339(std::chrono::system_clock::now() + wait_after(failures, a));
  }
  const std::string now = now_rfc3339();
  // Only an unreachable or erroring receiver counts against the endpoint, not one message it
  // refused.
  const bool endpoint_failing = d.kind == "webhook" && !success && !refused;
  std::string error = a.error;
  if (error.empty() && !success) error = "answered " + std::to_string(status);
  if (exhausted) error += "; gave up after " + std::to_string(d.attempts + 1) + " attempts";

  if (options_.metrics) {
    options_.metrics->count_delivery(d.kind, success                        ? "delivered"
                                             : (final_failure || exhausted) ? "failed"
                                                                            : "retry");
  }
  if (log_.enabled(LogLevel::debug)) {
    Json::Value f;
    f["delivery_id"] = static_cast<Json::Int64>(d.id);
    f["kind"] = d.kind;
    f["status"] = status;
    f["error"] = error;
    f["outcome"] = success ? "delivered" : (final_failure || exhausted) ? "failed" : "retry";
    log_.debug("delivery attempt", f);
  }
  auto appended = std::make_shared<bool>(false);
  store_.write_async(
      [=, this, requests = std::move(new_requests)](store::Tx& tx) {
        tx.exec(
            "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, status_code, "
            "error, latency_us, response_excerpt, truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            {d.id, d.attempts + 1, a.started_at,
             a.status ? store::Value(int64_t{*a.status}) : store::Value(nullptr),
             error.empty() ? store::Value(nullptr) : store::Value(error),
             static_cast<int64_t>(a.latency.count()),
             a.excerpt.empty() ? store::Value(nullptr) : store::Value(a.excerpt),
             int64_t{a.truncated ? 1 : 0}});
        const std::string status_text = success                        ? "delivered"
                                        : (final_failure || exhausted) ? "failed"
                                                                       : "pending";
        tx.exec(
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, failures = ?, "
            "next_attempt_at = CASE WHEN ? = '' THEN next_attempt_at ELSE ? END, last_status = "
            "?, last_error = ?, updated_at = ?, delivered_at = CASE WHEN ? THEN ? ELSE "
            "delivered_at END WHERE id = ?",
            {status_text, failures, next, next,
             a.status ? store::Value(int64_t{*a.status}) : store::Value(nullptr),
             error.empty() ? store::Value(nullptr) : store::Value(error), now,
             int64_t{success ? 1 : 0}, now, d.id});
        for (std::size_t i = 0; i < requests.size(); ++i) {
          const Json::Value& r = requests[i];
          const std::string message_id = r["idempotency_key"].isString()
                                             ? r["idempotency_key"].asString()
                                             : d.message_id + "." + std::to_string(i);
          tx.exec(
              "INSERT INTO deliveries (tenant_id, kind, connection_id, event_seq, event_type, "
              "message_id, request, next_attempt_at, created_at, updated_at) VALUES (?, "
              "'request', ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
              {d.tenant_id, d.connection_id, d.event_seq, d.event_type, message_id,
               psa::json::write(r), now, now, now});
        }
        if (d.kind != "webhook") return;
        if (success) {
          tx.exec(
              "UPDATE webhook_endpoints SET failing_since = NULL, warned_at = NULL WHERE id = ? "
              "AND failing_since IS NOT NULL",
              {d.endpoint_id});
          return;
        }
        const auto disable = [&](const std::string& reason) {
          if (tx.exec("UPDATE webhook_endpoints SET status = 'disabled', disabled_by = 'host', "
                      "disabled_reason = ?, updated_at = ? WHERE id = ? AND status = 'active'",
                      {reason, now, d.endpoint_id}) == 0) {
            return;
          }
          Json::Value payload;
          payload["endpoint_id"] = d.endpoint_id;
          payload["reason"] = reason;
          payload["pending_messages_kept"] = true;
          events::append(tx, {d.tenant_id, "webhook_endpoint.disabled", "webhook_endpoint",
                              d.endpoint_id, payload, "system", ""});
          *appended = true;
        };
        if (gone) return disable("the endpoint answered 410 Gone");
        if (!endpoint_failing) return;
        tx.exec(
            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ?",
            {now, d.endpoint_id});
        auto row = tx.query_one(
            "SELECT failing_since, warned_at IS NOT NULL FROM webhook_endpoints WHERE id = ?",
            {d.endpoint_id});
        if (!row) return;
        const auto since = parse_rfc3339(row->text(0));
        if (!since) return;
        const auto failing_for = std::chrono::system_clock::now() - *since;
        if (failing_for >= options_.disable_after) {
          return disable("failing since " + row->text(0) + " without a success");
        }
        if (failing_for >= options_.warn_after && row->integer(1) == 0) {
          tx.exec("UPDATE webhook_endpoints SET warned_at = ? WHERE id = ?", {now, d.endpoint_id});
          Json::Value payload;
          payload["endpoint_id"] = d.endpoint_id;
          payload["failing_since"] = row->text(0);
          payload["disabled_after_seconds"] =
              static_cast<Json::Int64>(options_.disable_after.count());
          events::append(tx, {d.tenant_id, "webhook_endpoint.failing", "webhook_endpoint",
                              d.endpoint_id, payload, "system", ""});
          *appended = true;
        }
      },
      [this, id = d.id, target, appended](std::exception_ptr error) {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            Json::Value f;
            f["delivery_id"] = static_cast<Json::Int64>(id);
            f["error"] = e.what();
            log_.error("could not record a delivery attempt; it will be made again", f);
          }
        }
        if (*appended) events_committed();
        finish(id, target);
      });
}

}  // namespace psahost::delivery
