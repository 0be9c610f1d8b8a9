// Measures bulk approval of ticket time for a large partner: 100,000 entries across 1,000 clients
// on SQLite, through the billing gate, the time-approval plugin and the route's own apply path.
// Usage: psahost_bench_time_approval PLUGIN_DIR [ENTRIES] [CLIENTS]
#include "admission/pipeline.hpp"
#include "api/host_services.hpp"
#include "approval/approval.hpp"
#include "auth/tokens.hpp"
#include "bench_partner.hpp"
#include "clients/clients.hpp"
#include "core/log.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>

namespace fs = std::filesystem;
using namespace psahost;

namespace {

// Every client has billing info and a ticket; every tenth has an active contract with its own
// labour rate, the rest are priced from the catalog's default labour product.
void seed(store::Store& store, const std::string& tenant, int entries, int clients) {
  const std::string billing = bench::stored_billing();
  store.write([&](store::Tx& tx) {
    tx.exec(
        "INSERT INTO products (tenant_id, sku, name, pricing, prices, default_labour, "
        "updated_at) VALUES (?, 'LABOUR', 'Support', 'per_hour', '{\"EUR\":9000}', 1, 'now')",
        {tenant});
    for (int i = 0; i < clients; ++i) {
      const std::string client = bench::insert_client_with_ticket(tx, tenant, i, billing);
      if (i % 10 == 0) {
        tx.exec(
            "INSERT INTO contracts (id, tenant_id, client_id, reference, name, start_date, "
            "currency, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'Support', "
            "'2020-01-01', 'EUR', 'active', 'now', 'now')",
            {"ctr_" + client, tenant, client, "CT-" + client});
        tx.exec(
            "INSERT INTO contract_parts (id, contract_id, tenant_id, sku, quantity, price, "
            "created_at, updated_at) VALUES (?, ?, ?, 'LABOUR', 1, 7500, 'now', 'now')",
            {"prt_" + client, "ctr_" + client, tenant});
      }
    }
  });
  constexpr int kPerCommit = 10'000;
  for (int first = 0; first < entries; first += kPerCommit) {
    store.write([&](store::Tx& tx) {
      for (int n = first; n < std::min(entries, first + kPerCommit); ++n) {
        char id[32], client[32];
        std::snprintf(id, sizeof id, "te_%08d", n);
        std::snprintf(client, sizeof client, "cli_%06d", n % clients);
        tx.exec(
            "INSERT INTO time_entries (id, tenant_id, ticket_id, client_id, technician, minutes, "
            "billable, work_date, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'alice', "
            "?, ?, '2026-11-02', 'submitted', 'now', 'now')",
            {std::string(id), tenant, "tkt_" + std::string(client), std::string(client),
             int64_t{1 + n % 240}, int64_t{n % 20 == 0 ? 0 : 1}});
      }
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PLUGIN_DIR [ENTRIES] [CLIENTS]\n", argv[0]);
    return 2;
  }
  const int entries = argc > 2 ? std::atoi(argv[2]) : 100'000;
  const int clients = argc > 3 ? std::atoi(argv[3]) : 1'000;
  const fs::path dir =
      fs::temp_directory_path() / ("psahost-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  Logger log(LogLevel::error);
  int rc = 0;
  {
    auto store = store::Store::open_sqlite({dir / "bench.db"}, log);
    const std::string tenant = auth::Tokens(*store).ensure_tenant("bench");
    seed(*store, tenant, entries, clients);
    bench::checkpoint(dir / "bench.db");

    plugins::HostCalls calls;
    api::register_host_services(calls, *store);
    approval::register_time_host_calls(calls, *store);
    {
      plugins::PluginRegistry registry({dir / "plugin-cache", false, {}},
                                       plugins::PluginEnv{calls, store.get(), log, nullptr});
      if (!bench::load_plugins(registry, argv[1], {"billing-gate", "time-approval"})) return 1;
      admission::Pipeline pipeline(registry, log);
      const approval::TimeApprovalEnv env{*store, registry, pipeline, {}};

      // What POST /v1/time-entries/approve does for {"filter":{}} with the limit raised: select,
      // then the shared approval path.
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::string> ids;
      store->read([&](store::Tx& tx) {
        approval::EntryFilter all;
        all.limit = entries;
        ids = approval::select_submitted(tx, tenant, all);
      });
      const auto commits_before = store->writer_stats().commits;
      const auto run = approval::approve_time_entries(env, {tenant, "bench", ids, {}, false});
      const auto t1 = std::chrono::steady_clock::now();
      if (run.refusal) {
        std::fprintf(stderr, "approval failed: %s\n", run.refusal->detail.c_str());
        rc = 1;
      } else {
        std::map<std::string, int> outcomes;
        std::map<std::string, int> sources;
        for (const auto& r : run.results) {
          ++outcomes[r.outcome];
          if (!r.rate_source.empty()) ++sources[r.rate_source];
        }
        const double secs = std::chrono::duration<double>(t1 - t0).count();
        std::printf(
            "bulk approval of %d entries across %d clients (SQLite, in-process plugins): %.2f s, "
            "%.0f entries/s\n",
            entries, clients, secs, static_cast<double>(run.results.size()) / secs);
        std::printf("  outcomes:");
        for (const auto& [k, n] : outcomes) std::printf(" %s %d", k.c_str(), n);
        std::printf(
            "; rates from contract %d, catalog %d; write commits %llu\n", sources["contract"],
            sources["catalog"],
            static_cast<unsigned long long>(store->writer_stats().commits - commits_before));
        int64_t approved = 0;
        store->read([&](store::Tx& tx) {
          approved = tx.query_one("SELECT COUNT(*) FROM time_entries WHERE status = 'approved'")
                         ->integer(0);
        });
        if (approved != entries || outcomes["approved"] != entries) {
          std::fprintf(stderr, "expected %d approved entries, found %lld\n", entries,
                       static_cast<long long>(approved));
          rc = 1;
        }
      }
    }
    store->close();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
