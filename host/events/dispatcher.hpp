// Delivers the event log to plugins that subscribe to event types: in seq order per plugin, at
// least once, from a durable cursor per plugin, with retries, backoff and parking of poison events.
#pragma once

#include "events/event_log.hpp"
#include "store/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace psahost {
class Logger;
namespace plugins {
class Plugin;
class PluginRegistry;
}  // namespace plugins
}  // namespace psahost

namespace psahost::events {

struct DispatcherOptions {
  int max_failures = 8;  // consecutive failures on one event before it is parked
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{30'000};
  std::size_t batch = 256;  // events read from the log at a time
  // Wakes without a notify() this often, so events appended by a path that forgot to notify,
  // or a plugin enabled again, are picked up anyway.
  std::chrono::milliseconds idle_poll{1'000};
};

struct SubscriberStatus {
  std::string subscriber;  // "plugin:<id>"
  int64_t last_seq = 0;    // every event up to here was handled, skipped or parked
  int failures = 0;        // consecutive failures on the event after last_seq
  std::string last_error;  // kept after recovery as a record of what last went wrong
  std::optional<int64_t> parked_seq;
  std::optional<std::string> next_attempt_at;  // RFC 3339, set while waiting for a retry
};

// One thread delivers to every subscriber. A subscriber is an enabled plugin whose manifest
// lists event types (hooks.events); its cursor row is `plugin:<id>` in subscriber_cursors. A
// plugin seen for the first time starts at the beginning of the log, so a plugin installed
// later sees the history. A disabled or failed plugin keeps its cursor where it is and gets
// what it missed once it is enabled again.
class Dispatcher {
 public:
  // Reads the stored cursors; throws store::StoreError if it cannot.
  Dispatcher(store::Store& store, plugins::PluginRegistry& plugins, Logger& log,
             DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // Finishes the plugin call in progress, saves the cursors and joins. Idempotent.
  void stop();
  // New events were committed: deliver them now rather than at the next poll.
  void notify();

  // Every cursor stored for a plugin, including plugins not loaded now, by subscriber name.
  std::vector<SubscriberStatus> status() const;

  // Delivers the plugin's parked event once more (on the dispatcher thread, waiting for it) and
  // clears parked_seq if the plugin handles it. False if nothing is parked, the plugin is not
  // enabled, the dispatcher is not running, or the plugin failed again.
  bool replay_parked(std::string_view plugin_id);

  // Blocks until every enabled subscriber's stored cursor has reached the log's last seq as of
  // this call, or until timeout. Parked events count as passed. True if caught up. Returns at
  // once when the dispatcher is not running, since nothing would move the cursors.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Cursor {
    int64_t last_seq = 0;
    int failures = 0;
    std::string last_error;
    std::optional<int64_t> parked_seq;
    std::optional<std::string> next_attempt_at;
    std::chrono::steady_clock::time_point next_attempt{};  // retry not before; default: at once
  };
  // A subscriber's cursor while the dispatcher thread works on it; published after it is saved.
  struct Work {
    std::shared_ptr<plugins::Plugin> plugin;
    std::string subscriber;
    Cursor cursor;
    bool dirty = false;
  };
  struct Replay {
    std::string subscriber;
    bool done = false;
    bool delivered = false;
  };
  struct Outcome {
    bool handled = false;
    std::string error;
  };

  void run();
  // One pass over every ready subscriber. Returns true if there is more to do right away;
  // otherwise sets wake_at to the earliest pending retry (or leaves it).
  bool deliver_round(std::chrono::steady_clock::time_point& wake_at);
  // Hands events (oldest first) to one subscriber until it fails or has seen them all.
  void deliver_to(Work& work, const std::vector<Event>& events,
                  std::vector<std::optional<std::string>>& serialized);
  // Counts a failed attempt and schedules the retry; returns true if the event was parked
  // instead (the subscriber goes on with the next event).
  bool record_failure(Work& work, const Event& event, const std::string& error);
  void run_replays();
  bool replay(const std::string& subscriber);
  Outcome call(plugins::Plugin& plugin, const std::string& request);
  // Stores the cursors in one transaction and then publishes them; false if the store failed.
  bool save(const std::vector<Work*>& works);
  std::chrono::milliseconds backoff(int failures);
  std::map<std::string, Cursor> load_cursors();

  store::Store& store_;
  plugins::PluginRegistry& plugins_;
  Logger& log_;
  DispatcherOptions options_;
  std::mt19937_64 jitter_;  // dispatcher thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;           // the dispatcher thread waits here
  std::condition_variable progress_;       // wait_idle and replay_parked wait here
  std::map<std::string, Cursor> cursors_;  // saved state only; written by the dispatcher thread
  std::deque<std::shared_ptr<Replay>> replays_;
  bool notified_ = false;
  bool running_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace psahost::events
