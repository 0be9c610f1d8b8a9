// Measures outbound deliveries: N events fanned out to one endpoint, each signed the Standard
// Webhooks way, sent over reused HTTPS connections to a local receiver that verifies it (the
// Node.js peer, node-verify.js in verify mode), and recorded with its attempt, on SQLite.
// Usage: psahost_bench_outbound NODE_VERIFY_JS TLS_DIR [EVENTS] [IN_FLIGHT]
#include "admission/pipeline.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/secret_box.hpp"
#include "delivery/endpoints.hpp"
#include "delivery/outbox.hpp"
#include "events/event_log.hpp"
#include "net/https_client.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"
#include "webhooks/changes.hpp"
#include "webhooks/connections.hpp"
#include "webhooks/signature.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace psahost;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s NODE_VERIFY_JS TLS_DIR [EVENTS] [IN_FLIGHT]\n", argv[0]);
    return 2;
  }
  const std::string node_script = argv[1];
  const fs::path tls = argv[2];
  const int events = argc > 3 ? std::atoi(argv[3]) : 20000;
  const int in_flight = argc > 4 ? std::atoi(argv[4]) : 16;
  const fs::path dir =
      fs::temp_directory_path() / ("psahost-bench-outbound-" + std::to_string(getpid()));
  fs::create_directories(dir);
  Logger log(LogLevel::error);
  auto store = store::Store::open_sqlite({dir / "bench.db"}, log);
  crypto::SecretBox box(std::string(32, 'k'));
  const std::string secret = webhooks::new_standard_webhooks_secret();
  const uint16_t port = 9761;

  // The receiver verifies each signature with the endpoint's secret and answers 204.
  const pid_t receiver = fork();
  if (receiver == 0) {
    setenv("SECRET", secret.c_str(), 1);
    setenv("MODE", "verify", 1);
    execlp("node", "node", node_script.c_str(), std::to_string(port).c_str(), tls.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800));

  const std::string tenant = "tnt_bench";
  store->write([&](store::Tx& tx) {
    tx.exec("INSERT INTO tenants (id, name, created_at) VALUES (?, 'bench', ?)",
            {tenant, now_rfc3339()});
    tx.exec(
        "INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret, max_in_flight, "
        "created_at, updated_at) VALUES ('ep_bench', ?, ?, '[\"*\"]', ?, ?, ?, ?)",
        {tenant, "https://127.0.0.1:" + std::to_string(port) + "/hook",
         box.seal(secret, delivery::endpoint_secret_context("ep_bench")), int64_t{in_flight},
         "2000-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z"});
  });
  // Events as the API writes them, 1,000 per commit.
  for (int first = 0; first < events; first += 1000) {
    store->write([&](store::Tx& tx) {
      for (int i = first; i < std::min(events, first + 1000); ++i) {
        Json::Value payload;
        payload["id"] = "cli_" + std::to_string(i);
        payload["name"] = "Client " + std::to_string(i);
        payload["billing_info"]["complete"] = false;
        events::append(tx, {tenant, "client.upserted", "client", "cli_" + std::to_string(i),
                            payload, "bench", ""});
      }
    });
  }

  plugins::HostCalls calls;
  plugins::PluginRegistry registry({dir / "cache", false, {}},
                                   plugins::PluginEnv{calls, store.get(), log, nullptr});
  webhooks::Connections connections(*store, box);
  admission::Pipeline pipeline(registry, log);
  webhooks::ChangeApplier applier({*store, registry, pipeline});
  net::ClientOptions client_options;
  client_options.extra_ca_file = tls / "cert.pem";
  client_options.max_response_body = 64 * 1024;
  net::HttpsClient client(client_options, &log);
  delivery::OutboxOptions options;
  options.retry_schedule = {std::chrono::milliseconds(100)};
  delivery::Outbox outbox(*store, connections, registry, applier, box, client, log, {}, nullptr,
                          options);

  const auto started = std::chrono::steady_clock::now();
  outbox.start();
  outbox.notify();
  int64_t delivered = 0, failed = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    store->read([&](store::Tx& tx) {
      delivered =
          tx.query_one("SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'")->integer(0);
      failed = tx.query_one("SELECT COUNT(*) FROM deliveries WHERE status = 'failed'")->integer(0);
    });
    if (delivered + failed >= events) break;
    if (std::chrono::steady_clock::now() - started > std::chrono::minutes(5)) break;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  outbox.stop();
  client.shutdown();
  kill(receiver, SIGTERM);
  waitpid(receiver, nullptr, 0);
  int64_t attempts = 0;
  store->read([&](store::Tx& tx) {
    attempts = tx.query_one("SELECT COUNT(*) FROM delivery_attempts")->integer(0);
    tx.each(
        "SELECT COALESCE(status_code, 0), COALESCE(error, ''), COUNT(*) FROM delivery_attempts "
        "WHERE error IS NOT NULL OR status_code <> 204 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5",
        {}, [](const store::Row& r) {
          std::printf("  failed attempts: %lld x status %lld %s\n",
                      static_cast<long long>(r.integer(2)), static_cast<long long>(r.integer(0)),
                      r.text(1).c_str());
        });
  });
  store->read([&](store::Tx& tx) {
    tx.each(
        "SELECT delivery_id, COUNT(*), GROUP_CONCAT(COALESCE(status_code, 0)), "
        "GROUP_CONCAT(started_at) FROM delivery_attempts GROUP BY delivery_id HAVING "
        "COUNT(*) > 1 LIMIT 3",
        {}, [](const store::Row& r) {
          std::printf("  delivery %lld: %lld attempts: %s at %s\n",
                      static_cast<long long>(r.integer(0)), static_cast<long long>(r.integer(1)),
                      r.text(2).c_str(), r.text(3).c_str());
        });
  });
  const auto stats = client.stats();
  std::printf(
      "%d events -> %lld delivered, %lld failed in %.2f s: %.0f deliveries/s (%lld attempts, "
      "%d in flight, %llu connections opened, %llu reused)\n",
      events, static_cast<long long>(delivered), static_cast<long long>(failed), seconds,
      static_cast<double>(delivered) / seconds, static_cast<long long>(attempts), in_flight,
      static_cast<unsigned long long>(stats.connections_opened),
      static_cast<unsigned long long>(stats.reused));
  store->close();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return delivered == events ? 0 : 1;
}
