#include "app/app.hpp"

#include "admission/pipeline.hpp"
#include "api/context.hpp"
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "billing/billing_run.hpp"
#include "core/background_workers.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "delivery/connector_http.hpp"
#include "delivery/credentials.hpp"
#include "delivery/outbox.hpp"
#include "events/dispatcher.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"
#include "net/https_client.hpp"
#include "plugins/installer.hpp"
#include "plugins/registry.hpp"
#include "plugins/remote_hook.hpp"
#include "store/store.hpp"
#include "ui/console_routes.hpp"
#include "webhooks/changes.hpp"
#include "webhooks/connections.hpp"
#include "webhooks/inbound.hpp"
#include "webhooks/inbox.hpp"
#include "webhooks/poller.hpp"

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <psa/sdk.hpp>
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

// ConnectWise signing keys: GET key_url (already checked to be on the connection's own site)
// answers {"signing_key": "..."}.
webhooks::KeyFetcher connectwise_key_fetcher(net::HttpsClient& client) {
  return [&client](const std::string& url,
                   std::function<void(std::optional<std::string>, std::string)> done) {
    net::OutboundRequest request;
    request.method = "GET";
    request.url = url;
    request.headers.push_back({"Accept", "application/json"});
    request.timeout = std::chrono::seconds(5);
    client.async_send(std::move(request), [done = std::move(done)](net::OutboundResponse r) {
      if (!r.ok())
        return done(std::nullopt, std::string(net::to_string(r.failure)) + ": " + r.error);
      if (r.status != 200)
        return done(std::nullopt, "key_url answered " + std::to_string(r.status));
      Json::Value body;
      std::string errors;
      if (!psa::json::reader().parse(r.body.data(), r.body.data() + r.body.size(), &body,
                                     &errors) ||
          !body["signing_key"].isString() || body["signing_key"].asString().empty()) {
        return done(std::nullopt, "key_url answered without a signing_key");
      }
      done(body["signing_key"].asString(), "");
    });
  };
}

}  // namespace

