#include "app/app.hpp"

#include "admission/pipeline.hpp"
#include "api/billing_run.hpp"
#include "api/context.hpp"
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "core/background_workers.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "events/dispatcher.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace psahost::app {
namespace fs = std::filesystem;

fs::path bundled_plugin_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "plugins";
  const fs::path beside = exe.parent_path() / "plugins";
  if (fs::is_directory(beside, ec)) return beside;
  return exe.parent_path().parent_path() / "lib" / "psahost" / "plugins";
}

void DataDir::prepare() const {
  for (const fs::path& dir : {root, root / "tls", root / "run", plugin_cache()}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
}

namespace {

void write_address_file(const DataDir& dir, const std::string& url) {
  const fs::path tmp = dir.address_file().string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << url << "\n";
  }
  fs::rename(tmp, dir.address_file());
}

void print_banner(const std::string& url, const DataDir& dir,
                  const plugins::PluginRegistry& registry, const std::string& admin_token) {
  std::ostringstream out;
  out << "psahost " << PSAHOST_VERSION << " is serving " << url << "\n";
  out << "  data     " << fs::absolute(dir.root).string() << " (SQLite "
      << dir.database().filename().string() << ")\n";
  out << "  plugins ";
  for (const auto& p : registry.list())
    out << " " << p.id << " " << p.version << " (" << p.state << ")";
  out << "\n";
  out << "  TLS      self-signed certificate " << dir.cert().string() << " (SHA-256 "
      << http::certificate_fingerprint(dir.cert()) << ")\n";
  if (!admin_token.empty()) {
    out << "\n  Admin API token for tenant 'default' (shown once; it is stored only as a hash):\n"
        << "    " << admin_token << "\n";
  }
  out << "\n  Try it:\n"
      << "    curl --cacert " << dir.cert().string() << " " << url << "/healthz\n"
      << "    curl --cacert " << dir.cert().string() << " -H \"Authorization: Bearer "
      << (admin_token.empty() ? std::string("$PSAHOST_TOKEN") : admin_token) << "\" " << url
      << "/v1/plugins\n"
      << "  Stop with Ctrl-C (finishes requests in flight first).\n";
  std::cout << out.str() << std::flush;
}

}  // namespace

int serve(const ServeOptions& options, Logger& log) {
  // Block the stop signals in every thread we are about to start; this thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const DataDir dir{options.data_dir};
  dir.prepare();
  if (http::ensure_self_signed_certificate(dir.cert(), dir.key())) {
    Json::Value f;
    f["cert"] = dir.cert().string();
    log.info("created a self-signed TLS certificate", f);
  }

  const crypto::SecretBox secrets = crypto::SecretBox::from_key_file(
      options.secret_key_file.empty() ? dir.secret_key() : options.secret_key_file);
  Metrics metrics;
  auto store = store::Store::open_sqlite({dir.database()}, log, &metrics);
  if (const int64_t n = api::interrupt_abandoned_runs(*store); n > 0) {
    Json::Value f;
    f["runs"] = static_cast<Json::Int64>(n);
    log.warn("billing runs left unfinished by a stopped process marked interrupted", f);
  }
  auth::Tokens tokens(*store);
  std::string admin_token;
  if (!tokens.any_token_exists())
    admin_token = tokens.create("default", auth::Role::admin, "first start");

  plugins::HostCalls calls;
  api::register_all_host_calls(calls, *store);
  plugins::PluginRegistry registry({dir.plugin_cache(), options.strict, {}},
                                   plugins::PluginEnv{calls, store.get(), log, &metrics});
  admission::Pipeline pipeline(registry, log);
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  // Declared after the registry and the store, so it stops before either goes away.
  events::Dispatcher dispatcher(*store, registry, log);
  api::ApiContext ctx{*store, registry, pipeline,
                      tokens, metrics,  log,
                      ready,  draining, [&dispatcher] { dispatcher.notify(); },
                      secrets};
  // Declared after ctx, which its jobs use, so it stops before ctx goes away. Three threads: two
  // billing runs may go on at once, and a third thread is left for the short requests.
  BackgroundWorkers workers(3);
  ctx.workers = &workers;

  http::Router router;
  router.on_handler_error = [&log](const std::string& route, const std::string& what) {
    Json::Value f;
    f["route"] = route;
    f["error"] = what;
    log.error("request handler failed", f);
  };
  api::add_all_routes(router, ctx);

  http::ServerOptions server_options;
  server_options.host = options.listen_host;
  server_options.port = options.listen_port;
  server_options.threads = options.threads;
  server_options.body_limit = options.body_limit;
  server_options.header_timeout = options.header_timeout;
  server_options.idle_timeout = options.idle_timeout;
  server_options.cert_file = dir.cert();
  server_options.key_file = dir.key();
  http::Server server(server_options, router, log, metrics);
  server.start();

  // Serving /healthz already; /readyz and the API wait for the plugins.
  const auto plugin_dirs = options.plugin_dirs.empty() ? std::vector<fs::path>{bundled_plugin_dir()}
                                                       : options.plugin_dirs;
  try {
    for (const auto& d : plugin_dirs) registry.load_directory(d);
  } catch (const std::exception& e) {
    Json::Value f;
    f["error"] = e.what();
    log.error("a plugin failed to load and --strict is set; stopping", f);
    server.shutdown(std::chrono::milliseconds(1000));
    store->close();
    std::cerr << "psahost: " << e.what() << "\n";
    return 1;
  }
  dispatcher.start();
  ready.store(true, std::memory_order_release);

  const std::string host = options.listen_host.find(':') != std::string::npos
                               ? "[" + options.listen_host + "]"
                               : options.listen_host;
  const std::string url = "https://" + host + ":" + std::to_string(server.port());
  Json::Value f;
  f["url"] = url;
  f["schema_version"] = store->schema_version();
  log.info("ready", f);
  print_banner(url, dir, registry, admin_token);
  // Written last: whoever waits for this file (scripts, tests) finds the banner complete.
  write_address_file(dir, url);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  Json::Value s;
  s["signal"] = signal == SIGTERM ? "SIGTERM" : "SIGINT";
  log.info("shutting down: draining requests", s);
  // Requests in flight still complete; only /readyz turns away new traffic.
  draining.store(true, std::memory_order_release);
  server.shutdown(options.shutdown_grace);
  // A billing run ends after the batch in hand (interrupted; running its period again
  // completes it), so that its last commits are in before the store closes.
  workers.stop();
  dispatcher.stop();
  store->close();
  std::error_code ec;
  fs::remove(dir.address_file(), ec);
  log.info("shutdown complete");
  return 0;
}

}  // namespace psahost::app
