// One thread reads the event log in batches from the lowest cursor it needs and hands each
// subscriber its events; cursors move only after the plugin has answered and are saved in bulk.
#include "events/dispatcher.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"
#include "plugins/registry.hpp"

#include <json/value.h>
#include <json/writer.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iterator>

namespace psahost::events {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kPluginPrefix = "plugin:";
constexpr std::string_view kHook = "event.handle";

std::string subscriber_name(std::string_view plugin_id) {
  return std::string(kPluginPrefix) + std::string(plugin_id);
}

bool subscribes(const plugins::Manifest& manifest, std::string_view type) {
  const auto& types = manifest.hooks.events;
  return std::any_of(types.begin(), types.end(),
                     [&](const std::string& t) { return t == "*" || t == type; });
}

bool is_subscriber(const plugins::Plugin& plugin) {
  return !plugin.manifest().hooks.events.empty();
}

std::string compact(const Json::Value& v) {
  Json::StreamWriterBuilder b;
  b["indentation"] = "";
  b["emitUTF8"] = true;
  return Json::writeString(b, v);
}

// An event is serialized once per batch and shared by every subscriber; only the attempt
// number differs between them, so it is spliced in before the object's closing brace.
std::string with_attempt(const std::string& event_json, int attempt) {
  std::string out = event_json.substr(0, event_json.rfind('}'));
  out += ",\"attempt\":" + std::to_string(attempt) + "}";
  return out;
}

store::Value nullable(const std::optional<int64_t>& v) {
  return v ? store::Value{*v} : store::Value{nullptr};
}

store::Value nullable(const std::optional<std::string>& v) {
  return v ? store::Value{*v} : store::Value{nullptr};
}

}  // namespace

Dispatcher::Dispatcher(store::Store& store, plugins::PluginRegistry& plugins, Logger& log,
                       DispatcherOptions options)
    : store_(store),
      plugins_(plugins),
      log_(log),
      options_(options),
      jitter_(std::random_device{}()) {
  options_.max_failures = std::max(1, options_.max_failures);
  options_.batch = std::max<std::size_t>(1, options_.batch);
  cursors_ = load_cursors();
}

Dispatcher::~Dispatcher() {
  stop();
}

std::map<std::string, Dispatcher::Cursor> Dispatcher::load_cursors() {
  std::map<std::string, Cursor> out;
  store_.read([&](store::Tx& tx) {
    tx.each(
        "SELECT subscriber, last_seq, failures, last_error, parked_seq, next_attempt_at "
        "FROM subscriber_cursors WHERE substr(subscriber, 1, 7) = 'plugin:'",
        {}, [&](const store::Row& r) {
          // A retry that was pending when the host stopped runs as soon as it is back; the
          // failure count is kept, so the next backoff and the parking limit carry on.
          Cursor c;
          c.last_seq = r.integer(1);
          c.failures = static_cast<int>(r.integer(2));
          c.last_error = r.text(3);
          if (!r.is_null(4)) c.parked_seq = r.integer(4);
          c.next_attempt_at = r.optional_text(5);
          out.emplace(r.text(0), std::move(c));
        });
  });
  return out;
}

void Dispatcher::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void Dispatcher::stop() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    if (!running_ || !thread_.joinable()) return;
    stopping_ = true;
    thread = std::move(thread_);
  }
  wake_.notify_all();
  thread.join();
  {
    std::lock_guard lock(mutex_);
    running_ = false;
    for (auto& replay : replays_) replay->done = true;
    replays_.clear();
  }
  progress_.notify_all();
}

void Dispatcher::notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

std::vector<SubscriberStatus> Dispatcher::status() const {
  std::lock_guard lock(mutex_);
  std::vector<SubscriberStatus> out;
  out.reserve(cursors_.size());
  for (const auto& [name, c] : cursors_) {
    out.push_back({name, c.last_seq, c.failures, c.last_error, c.parked_seq, c.next_attempt_at});
  }
  return out;
}

