// Measures what one plugin hook call costs: the billing gate's admission.review (JSON both ways
// across the C ABI, plus its billing_info.status host call into SQLite), in-process (on the hook
// pool), process-isolated (over the runner's channel, the host call travelling back) and remote
// (POSTed signed over loopback HTTPS to a service that runs the same gate and answers with it).
// Beside them, this machine's floors: the cheapest hand-off between two threads (what the hook
// pool adds at least) and the cheapest round trip between two processes over a socketpair (what
// a runner adds at least), so that the figures can be read against what the machine allows.
// Usage: psahost_bench_hook PLUGIN_DIR [CALLS] [PSAHOST_BINARY]
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/secret_box.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"
#include "net/https_client.hpp"
#include "plugins/registry.hpp"
#include "plugins/remote_hook.hpp"
#include "plugins/remote_secret.hpp"
#include "plugins/signing.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace psahost;

namespace {

// Median of per-call nanoseconds over batches, so one slow batch (a page fault, the other
// core busy) does not move the figure.
template <class F>
double median_ns(int calls, F&& call) {
  constexpr int kBatch = 1000;
  std::vector<double> per_call;
  for (int done = 0; done < calls; done += kBatch) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kBatch; ++i) call();
    const auto t1 = std::chrono::steady_clock::now();
    per_call.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kBatch);
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

// Median and 99th percentile of single calls, in nanoseconds.
template <class F>
std::pair<double, double> median_p99_ns(int calls, F&& call) {
  std::vector<double> each(static_cast<std::size_t>(calls));
  for (auto& ns : each) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(each.begin(), each.end());
  return {each[each.size() / 2], each[each.size() * 99 / 100]};
}

// Median and p99 of a round trip to another thread that waits on a condition variable: the
// least a call handed to a pool thread and waited for can cost here.
std::pair<double, double> thread_hand_off_ns(int calls) {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t asked = 0;
  uint64_t answered = 0;
  bool stop = false;
  std::thread other([&] {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return stop || asked > answered; });
      if (stop) return;
      answered = asked;
      lock.unlock();
      changed.notify_all();
      lock.lock();
    }
  });
  const auto result = median_p99_ns(calls, [&] {
    std::unique_lock lock(mutex);
    ++asked;
    lock.unlock();
    changed.notify_all();
    lock.lock();
    changed.wait(lock, [&] { return answered == asked; });
  });
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  changed.notify_all();
  other.join();
  return result;
}

