// The outbox: every domain event becomes deliveries (a signed webhook per subscribed endpoint, a
// sync.push per connection whose connector syncs it), made in the same transaction that moves a
// durable cursor, so each event is fanned out exactly once and survives a crash. Delivery
// workers then send them over reused HTTPS connections, at most N in flight per endpoint, with
// retries on an exponential schedule with jitter that honours Retry-After; 4xx other than
// 408/429 is final, 410 disables the endpoint, and one failing for days is disabled with its
// messages kept. Every attempt is recorded with its status and latency.
#pragma once

#include "delivery/credentials.hpp"
#include "delivery/endpoints.hpp"
#include "net/https_client.hpp"
#include "plugins/bounded_call.hpp"
#include "store/store.hpp"
#include "webhooks/changes.hpp"
#include "webhooks/connections.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
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

namespace psahost::delivery {

struct OutboxOptions {
  // Waits after the 1st, 2nd, ... failed attempt; when they run out the delivery has failed.
  // Svix's schedule, which Standard Webhooks receivers expect: about a day and a half in all.
  std::vector<std::chrono::milliseconds> retry_schedule = {
      std::chrono::seconds(5), std::chrono::minutes(5), std::chrono::minutes(30),
      std::chrono::hours(2),   std::chrono::hours(5),   std::chrono::hours(10),
      std::chrono::hours(10)};
  double jitter = 0.2;  // each wait is spread by ±20%
  // Retry-After beyond this is capped: a receiver cannot park a message for a week.
  std::chrono::seconds max_retry_after{std::chrono::hours(24)};
  // An endpoint failing without a success for this long is disabled (its messages are kept);
  // the tenant is warned once it has failed for warn_after.
  std::chrono::seconds disable_after{std::chrono::hours(24 * 5)};
  std::chrono::seconds warn_after{std::chrono::hours(24)};
  std::chrono::milliseconds request_timeout{15'000};
  std::size_t response_excerpt = 1024;  // bytes of each answer kept with its attempt
  std::size_t batch = 512;
  std::chrono::milliseconds idle_poll{1'000};
  Metrics* metrics = nullptr;  // counts attempts when set
};

// Parses --delivery-retry-schedule: comma-separated seconds ("5,300,1800"), fractions allowed.
std::optional<std::vector<std::chrono::milliseconds>> parse_retry_schedule(std::string_view text);

class Outbox {
 public:
  // events_committed wakes the event dispatcher once the outbox appended events (a delivery's
  // record, or the changes a connector's sync.result asked for); the outbox wakes itself too.
  Outbox(store::Store& store, webhooks::Connections& connections,
         const plugins::PluginRegistry& plugins, const webhooks::ChangeApplier& applier,
         const crypto::SecretBox& secrets, net::HttpsClient& client, Logger& log,
         std::function<void()> events_committed, ConnectionAuth* auth = nullptr,
         OutboxOptions options = {});
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void start();
  // Stops taking work, waits for the sends in flight (bounded by their timeouts) and joins.
  void stop();
  // Events were committed (fan them out) or deliveries changed (a replay, an endpoint enabled).
  void notify();

 private:
  struct Pending {
    int64_t id = 0;
    std::string kind, tenant_id, endpoint_id, connection_id;
    int64_t event_seq = 0;
    std::string event_type, message_id, request;
    int64_t attempts = 0, failures = 0;
  };
  // What one attempt came to, as recorded.
  struct Attempt {
    std::string started_at;
    std::optional<int> status;
    std::string error;
    std::chrono::microseconds latency{0};
    std::string excerpt;
    bool truncated = false;
    std::optional<std::chrono::seconds> retry_after;
    // Set by a connector's sync.result, or for an answer that must not be retried.
    std::optional<std::string> verdict;  // delivered | retry | failed
  };

  void feed();      // the fan-out thread
  void schedule();  // the sending thread
  void work();      // the connector thread: sync.push and sync.result calls
  bool fan_out_round();
  bool send_round(std::chrono::system_clock::time_point& wake);
  void send_webhook(const Pending& d, const Endpoint& endpoint);
  void send_request(const Pending& d, const webhooks::Connection& connection);
  void push(const Pending& d);
  void request_done(const Pending& d, const webhooks::Connection& connection,
                    const Json::Value& request, net::OutboundResponse response, Attempt attempt);
  // What an answer (or its absence) says of an attempt: status, excerpt, Retry-After, error.
  void answered(Attempt& attempt, const net::OutboundResponse& response) const;
  void record(const Pending& d, const Attempt& attempt, const std::string& target,
              std::vector<Json::Value> new_requests = {});
  std::chrono::milliseconds wait_after(int64_t failures, const Attempt& attempt);
  void post_work(std::function<void()> job);
  void finish(int64_t id, const std::string& target);
  // Events were appended here: the dispatcher and this outbox go through them.
  void events_committed();

  store::Store& store_;
  webhooks::Connections& connections_;
  const plugins::PluginRegistry& plugins_;
  const webhooks::ChangeApplier& applier_;
  const crypto::SecretBox& secrets_;
  net::HttpsClient& client_;
  Logger& log_;
  std::function<void()> events_committed_;
  ConnectionAuth* auth_;  // credentials for connectors' requests; may be null
  OutboxOptions options_;
  plugins::BoundedCalls calls_;

  std::mutex mutex_;
  std::condition_variable feed_wake_, send_wake_, work_wake_, drained_;
  bool feed_notified_ = false, send_notified_ = false;
  std::set<int64_t> in_flight_;
  std::set<int64_t> finished_since_read_;
  std::map<std::string, int> in_flight_per_target_;
  std::deque<std::function<void()>> jobs_;
  std::map<std::string, std::string> endpoint_keys_;  // opened signing keys by endpoint id
  std::mt19937_64 jitter_{std::random_device{}()};
  std::atomic<bool> stopping_{false};
  std::thread feeder_, scheduler_, worker_;
};

}  // namespace psahost::delivery
