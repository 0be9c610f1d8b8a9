#include "core/metrics.hpp"

#include <cstdio>

namespace psahost {
namespace {

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Only the shard's one writer changes a counter, so a plain load and store is enough: no locked
// read-modify-write, while a concurrent render() still reads whole values.
void bump(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

std::size_t bucket_of(double seconds) {
  std::size_t i = 0;
  while (i < Histogram::kBounds.size() && seconds > Histogram::kBounds[i]) ++i;
  return i;
}

}  // namespace

void Histogram::observe(double seconds) {
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) ++buckets_[i];
  }
  ++count_;
  sum_ += seconds;
}

void Histogram::add(const std::array<uint64_t, kBounds.size() + 1>& per_bucket, double sum) {
  uint64_t below = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    below += per_bucket[i];
    buckets_[i] += below;
  }
  count_ += below + per_bucket[kBounds.size()];
  sum_ += sum;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    out += name + "_bucket{" + labels + sep + "le=\"" + number(kBounds[i]) + "\"} " +
           std::to_string(buckets_[i]) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

void Metrics::RequestShard::observe(std::string_view route, std::string_view method, int status,
                                    double seconds) {
  auto route_it = routes_.find(route);
  if (route_it == routes_.end()) {
    std::lock_guard lock(insert_mutex_);
    route_it = routes_.try_emplace(std::string(route)).first;
  }
  RouteSeries& series = route_it->second;
  StatusCount* count = nullptr;
  // A route sees a handful of (method, status) pairs: a scan beats any lookup structure.
  for (auto& candidate : series.counts) {
    if (candidate.status == status && candidate.method == method) {
      count = &candidate;
      break;
    }
  }
  if (count == nullptr) {
    std::lock_guard lock(insert_mutex_);
    count = &series.counts.emplace_back(method, status);
  }
  bump(count->count);
  bump(series.per_bucket[bucket_of(seconds)]);
  series.sum.store(series.sum.load(std::memory_order_relaxed) + seconds, std::memory_order_relaxed);
}

Metrics::RequestShard& Metrics::add_request_shard() {
  std::lock_guard lock(mutex_);
  return request_shards_.emplace_back();
}

void Metrics::observe_request(std::string_view route, std::string_view method, int status,
                              double seconds) {
  std::lock_guard lock(mutex_);
  shared_requests_.observe(route, method, status, seconds);
}

void Metrics::observe_plugin_call(std::string_view plugin, std::string_view hook, bool ok,
                                  double seconds) {
  std::lock_guard lock(mutex_);
  // Looked up by views first: the labels are allocated once per series, not once per call.
  const std::tuple<std::string_view, std::string_view, bool> key{plugin, hook, ok};
  auto call = plugin_calls_.find(key);
  if (call == plugin_calls_.end()) {
    call = plugin_calls_.emplace(std::tuple(std::string(plugin), std::string(hook), ok), 0).first;
  }
  ++call->second;
  auto latency = plugin_latency_.find(plugin);
  if (latency == plugin_latency_.end()) {
    latency = plugin_latency_.try_emplace(std::string(plugin)).first;
  }
  latency->second.observe(seconds);
}

void Metrics::observe_commit(double seconds, std::size_t jobs) {
  std::lock_guard lock(mutex_);
  commit_latency_.observe(seconds);
  ++commits_;
  committed_jobs_ += jobs;
}

void Metrics::add_connection(int delta) {
  open_connections_.fetch_add(delta, std::memory_order_relaxed);
}

