// The host's counters and latency histograms, rendered in Prometheus text format at /metrics.
// Label sets are small and fixed (route patterns, not raw paths), so a map under a mutex is enough.
#pragma once

#include <array>
#include <cstdint>
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
  std::array<uint64_t, kBounds.size()> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  void observe_plugin_call(std::string_view plugin, std::string_view hook, bool ok, double seconds);
  void observe_commit(double seconds, std::size_t jobs);
  void add_connection(int delta);
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> request_latency_;
  std::map<std::tuple<std::string, std::string, bool>, uint64_t> plugin_calls_;
  std::map<std::string, Histogram> plugin_latency_;
  Histogram commit_latency_;
  uint64_t commits_ = 0;
  uint64_t committed_jobs_ = 0;
  int64_t open_connections_ = 0;
};

}  // namespace psahost
