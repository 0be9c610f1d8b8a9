// The running host: data directory, store, plugins, API and HTTPS server wired together,
// serving until SIGTERM or SIGINT, then draining requests and commits before it exits.
#pragma once

#include "core/log.hpp"
#include "net/address_policy.hpp"
#include "plugins/signing.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace psahost::app {

struct ServeOptions {
  std::filesystem::path data_dir = "var";
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8443;
  std::vector<std::filesystem::path> plugin_dirs;  // empty = the bundled plugins
  bool strict = false;
  std::vector<std::string> isolate_plugins;  // run in a child process: ids, or "all"
  // Publisher keys and unsigned plugins let in (--trusted-keys, --allow-unsigned-plugins);
  // unset: the keys shipped beside the executable, no unsigned plugin.
  std::optional<plugins::TrustPolicy> trust;
  unsigned threads = 0;
  std::size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{20'000};
  std::filesystem::path secret_key_file;  // empty = DATA_DIR/secret.key
  // A CA bundle trusted for outbound HTTPS besides the system's (private endpoints, tests).
  std::filesystem::path outbound_ca;
  // What outbound HTTPS and registered URLs may reach (--allow-outbound-network); null = the
  // default policy, which refuses every internal range.
  std::shared_ptr<const net::AddressPolicy> address_policy;
  // /metrics: the bearer token it needs, or (without one) whether anyone may read it.
  std::string metrics_token;
  bool metrics_public = false;
  // Requests a second each tenant may make, and the burst above it; 0 = unlimited.
  double rate_limit = 100;
  double rate_limit_burst = 1000;
  // Connections served at once; 0 = from the open file limit (http::ServerOptions).
  std::size_t max_connections = 0;
  // Waits between delivery attempts; empty = the Standard Webhooks schedule (about a day).
  std::vector<std::chrono::milliseconds> delivery_retry_schedule;
  // How long a receiver has to answer a delivery.
  std::chrono::milliseconds delivery_timeout{15'000};
  // An endpoint failing this long is disabled; 0 = five days.
  std::chrono::seconds endpoint_disable_after{0};
  // Seconds a Standard Webhooks timestamp may be away from now.
  std::chrono::seconds replay_window{300};
  // Inbox attempts before an entry is parked, and the first wait between them.
  int inbox_max_attempts = 8;
  std::chrono::milliseconds inbox_backoff{1'000};
  // Between catch-up polls of a connection whose connector polls (webhooks/poller.hpp).
  std::chrono::milliseconds poll_interval{std::chrono::minutes(5)};
};

// Where the bundled plugins are: bin/plugins beside the binary in a build tree, or
// <prefix>/lib/psahost/plugins when installed.
std::filesystem::path bundled_plugin_dir();

// Files inside a data directory.
struct DataDir {
  std::filesystem::path root;
  std::filesystem::path database() const { return root / "psahost.db"; }
  std::filesystem::path cert() const { return root / "tls" / "cert.pem"; }
  std::filesystem::path key() const { return root / "tls" / "key.pem"; }
  std::filesystem::path plugin_cache() const { return root / "plugin-cache"; }
  // Plugins the partner installed (psahost plugins install), one folder each.
  std::filesystem::path installed_plugins() const { return root / "plugins"; }
  std::filesystem::path address_file() const { return root / "run" / "address"; }
  std::filesystem::path secret_key() const { return root / "secret.key"; }
  // Creates the folders (owner-only) if missing; throws naming the path on failure.
  void prepare() const;
};

// Runs `psahost serve`; returns the exit code.
int serve(const ServeOptions& options, Logger& log);

}  // namespace psahost::app
