// The host's counters and latency histograms, rendered in Prometheus text format at /metrics.
// Requests are counted per recording thread without a lock or an allocation; render() adds up.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace psahost {

class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};
  void observe(double seconds);
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  friend class Metrics;
  // per_bucket[i] counts observations in bucket i alone; the last entry is above every bound.
  void add(const std::array<uint64_t, kBounds.size() + 1>& per_bucket, double sum);

  std::array<uint64_t, kBounds.size()> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  // Request counters and latencies that exactly one thread writes at a time. The writer takes
  // no lock once a (route, method, status) has been seen; render() reads the relaxed atomics
  // while it writes. Each I/O thread takes its own, so that requests never share a lock or a
  // cache line.
  class RequestShard {
   public:
    void observe(std::string_view route, std::string_view method, int status, double seconds);

   private:
    friend class Metrics;
    struct StatusCount {
      StatusCount(std::string_view method, int status) : method(method), status(status) {}
      const std::string method;
      const int status;
      std::atomic<uint64_t> count{0};
    };
    struct RouteSeries {
      std::array<std::atomic<uint64_t>, Histogram::kBounds.size() + 1> per_bucket{};
      std::atomic<double> sum{0};
      std::deque<StatusCount> counts;  // a deque, so that growing it moves no counter
    };
    // The writer inserts under insert_mutex_ and looks up without it: it is the only thread
    // that changes the containers. render() reads them under insert_mutex_.
    mutable std::mutex insert_mutex_;
    std::map<std::string, RouteSeries, std::less<>> routes_;
  };

  // A shard for one thread to record requests into; it lives as long as this Metrics.
  RequestShard& add_request_shard();

  // For threads without a shard of their own: serialised by a lock.
  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  void observe_plugin_call(std::string_view plugin, std::string_view hook, bool ok, double seconds);
  void observe_commit(double seconds, std::size_t jobs);
  void add_connection(int delta);
  // A connection closed to stay under the connection cap (an idle one, or the new one).
  void count_refused_connection();
  // Outcomes of the background work around webhooks: inbox entries mapped by connectors
  // (processed, failed, parked) and outbox attempts by kind (delivered, retry, failed).
  void count_inbox(std::string_view outcome, uint64_t n = 1);
  void count_delivery(std::string_view kind, std::string_view outcome);
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  RequestShard shared_requests_;             // observe_request's, written under mutex_
  std::deque<RequestShard> request_shards_;  // a deque, so that adding one moves none
  std::map<std::tuple<std::string, std::string, bool>, uint64_t, std::less<>> plugin_calls_;
  std::map<std::string, Histogram, std::less<>> plugin_latency_;
  Histogram commit_latency_;
  uint64_t commits_ = 0;
  uint64_t committed_jobs_ = 0;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> capped_connections_{0};
  std::map<std::string, uint64_t, std::less<>> inbox_outcomes_;
  std::map<std::pair<std::string, std::string>, uint64_t, std::less<>> delivery_outcomes_;
};

}  // namespace psahost