// Median and p99 of a 64-byte round trip to a child process blocked reading a socketpair: the
// least a call to a plugin runner can cost here.
std::pair<double, double> process_round_trip_ns(int calls) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return {0, 0};
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(sv[0]);
    char buf[64];
    for (;;) {
      std::size_t got = 0;
      while (got < sizeof buf) {
        const ssize_t n = ::read(sv[1], buf + got, sizeof buf - got);
        if (n <= 0) ::_exit(0);
        got += static_cast<std::size_t>(n);
      }
      if (::write(sv[1], buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) ::_exit(1);
    }
  }
  ::close(sv[1]);
  char buf[64] = {};
  const auto result = median_p99_ns(calls, [&] {
    if (::write(sv[0], buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) return;
    std::size_t got = 0;
    while (got < sizeof buf) {
      const ssize_t n = ::read(sv[0], buf + got, sizeof buf - got);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
  });
  ::close(sv[0]);
  ::waitpid(child, nullptr, 0);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PLUGIN_DIR [CALLS]\n", argv[0]);
    return 2;
  }
  const int calls = argc > 2 ? std::atoi(argv[2]) : 200000;
  const fs::path dir =
      fs::temp_directory_path() / ("psahost-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  Logger log(LogLevel::error);
  {
    auto store = store::Store::open_sqlite({dir / "bench.db"}, log);
    auth::Tokens tokens(*store);
    const std::string tenant = tokens.ensure_tenant("bench");
    const std::string client = "cli_bench";
    auto billing = domain::parse_billing_info(store::from_text(
        R"({"business_name":"Bench BV","email":"b@bench.example","address":{"street":"Main",
        "number":"1","city":"Utrecht","zip":"3511AA","country":"NL"},"currency":"EUR",
        "tax_rate":"21.00","payment_terms_days":30,"invoice_delivery":"email"})"));
    store->write([&](store::Tx& tx) {
      const std::string now = now_rfc3339();
      tx.exec(
          "INSERT INTO clients (id, tenant_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, "
          "?)",
          {client, tenant, std::string("Bench BV"), now, now});
      tx.exec(
          "INSERT INTO billing_info (client_id, tenant_id, data, updated_at) VALUES (?, ?, ?, ?)",
          {client, tenant, clients::stored_billing(*billing.info), now});
    });

    plugins::HostCalls calls_table;
    api::register_host_services(calls_table, *store);
    plugins::PluginRegistry registry({dir / "cache", true, {}},
                                     plugins::PluginEnv{calls_table, store.get(), log, nullptr});
    registry.load(fs::path(argv[1]) / "billing-gate.json");
    auto gate = registry.find("billing-gate");
    // The same gate again, in a runner of its own.
    plugins::RegistryOptions isolated_options{dir / "cache-isolated", true, {}};
    isolated_options.isolate = {"all"};
    std::error_code ec;
    isolated_options.runner.executable =
        argc > 3 ? fs::path(argv[3])
                 : fs::read_symlink("/proc/self/exe", ec).parent_path() / "psahost";
    plugins::PluginRegistry isolated_registry(
        isolated_options, plugins::PluginEnv{calls_table, store.get(), log, nullptr});
    isolated_registry.load(fs::path(argv[1]) / "billing-gate.json");
    auto isolated = isolated_registry.find("billing-gate");
    if (!isolated) {
      std::fprintf(stderr, "the billing gate did not start process-isolated (runner %s)\n",
                   isolated_options.runner.executable.c_str());
      return 1;
    }

    Json::Value request;
    request["uid"] = "bench";
    request["tenant_id"] = tenant;
    request["operation"] = "time_entry.approve";
    request["object"]["client_id"] = client;
    request["object"]["minutes"] = 20;
    const std::string request_text = store::to_text(request);
    if (!gate->call("admission.review", request).body["allowed"].asBool()) {
      std::fprintf(stderr, "the billing gate did not allow the bench client\n");
      return 1;
    }

    // An operation the gate answers without asking the host: the ABI round trip alone.
    Json::Value edit = request;
    edit["operation"] = "sales_item.update";
    edit["object"]["client_id"] = client;
    edit["old_object"]["client_id"] = client;
    const std::string edit_text = store::to_text(edit);

    const double full =
        median_ns(calls, [&] { gate->call_json("admission.review", request_text); });
    const double boundary =
        median_ns(calls, [&] { gate->call_json("admission.review", edit_text); });
    std::printf("hook call, ABI round trip (JSON in, JSON out, no host call): median %.0f ns\n",
                boundary);
    std::printf(
        "hook call, billing gate review incl. billing_info.status from SQLite: median %.0f ns\n",
        full);
    std::printf("calls measured: %d each\n", calls);

    // The gate as a remote plugin: a loopback HTTPS service that checks each call's signature
    // and answers with the in-process gate's review, called through the host's remote path.
    const auto box = crypto::SecretBox::from_key_file(dir / "secret.key");
    const auto secret = plugins::issue_remote_secret(*store, box, "billing-gate", true);
    const auto key = plugins::remote_signing_key(*store, box, "billing-gate");
    if (!secret || !key) {
      std::fprintf(stderr, "no signing secret for the remote gate\n");
      return 1;
    }
    http::ensure_self_signed_certificate(dir / "cert.pem", dir / "key.pem");
    Metrics metrics;
    http::Router router;
    router.fallback = [&](const http::Request& req, const http::Params&, http::Responder respond) {
      const auto field = [&](std::string_view name) {
        return std::string(req.header(name).value_or(""));
      };
      const std::string expected =
          "v1," + crypto::base64_encode(crypto::hmac_sha256(
                      *key, {field("webhook-id"), ".", field("webhook-timestamp"), ".", req.body}));
      if (!crypto::constant_time_equal(field("webhook-signature"), expected)) {
        respond(http::Response::text(401, "bad signature"));
        return;
      }
      const auto review = gate->call_json("admission.review", req.body);
      respond(http::Response::text(200, store::to_text(review.body), "application/json"));
    };
    http::ServerOptions server_options;
    server_options.host = "127.0.0.1";
    server_options.port = 0;
    server_options.threads = 1;
    server_options.cert_file = dir / "cert.pem";
    server_options.key_file = dir / "key.pem";
    http::Server service(server_options, router, log, metrics);
    service.start();
    {
      Json::Value m;
      m["id"] = "billing-gate";
      m["name"] = "Billing-info gate, served remotely";
      m["version"] = "1.0.0";
      m["kind"] = "plugin";
      m["publisher"] = "psahost bench";
      m["sdk"] = "^1.0";
      m["hooks"]["admission"].append("time_entry.approve");
      m["isolation"] = "remote";
      m["remote"]["url"] = "https://127.0.0.1:" + std::to_string(service.port()) + "/review";
      m["failure_policy"] = "fail_closed";
      m["timeout_ms"] = 1000;
      // Signed by a publisher key of the bench's own, which only this registry trusts: the
      // host loads no unsigned remote plugin.
      fs::create_directories(dir / "remote");
      plugins::generate_key_pair(dir / "publisher");
      std::ofstream(dir / "remote" / "billing-gate.json")
          << store::to_text(plugins::sign_manifest(m, dir / "publisher" / "publisher.key"));
    }
    net::ClientOptions client_options;
    client_options.extra_ca_file = dir / "cert.pem";
    client_options.max_response_body = plugins::kMaxRemoteAnswerBytes;
    net::HttpsClient remote_client(client_options, &log);
    plugins::PluginEnv remote_env{calls_table, store.get(), log, nullptr};
    remote_env.remote_client = &remote_client;
    remote_env.secrets = &box;
    plugins::RegistryOptions remote_options{dir / "cache-remote", true, {}};
    remote_options.trust = plugins::TrustPolicy{};
    remote_options.trust->keys.push_back(
        plugins::read_public_key(dir / "publisher" / "publisher.pub"));
    plugins::PluginRegistry remote_registry(remote_options, remote_env);
    remote_registry.load(dir / "remote" / "billing-gate.json");
    auto remote = remote_registry.find("billing-gate");
    if (!remote) {
      std::fprintf(stderr, "the billing gate did not load as a remote plugin\n");
      return 1;
    }

    const int each = std::max(1000, calls / 10);
    for (auto* plugin : {gate.get(), isolated.get(), remote.get()}) {
      const auto answer = plugin->call("admission.review", request);
      if (!answer.body["allowed"].asBool()) {
        std::fprintf(stderr, "the %s billing gate did not allow the bench client: %s\n",
                     plugin->isolation(), store::to_text(answer.body).c_str());
        return 1;
      }
    }
    const auto in_process =
        median_p99_ns(each, [&] { gate->call_json("admission.review", request_text); });
    const auto process =
        median_p99_ns(each, [&] { isolated->call_json("admission.review", request_text); });
    // The channel alone: a review the gate answers without a host call, so one round trip to
    // the runner instead of two.
    const auto process_no_host_call =
        median_p99_ns(each, [&] { isolated->call_json("admission.review", edit_text); });
    const auto remote_call = median_p99_ns(
        std::max(1000, each / 10), [&] { remote->call_json("admission.review", request_text); });
    std::printf("billing gate review, in_process (hook pool):  median %.1f us  p99 %.1f us\n",
                in_process.first / 1000, in_process.second / 1000);
    std::printf("billing gate review, process (runner):        median %.1f us  p99 %.1f us\n",
                process.first / 1000, process.second / 1000);
    std::printf("  the same without its host call (channel only):  median %.1f us  p99 %.1f us\n",
                process_no_host_call.first / 1000, process_no_host_call.second / 1000);
    std::printf("billing gate review, remote (loopback HTTPS): median %.1f us  p99 %.1f us\n",
                remote_call.first / 1000, remote_call.second / 1000);
    std::printf("process / in_process median: %.2f  (goal: process median < 25 us)\n",
                process.first / in_process.first);
    const auto hand_off = thread_hand_off_ns(each);
    const auto round_trip = process_round_trip_ns(each);
    std::printf("floor, hand-off to another thread and back:   median %.1f us  p99 %.1f us\n",
                hand_off.first / 1000, hand_off.second / 1000);
    std::printf("floor, socketpair round trip to a process:    median %.1f us  p99 %.1f us\n",
                round_trip.first / 1000, round_trip.second / 1000);
    service.shutdown(std::chrono::milliseconds(200));
  }
  fs::remove_all(dir);
  return 0;
}