int serve(const ServeOptions& options, Logger& log) {
  // Block the stop signals in every thread we are about to start; this thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // not a stop: reloads the plugins (see below)
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
  if (const int64_t n = billing::interrupt_abandoned_runs(*store); n > 0) {
    Json::Value f;
    f["runs"] = static_cast<Json::Int64>(n);
    log.warn("billing runs left unfinished by a stopped process marked interrupted", f);
  }
  auth::Tokens tokens(*store);
  std::string admin_token;
  if (!tokens.any_token_exists())
    admin_token = tokens.create("default", auth::Role::admin, "first start");

  const auto address_policy =
      options.address_policy ? options.address_policy : std::make_shared<net::AddressPolicy>();
  webhooks::Connections connections(*store, secrets);
  connections.set_address_policy(address_policy);
  // Outbound HTTPS, verified TLS with the system's CAs and --outbound-ca. Deliveries (and
  // ConnectWise keys) read at most 64 KiB of an answer and record the cut: a receiver's body is
  // evidence, not data. Connectors' own requests to their systems may read records of 4 MiB.
  net::ClientOptions client_options;
  client_options.extra_ca_file = options.outbound_ca;
  client_options.address_policy = address_policy;
  client_options.max_response_body = std::size_t{64} * 1024;
  net::HttpsClient client(client_options, &log);
  client_options.max_response_body = std::size_t{4} * 1024 * 1024;
  net::HttpsClient api_client(client_options, &log);
  delivery::ConnectionAuth auth(connections, api_client, log);

  plugins::HostCalls calls;
  api::register_all_host_calls(calls, *store);
  // Remote plugins' hook calls: the same policy and trust, answers cut at the most a hook may
  // answer, and a pool of kept-alive connections per plugin service.
  client_options.max_response_body = plugins::kMaxRemoteAnswerBytes;
  net::HttpsClient remote_plugin_client(client_options, &log);
  plugins::RegistryOptions registry_options{dir.plugin_cache(), options.strict, {}};
  registry_options.isolate = options.isolate_plugins;
  registry_options.trust = options.trust;
  plugins::PluginEnv plugin_env{calls, store.get(), log, &metrics};
  plugin_env.remote_client = &remote_plugin_client;
  plugin_env.secrets = &secrets;
  plugins::PluginRegistry registry(registry_options, plugin_env);
  delivery::register_connector_http(calls, connections, registry, api_client, auth, log);
  admission::Pipeline pipeline(registry, log);
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  // Declared after the registry and the store, so it stops before either goes away.
  events::Dispatcher dispatcher(*store, registry, log);

  // Changes connectors report are applied by the feature modules directly, as the connection;
  // the inbox and the outbox hand them over. Each part reaches only what is declared above it.
  webhooks::ChangeApplier applier({*store, registry, pipeline, &calls});
  delivery::OutboxOptions outbox_options;
  outbox_options.request_timeout = options.delivery_timeout;
  outbox_options.metrics = &metrics;
  if (!options.delivery_retry_schedule.empty()) {
    outbox_options.retry_schedule = options.delivery_retry_schedule;
  }
  if (options.endpoint_disable_after.count() > 0) {
    outbox_options.disable_after = options.endpoint_disable_after;
    outbox_options.warn_after =
        std::min(outbox_options.warn_after, options.endpoint_disable_after / 5);
  }
  delivery::Outbox outbox(
      *store, connections, registry, applier, secrets, client, log,
      [&dispatcher] { dispatcher.notify(); }, &auth, outbox_options);
  const auto wake_outbox = [&outbox] { outbox.notify(); };
  const auto events_committed = [&dispatcher, &outbox] {
    dispatcher.notify();
    outbox.notify();
  };
  webhooks::InboxOptions inbox_options;
  inbox_options.max_attempts = options.inbox_max_attempts;
  inbox_options.initial_backoff = options.inbox_backoff;
  inbox_options.metrics = &metrics;
  webhooks::InboxProcessor inbox(*store, connections, registry, applier, log, events_committed,
                                 inbox_options);
  const auto wake_inbox = [&inbox] { inbox.notify(); };
  webhooks::InboundWebhooks inbound({*store, connections, registry, log,
                                     connectwise_key_fetcher(client), wake_inbox,
                                     options.replay_window});
  webhooks::PollerOptions poller_options;
  poller_options.interval = options.poll_interval;
  poller_options.idle = std::min(poller_options.idle, options.poll_interval);
  webhooks::ConnectionPoller poller(*store, connections, registry, log, wake_inbox, poller_options);

  api::ApiContext ctx{*store,       registry, pipeline,   tokens,           metrics,
                      log,          ready,    draining,   events_committed, secrets,
                      &connections, &inbound, wake_inbox, wake_outbox,      nullptr};
  // Declared after ctx, which its jobs use, so it stops before ctx goes away. Three threads: two
  // billing runs may go on at once, and a third thread is left for the short requests.
  BackgroundWorkers workers(3);
  ctx.workers = &workers;
  ctx.address_policy = address_policy.get();
  ctx.metrics_token = options.metrics_token;
  ctx.metrics_public = options.metrics_public;
  auth::TenantRateLimit rate_limit(options.rate_limit, options.rate_limit_burst);
  ctx.rate_limit = &rate_limit;

  http::Router router;
  router.on_handler_error = [&log](const std::string& route, const std::string& what) {
    Json::Value f;
    f["route"] = route;
    f["error"] = what;
    log.error("request handler failed", f);
  };
  api::add_all_routes(router, ctx);
  ui::add_console_routes(router);

  http::ServerOptions server_options;
  server_options.host = options.listen_host;
  server_options.port = options.listen_port;
  server_options.threads = options.threads;
  server_options.body_limit = options.body_limit;
  server_options.max_connections = options.max_connections;
  server_options.header_timeout = options.header_timeout;
  server_options.idle_timeout = options.idle_timeout;
  server_options.cert_file = dir.cert();
  server_options.key_file = dir.key();
  http::Server server(server_options, router, log, metrics);
  server.start();

  // Serving /healthz already; /readyz and the API wait for the plugins.
  const auto plugin_dirs = options.plugin_dirs.empty() ? std::vector<fs::path>{bundled_plugin_dir()}
                                                       : options.plugin_dirs;
  // Every manifest the host should load now: its plugin folders', then the installed plugins'.
  const auto current_manifests = [&plugin_dirs, &dir] {
    std::vector<fs::path> all;
    for (const auto& d : plugin_dirs) {
      for (auto& m : plugins::manifests_in(d)) all.push_back(std::move(m));
    }
    for (auto& m : plugins::installed_manifests(dir.installed_plugins())) {
      all.push_back(std::move(m));
    }
    return all;
  };
  ctx.reload_plugins = [&registry, &log, current_manifests] {
    auto r = registry.reload(current_manifests());
    Json::Value f;
    for (const auto* list : {&r.loaded, &r.replaced, &r.removed, &r.failed}) {
      const char* name = list == &r.loaded     ? "loaded"
                         : list == &r.replaced ? "replaced"
                         : list == &r.removed  ? "removed"
                                               : "failed";
      f[name] = Json::Value(Json::arrayValue);
      for (const auto& id : *list) f[name].append(id);
    }
    log.info("plugins reloaded", f);
    return r;
  };
  try {
    for (const auto& d : plugin_dirs) registry.load_directory(d);
    for (const auto& m : plugins::installed_manifests(dir.installed_plugins())) registry.load(m);
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
  inbox.start();
  poller.start();
  outbox.start();
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
  // SIGHUP picks up installed and removed plugins; requests in flight keep the plugins they
  // hold. Only a stop signal ends the loop.
  while (sigwait(&stop_signals, &signal) == 0 && signal == SIGHUP) {
    Json::Value h;
    h["signal"] = "SIGHUP";
    log.info("reloading plugins", h);
    try {
      ctx.reload_plugins();
    } catch (const std::exception& e) {
      Json::Value f;
      f["error"] = e.what();
      log.error("plugin reload failed", f);
    }
  }
  Json::Value s;
  s["signal"] = signal == SIGTERM ? "SIGTERM" : "SIGINT";
  log.info("shutting down: draining requests", s);
  // Requests in flight still complete; only /readyz turns away new traffic.
  draining.store(true, std::memory_order_release);
  server.shutdown(options.shutdown_grace);
  poller.stop();
  inbox.stop();
  outbox.stop();
  // Sends still in flight finish as "shutdown" and stay pending: they go out after a restart.
  client.shutdown();
  api_client.shutdown();
  // A billing run ends after the batch in hand (interrupted; running its period again
  // completes it), so that its last commits are in before the store closes.
  workers.stop();
  dispatcher.stop();
  // No request waits on a plugin any more; a hook stuck in one is not waited for past the grace.
  const auto stuck = registry.stop_calls(std::chrono::milliseconds(2000));
  if (stuck > 0) {
    Json::Value f;
    f["calls"] = static_cast<Json::UInt64>(stuck);
    log.warn("plugin hook calls still running at shutdown; not waiting for them", f);
  }
  store->close();
  std::error_code ec;
  fs::remove(dir.address_file(), ec);
  log.info("shutdown complete");
  if (stuck > 0) {
    // A thread still runs plugin code with the plugin and what it calls: tearing down the
    // objects it uses (and the process's statics) under it could only crash. Everything is
    // written and closed; the process ends here.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace psahost::app
