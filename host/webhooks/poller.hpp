// Catch-up polls, for vendors that publish no webhook for what we need (Autotask's time entries)
// or that switch a webhook off (Autotask's deactivation URL): the host asks each active
// connection whose connector declares the "poll" command (command.poll) for what changed since
// its cursor, on a schedule and whenever asked to. What the connector answers enters the same
// durable inbox as webhooks do, with its new cursor in the same transaction, so ordering, the
// billing gate and retries are those of a webhook, and a crash between pages repeats at most a
// page (its deliveries are deduplicated on their keys).
#pragma once

#include "plugins/bounded_call.hpp"
#include "store/store.hpp"
#include "webhooks/connections.hpp"

#include <json/value.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace psahost {
class Logger;
namespace plugins {
class PluginRegistry;
}
}  // namespace psahost

namespace psahost::webhooks {

struct PollerOptions {
  std::chrono::milliseconds interval{std::chrono::minutes(5)};  // between polls of a connection
  std::chrono::milliseconds max_backoff{std::chrono::minutes(30)};
  int max_pages = 50;  // pages taken from one connection before the others get their turn
  std::chrono::milliseconds idle{1'000};  // how often the schedule is looked at
};

// command.poll request: {"tenant_id","connection","cursor":{...} (what the last answer gave; {}
// at first),"reason":"schedule"|"asked"}. Answer: {"deliveries":[{"key":"<unique per change>",
// "payload":{...}}],"cursor":{...},"more":bool,"retry_after_seconds"?:n,"note"?:"..."}. Each
// payload reaches the connector's webhook.map as a webhook's would, with the header
// x-psahost-source: poll.
class ConnectionPoller {
 public:
  ConnectionPoller(store::Store& store, Connections& connections,
                   const plugins::PluginRegistry& plugins, Logger& log,
                   std::function<void()> received, PollerOptions options = {});
  ~ConnectionPoller();
  ConnectionPoller(const ConnectionPoller&) = delete;
  ConnectionPoller& operator=(const ConnectionPoller&) = delete;

  void start();
  void stop();  // finishes the page in progress and joins; idempotent
  // Polls the connection as soon as the poller gets to it, whatever its schedule.
  void poll_soon(const std::string& connection_id);

 private:
  void run();
  // Polls every connection that is due; returns when none is.
  void round();
  // Takes pages from one connection until it has no more (or max_pages).
  void poll(const Connection& connection, const std::string& reason);

  store::Store& store_;
  Connections& connections_;
  const plugins::PluginRegistry& plugins_;
  Logger& log_;
  std::function<void()> received_;
  PollerOptions options_;
  plugins::BoundedCalls calls_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::set<std::string> asked_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Whether the connection's connector polls (declares the "poll" command).
bool polls(const plugins::PluginRegistry& plugins, const Connection& connection);

// The vendor said it deactivated (or deleted) the connection's webhook: the connection shows it,
// the partner is told (a connection.webhook_deactivated event), and the next poll is due now.
// The notice carries no signature, so anyone may send it: a repeat within
// kDeactivationQuietPeriod of the last one recorded changes nothing (no event, no early poll),
// which caps what a flood can cost the partner and the vendor's API. Returns whether it recorded.
// Blocks until committed.
inline constexpr std::chrono::minutes kDeactivationQuietPeriod{10};
bool record_webhook_deactivated(store::Store& store, const Connection& connection,
                                const std::string& detail);

// What GET /v1/connections/{id} shows of the connection's catch-up: {"polls","cursor",
// "last_polled_at","next_poll_at","last_error","webhook_state","webhook_state_at"}; null when
// it never polled and nothing was said of its webhooks.
Json::Value catch_up_json(store::Store& store, const std::string& connection_id);

}  // namespace psahost::webhooks