bool Dispatcher::replay_parked(std::string_view plugin_id) {
  auto request = std::make_shared<Replay>();
  request->subscriber = subscriber_name(plugin_id);
  std::unique_lock lock(mutex_);
  if (!running_ || stopping_) return false;
  const auto it = cursors_.find(request->subscriber);
  if (it == cursors_.end() || !it->second.parked_seq) return false;
  // The dispatcher thread is the only one that changes cursors, so the replay runs there.
  replays_.push_back(request);
  wake_.notify_one();
  progress_.wait(lock, [&] { return request->done; });
  return request->delivered;
}

bool Dispatcher::wait_idle(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int64_t target = 0;
  store_.read([&](store::Tx& tx) { target = last_seq(tx); });
  std::vector<std::string> subscribers;
  for (const auto& plugin : plugins_.all_enabled()) {
    if (is_subscriber(*plugin)) subscribers.push_back(subscriber_name(plugin->id()));
  }
  notify();
  std::unique_lock lock(mutex_);
  const auto caught_up = [&] {
    return std::all_of(subscribers.begin(), subscribers.end(), [&](const std::string& s) {
      const auto it = cursors_.find(s);
      return (it == cursors_.end() ? 0 : it->second.last_seq) >= target;
    });
  };
  progress_.wait_until(lock, deadline, [&] { return caught_up() || !running_ || stopping_; });
  return caught_up();
}

void Dispatcher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    notified_ = false;
    lock.unlock();
    run_replays();
    auto wake_at = Clock::now() + options_.idle_poll;
    bool more = false;
    try {
      more = deliver_round(wake_at);
    } catch (const std::exception& e) {
      Json::Value f;
      f["error"] = e.what();
      log_.error("event delivery round failed; trying again at the next poll", f);
    }
    lock.lock();
    if (more) continue;
    wake_.wait_until(lock, wake_at, [this] { return stopping_ || notified_ || !replays_.empty(); });
  }
}

bool Dispatcher::deliver_round(Clock::time_point& wake_at) {
  const auto now = Clock::now();
  const auto enabled = plugins_.all_enabled();
  std::vector<Work> works;
  {
    std::lock_guard lock(mutex_);
    for (const auto& plugin : enabled) {
      if (!is_subscriber(*plugin)) continue;
      Work work{plugin, subscriber_name(plugin->id()), {}, false};
      if (const auto it = cursors_.find(work.subscriber); it != cursors_.end()) {
        work.cursor = it->second;
      } else {
        work.dirty = true;  // saved below, so the new cursor shows in status() and survives
      }
      if (work.cursor.next_attempt > now) {
        wake_at = std::min(wake_at, work.cursor.next_attempt);
        continue;
      }
      works.push_back(std::move(work));
    }
  }
  for (const auto& work : works) {
    if (!work.dirty) continue;
    Json::Value f;
    f["plugin"] = work.plugin->id();
    log_.info("new event subscriber: delivering from the beginning of the event log", f);
  }

  // Subscribers whose cursors lie close together share one read; one far behind (enabled again
  // after a while) gets its own, so it never holds back the others' new events.
  std::sort(works.begin(), works.end(),
            [](const Work& a, const Work& b) { return a.cursor.last_seq < b.cursor.last_seq; });
  bool more = false;
  std::size_t next = 0;
  while (next < works.size() && !stopping_) {
    std::vector<Event> events;
    store_.read([&](store::Tx& tx) {
      events = read_after(tx, works[next].cursor.last_seq, static_cast<int64_t>(options_.batch));
    });
    if (events.empty()) break;  // the rest are further along, so they are caught up too
    const int64_t end = events.back().seq;
    const bool full = events.size() == options_.batch;
    std::vector<std::optional<std::string>> serialized(events.size());
    std::vector<Work*> group;
    while (next < works.size() && works[next].cursor.last_seq < end)
      group.push_back(&works[next++]);
    for (Work* work : group) {
      if (stopping_) break;
      deliver_to(*work, events, serialized);
    }
    if (!save(group)) return false;
    for (const Work* work : group) {
      if (work->cursor.failures > 0) wake_at = std::min(wake_at, work->cursor.next_attempt);
      if (full && work->cursor.last_seq >= end) more = true;
    }
  }
  std::vector<Work*> untouched;
  for (std::size_t i = next; i < works.size(); ++i) untouched.push_back(&works[i]);
  save(untouched);
  return more && !stopping_;
}

