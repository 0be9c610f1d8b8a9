// Measures what one plugin hook call costs: the billing gate's admission.review (JSON both ways
// across the C ABI, plus its billing_info.status host call into SQLite), in-process (on the hook
// pool) and process-isolated (over the runner's channel, the host call travelling back).
// Usage: psahost_bench_hook PLUGIN_DIR [CALLS] [PSAHOST_BINARY]
#include "api/client_queries.hpp"
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
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
    auto billing = domain::parse_billing_info(api::from_text(
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
          {client, tenant, api::stored_billing(*billing.info), now});
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
    const std::string request_text = api::to_text(request);
    if (!gate->call("admission.review", request).body["allowed"].asBool()) {
      std::fprintf(stderr, "the billing gate did not allow the bench client\n");
      return 1;
    }

    // An operation the gate answers without asking the host: the ABI round trip alone.
    Json::Value edit = request;
    edit["operation"] = "sales_item.update";
    edit["object"]["client_id"] = client;
    edit["old_object"]["client_id"] = client;
    const std::string edit_text = api::to_text(edit);

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

    const int each = std::max(1000, calls / 10);
    for (auto* plugin : {gate.get(), isolated.get()}) {
      if (!plugin->call("admission.review", request).body["allowed"].asBool()) {
        std::fprintf(stderr, "the %s billing gate did not allow the bench client\n",
                     plugin->isolation());
        return 1;
      }
    }
    const auto in_process =
        median_p99_ns(each, [&] { gate->call_json("admission.review", request_text); });
    const auto process =
        median_p99_ns(each, [&] { isolated->call_json("admission.review", request_text); });
    std::printf("billing gate review, in_process (hook pool):  median %.1f us  p99 %.1f us\n",
                in_process.first / 1000, in_process.second / 1000);
    std::printf("billing gate review, process (runner):        median %.1f us  p99 %.1f us\n",
                process.first / 1000, process.second / 1000);
    std::printf("process / in_process median: %.2f  (goal: process median < 25 us)\n",
                process.first / in_process.first);
  }
  fs::remove_all(dir);
  return 0;
}