void Metrics::count_refused_connection() {
  capped_connections_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_inbox(std::string_view outcome, uint64_t n) {
  std::lock_guard lock(mutex_);
  auto it = inbox_outcomes_.find(outcome);
  if (it == inbox_outcomes_.end()) it = inbox_outcomes_.emplace(std::string(outcome), 0).first;
  it->second += n;
}

void Metrics::count_delivery(std::string_view kind, std::string_view outcome) {
  std::lock_guard lock(mutex_);
  ++delivery_outcomes_[{std::string(kind), std::string(outcome)}];
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  // The shards merged into the maps the text was always rendered from, so that its order and
  // format do not depend on how many threads recorded the requests.
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests;
  std::map<std::string, Histogram> request_latency;
  const auto merge = [&](const RequestShard& shard) {
    std::lock_guard shard_lock(shard.insert_mutex_);
    for (const auto& [route, series] : shard.routes_) {
      for (const auto& count : series.counts) {
        requests[{route, count.method, count.status}] +=
            count.count.load(std::memory_order_relaxed);
      }
      std::array<uint64_t, Histogram::kBounds.size() + 1> per_bucket{};
      for (std::size_t i = 0; i < per_bucket.size(); ++i) {
        per_bucket[i] = series.per_bucket[i].load(std::memory_order_relaxed);
      }
      request_latency[route].add(per_bucket, series.sum.load(std::memory_order_relaxed));
    }
  };
  merge(shared_requests_);
  for (const auto& shard : request_shards_) merge(shard);
  std::string out;
  out +=
      "# HELP psahost_http_requests_total HTTP requests answered, by route pattern and status.\n";
  out += "# TYPE psahost_http_requests_total counter\n";
  for (const auto& [key, count] : requests) {
    const auto& [route, method, status] = key;
    out += "psahost_http_requests_total{route=\"" + escape_label(route) + "\",method=\"" +
           escape_label(method) + "\",status=\"" + std::to_string(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out +=
      "# HELP psahost_http_request_duration_seconds Time from request read to response queued.\n";
  out += "# TYPE psahost_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : request_latency) {
    h.render(out, "psahost_http_request_duration_seconds", "route=\"" + escape_label(route) + "\"");
  }
  out += "# HELP psahost_http_open_connections Connections currently open.\n";
  out += "# TYPE psahost_http_open_connections gauge\n";
  out += "psahost_http_open_connections " +
         std::to_string(open_connections_.load(std::memory_order_relaxed)) + "\n";
  out +=
      "# HELP psahost_http_capped_connections_total Connections closed to stay under the "
      "connection cap.\n";
  out += "# TYPE psahost_http_capped_connections_total counter\n";
  out += "psahost_http_capped_connections_total " +
         std::to_string(capped_connections_.load(std::memory_order_relaxed)) + "\n";
  out += "# HELP psahost_plugin_calls_total Plugin hook calls, by plugin, hook and outcome.\n";
  out += "# TYPE psahost_plugin_calls_total counter\n";
  for (const auto& [key, count] : plugin_calls_) {
    const auto& [plugin, hook, ok] = key;
    out += "psahost_plugin_calls_total{plugin=\"" + escape_label(plugin) + "\",hook=\"" +
           escape_label(hook) + "\",outcome=\"" + (ok ? "ok" : "error") + "\"} " +
           std::to_string(count) + "\n";
  }
  out += "# HELP psahost_plugin_call_duration_seconds Plugin hook call latency.\n";
  out += "# TYPE psahost_plugin_call_duration_seconds histogram\n";
  for (const auto& [plugin, h] : plugin_latency_) {
    h.render(out, "psahost_plugin_call_duration_seconds",
             "plugin=\"" + escape_label(plugin) + "\"");
  }
  out += "# HELP psahost_store_commit_duration_seconds Durable group commits (one fsync each).\n";
  out += "# TYPE psahost_store_commit_duration_seconds histogram\n";
  commit_latency_.render(out, "psahost_store_commit_duration_seconds", "");
  out += "# HELP psahost_store_committed_writes_total Writes made durable by group commits.\n";
  out += "# TYPE psahost_store_committed_writes_total counter\n";
  out += "psahost_store_committed_writes_total " + std::to_string(committed_jobs_) + "\n";
  out += "# HELP psahost_inbox_entries_total Inbound webhooks mapped by connectors, by outcome.\n";
  out += "# TYPE psahost_inbox_entries_total counter\n";
  for (const auto& [outcome, n] : inbox_outcomes_) {
    out += "psahost_inbox_entries_total{outcome=\"" + escape_label(outcome) + "\"} " +
           std::to_string(n) + "\n";
  }
  out += "# HELP psahost_delivery_attempts_total Outbox attempts, by kind and outcome.\n";
  out += "# TYPE psahost_delivery_attempts_total counter\n";
  for (const auto& [key, n] : delivery_outcomes_) {
    out += "psahost_delivery_attempts_total{kind=\"" + escape_label(key.first) + "\",outcome=\"" +
           escape_label(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  return out;
}

}  // namespace psahost
