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

}  // namespace

void Histogram::observe(double seconds) {
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) ++buckets_[i];
  }
  ++count_;
  sum_ += seconds;
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

void Metrics::observe_request(std::string_view route, std::string_view method, int status,
                              double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(method), status}];
  request_latency_[std::string(route)].observe(seconds);
}

void Metrics::observe_plugin_call(std::string_view plugin, std::string_view hook, bool ok,
                                  double seconds) {
  std::lock_guard lock(mutex_);
  ++plugin_calls_[{std::string(plugin), std::string(hook), ok}];
  plugin_latency_[std::string(plugin)].observe(seconds);
}

void Metrics::observe_commit(double seconds, std::size_t jobs) {
  std::lock_guard lock(mutex_);
  commit_latency_.observe(seconds);
  ++commits_;
  committed_jobs_ += jobs;
}

void Metrics::add_connection(int delta) {
  std::lock_guard lock(mutex_);
  open_connections_ += delta;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out +=
      "# HELP psahost_http_requests_total HTTP requests answered, by route pattern and status.\n";
  out += "# TYPE psahost_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out += "psahost_http_requests_total{route=\"" + escape_label(route) + "\",method=\"" +
           escape_label(method) + "\",status=\"" + std::to_string(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out +=
      "# HELP psahost_http_request_duration_seconds Time from request read to response queued.\n";
  out += "# TYPE psahost_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : request_latency_) {
    h.render(out, "psahost_http_request_duration_seconds", "route=\"" + escape_label(route) + "\"");
  }
  out += "# HELP psahost_http_open_connections Connections currently open.\n";
  out += "# TYPE psahost_http_open_connections gauge\n";
  out += "psahost_http_open_connections " + std::to_string(open_connections_) + "\n";
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
  return out;
}

}  // namespace psahost