void Dispatcher::deliver_to(Work& work, const std::vector<Event>& events,
                            std::vector<std::optional<std::string>>& serialized) {
  Cursor& c = work.cursor;
  const auto& manifest = work.plugin->manifest();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i];
    if (event.seq <= c.last_seq) continue;
    if (stopping_) return;
    work.dirty = true;
    // A plugin switched off by the event's tenant does not act for it, then or later.
    if (!subscribes(manifest, event.type) || !plugins_.acts_for(event.tenant_id, manifest.id)) {
      c.last_seq = event.seq;
      continue;
    }
    if (!serialized[i]) serialized[i] = compact(event.to_json());
    const Outcome outcome = call(*work.plugin, with_attempt(*serialized[i], c.failures + 1));
    if (outcome.handled) {
      c.last_seq = event.seq;
      c.failures = 0;
      c.next_attempt = {};
      c.next_attempt_at.reset();
      continue;
    }
    if (!record_failure(work, event, outcome.error)) return;
  }
}

bool Dispatcher::record_failure(Work& work, const Event& event, const std::string& error) {
  Cursor& c = work.cursor;
  c.failures += 1;
  const std::string& id = work.plugin->id();
  Json::Value f;
  f["plugin"] = id;
  f["seq"] = static_cast<Json::Int64>(event.seq);
  f["type"] = event.type;
  f["attempt"] = c.failures;
  f["error"] = error;
  const std::string what = "event " + std::to_string(event.seq) + " (" + event.type + ")";
  if (c.failures < options_.max_failures) {
    const auto delay = backoff(c.failures);
    c.last_error = what + ": " + error;
    c.next_attempt = Clock::now() + delay;
    c.next_attempt_at = rfc3339(std::chrono::system_clock::now() + delay);
    f["retry_in_ms"] = static_cast<Json::Int64>(delay.count());
    log_.warn("event delivery failed; retrying after a backoff", f);
    plugins_.record_error(id, c.last_error);
    return false;
  }
  // Parked: one poison event must not hold back everything after it. There is one parked_seq
  // per cursor, so the oldest parked event keeps it; later ones are only in the log.
  c.last_error = what + " parked after " + std::to_string(c.failures) + " failures: " + error;
  if (c.parked_seq) {
    c.last_error += "; event " + std::to_string(*c.parked_seq) +
                    " is still parked, so this one can only be found in the log";
  } else {
    c.parked_seq = event.seq;
  }
  c.last_seq = event.seq;
  c.failures = 0;
  c.next_attempt = {};
  c.next_attempt_at.reset();
  log_.error("event parked after repeated failures; delivery moves on past it", f);
  plugins_.record_error(id, c.last_error);
  return true;
}

void Dispatcher::run_replays() {
  for (;;) {
    std::shared_ptr<Replay> request;
    {
      std::lock_guard lock(mutex_);
      if (replays_.empty()) return;
      request = replays_.front();
      replays_.pop_front();
    }
    bool delivered = false;
    try {
      delivered = replay(request->subscriber);
    } catch (const std::exception& e) {
      Json::Value f;
      f["subscriber"] = request->subscriber;
      f["error"] = e.what();
      log_.error("replaying a parked event failed", f);
    }
    {
      std::lock_guard lock(mutex_);
      request->done = true;
      request->delivered = delivered;
    }
    progress_.notify_all();
  }
}

bool Dispatcher::replay(const std::string& subscriber) {
  Work work{nullptr, subscriber, {}, true};
  {
    std::lock_guard lock(mutex_);
    const auto it = cursors_.find(subscriber);
    if (it == cursors_.end() || !it->second.parked_seq) return false;
    work.cursor = it->second;
  }
  const std::string id = subscriber.substr(kPluginPrefix.size());
  work.plugin = plugins_.find(id);
  if (!work.plugin) return false;
  Cursor& c = work.cursor;
  const int64_t seq = *c.parked_seq;
  std::vector<Event> found;
  store_.read([&](store::Tx& tx) { found = read_after(tx, seq - 1, 1); });
  Json::Value f;
  f["plugin"] = id;
  f["seq"] = static_cast<Json::Int64>(seq);
  if (found.empty() || found.front().seq != seq) {
    log_.warn("parked event is no longer in the event log; cleared without replay", f);
    c.parked_seq.reset();
    save({&work});
    return false;
  }
  // The attempt after the ones that parked it, so the plugin can tell a replay apart.
  const Outcome outcome =
      call(*work.plugin, with_attempt(compact(found.front().to_json()), options_.max_failures + 1));
  if (outcome.handled) {
    c.parked_seq.reset();
    log_.info("parked event replayed", f);
  } else {
    c.last_error = "replay of parked event " + std::to_string(seq) + " failed: " + outcome.error;
    f["error"] = outcome.error;
    log_.warn("replaying a parked event failed; it stays parked", f);
    plugins_.record_error(id, c.last_error);
  }
  return save({&work}) && outcome.handled;
}

Dispatcher::Outcome Dispatcher::call(plugins::Plugin& plugin, const std::string& request) {
  plugins::HookResult result;
  try {
    result = plugin.call_json(kHook, request);
  } catch (const std::exception& e) {
    return {false, std::string("event.handle failed in the host: ") + e.what()};
  }
  if (!result.ok()) return {false, result.error_message()};
  const Json::Value& body = result.body;
  if (body.isObject() && body.isMember("retry") && body["retry"].isBool() &&
      body["retry"].asBool()) {
    const Json::Value& message = body.isMember("error") && body["error"].isObject()
                                     ? body["error"]["message"]
                                     : Json::Value::nullSingleton();
    return {false, message.isString() ? message.asString() : "the plugin asked for a retry"};
  }
  return {true, ""};
}

bool Dispatcher::save(const std::vector<Work*>& works) {
  std::vector<Work*> dirty;
  std::copy_if(works.begin(), works.end(), std::back_inserter(dirty),
               [](const Work* w) { return w->dirty; });
  if (dirty.empty()) return true;
  const std::string now = now_rfc3339();
  try {
    store_.write([&](store::Tx& tx) {
      for (const Work* w : dirty) {
        const Cursor& c = w->cursor;
        tx.exec(
            "INSERT INTO subscriber_cursors (subscriber, last_seq, failures, next_attempt_at, "
            "last_error, parked_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (subscriber) DO UPDATE SET last_seq = excluded.last_seq, "
            "failures = excluded.failures, next_attempt_at = excluded.next_attempt_at, "
            "last_error = excluded.last_error, parked_seq = excluded.parked_seq, "
            "updated_at = excluded.updated_at",
            {w->subscriber, c.last_seq, int64_t{c.failures}, nullable(c.next_attempt_at),
             c.last_error.empty() ? store::Value{nullptr} : store::Value{c.last_error},
             nullable(c.parked_seq), now});
      }
    });
  } catch (const std::exception& e) {
    Json::Value f;
    f["error"] = e.what();
    log_.error(
        "could not save event cursors; the events since the saved ones will be delivered "
        "again",
        f);
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    for (Work* w : dirty) {
      cursors_[w->subscriber] = w->cursor;
      w->dirty = false;
    }
  }
  progress_.notify_all();
  return true;
}

std::chrono::milliseconds Dispatcher::backoff(int failures) {
  auto step = std::max(options_.initial_backoff, std::chrono::milliseconds(1));
  for (int i = 1; i < failures && step < options_.max_backoff; ++i) step *= 2;
  step = std::min(step, options_.max_backoff);
  // Between half and all of the step: subscribers that failed together spread their retries,
  // and every retry still waits at least half as long as plain doubling would.
  std::uniform_int_distribution<int64_t> pick(step.count() / 2, step.count());
  return std::chrono::milliseconds(pick(jitter_));
}

}  // namespace psahost::events
