// Measures bootstrapping contracts for a large partner: 10,000 clients with 5 assigned services
// each, on SQLite, through the contract-bootstrap plugin and the host calls it makes in process.
// Usage: psahost_bench_bootstrap PLUGIN_DIR [CLIENTS]
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "bench_partner.hpp"
#include "clients/clients.hpp"
#include "contracts/contracts.hpp"
#include "contracts/host_calls.hpp"
#include "core/log.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace fs = std::filesystem;
using namespace psahost;

namespace {

// Six products; every client gets five of them, one of which has no EUR price (an unpriced part
// for every fifth client or so), and every other client has billing info.
void seed(store::Store& store, const std::string& tenant, int clients) {
  const std::string billing = bench::stored_billing();
  store.write([&](store::Tx& tx) {
    tx.exec(
        "INSERT INTO products (tenant_id, sku, name, pricing, prices, updated_at) VALUES "
        "(?, 'BK', 'Backup', 'per_unit', '{\"EUR\":450}', 'now'), "
        "(?, 'AV', 'Antivirus', 'per_unit', '{\"EUR\":200}', 'now'), "
        "(?, 'M365', 'Microsoft 365', 'per_unit', '{\"EUR\":1150}', 'now'), "
        "(?, 'FW', 'Firewall', 'fixed', '{\"EUR\":2000}', 'now'), "
        "(?, 'RMM', 'Monitoring', 'per_unit', '{\"EUR\":300}', 'now'), "
        "(?, 'DNS', 'DNS filtering', 'per_unit', '{\"USD\":100}', 'now')",
        {tenant, tenant, tenant, tenant, tenant, tenant});
  });
  const char* skus[] = {"BK", "AV", "M365", "FW", "RMM", "DNS"};
  constexpr int kPerCommit = 1000;
  for (int first = 0; first < clients; first += kPerCommit) {
    store.write([&](store::Tx& tx) {
      for (int i = first; i < std::min(clients, first + kPerCommit); ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "cli_%06d", i);
        tx.exec(
            "INSERT INTO clients (id, tenant_id, name, created_at, updated_at) VALUES "
            "(?, ?, ?, 'now', 'now')",
            {std::string(id), tenant, "Client " + std::to_string(i)});
        if (i % 2 == 0) {
          tx.exec(
              "INSERT INTO billing_info (client_id, tenant_id, data, updated_at) VALUES "
              "(?, ?, ?, 'now')",
              {std::string(id), tenant, billing});
        }
        for (int s = 0; s < 5; ++s) {
          tx.exec(
              "INSERT INTO service_assignments (tenant_id, client_id, sku, quantity, since, "
              "updated_at) VALUES (?, ?, ?, ?, '2026-01-01', 'now')",
              {tenant, std::string(id), std::string(skus[(i + s) % 6]), int64_t{1 + (i + s) % 25}});
        }
      }
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PLUGIN_DIR [CLIENTS]\n", argv[0]);
    return 2;
  }
  const int clients = argc > 2 ? std::atoi(argv[2]) : 10'000;
  const fs::path dir =
      fs::temp_directory_path() / ("psahost-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  Logger log(LogLevel::error);
  int rc = 0;
  {
    auto store = store::Store::open_sqlite({dir / "bench.db"}, log);
    const std::string tenant = auth::Tokens(*store).ensure_tenant("bench");
    seed(*store, tenant, clients);

    plugins::HostCalls calls;
    api::register_host_services(calls, *store);
    contracts::register_contract_host_calls(calls, *store);
    {
      plugins::PluginRegistry registry({dir / "plugin-cache", false, {}},
                                       plugins::PluginEnv{calls, store.get(), log, nullptr});
      if (!bench::load_plugins(registry, argv[1], {"contract-bootstrap"})) return 1;
      Json::Value request;
      request["tenant_id"] = tenant;
      request["all"] = true;
      // The dry run is the reading and deciding alone; the difference is the writing.
      request["dry_run"] = true;
      const double dry_cpu0 = bench::cpu_seconds();
      const auto d0 = std::chrono::steady_clock::now();
      const auto dry = contracts::bootstrap(registry, request);
      const double dry_secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count();
      std::printf("dry run (read and decide, nothing written): %.2f s (cpu %.2f s), %u drafts\n",
                  dry_secs, bench::cpu_seconds() - dry_cpu0, dry ? (*dry)["created"].size() : 0u);
      request["dry_run"] = false;
      const auto commits_before = store->writer_stats().commits;
      const double cpu0 = bench::cpu_seconds();
      const auto t0 = std::chrono::steady_clock::now();
      const auto result = contracts::bootstrap(registry, request);
      const auto t1 = std::chrono::steady_clock::now();
      const double cpu = bench::cpu_seconds() - cpu0;
      if (!result) {
        std::fprintf(stderr, "bootstrap failed: %s\n", result.refusal().detail.c_str());
        rc = 1;
      } else {
        const double secs = std::chrono::duration<double>(t1 - t0).count();
        const auto created = (*result)["created"].size();
        Json::UInt unpriced = 0;
        for (const auto& c : (*result)["created"]) unpriced += c["unpriced_parts"].size();
        int64_t parts = 0;
        store->read([&](store::Tx& tx) {
          parts = tx.query_one("SELECT COUNT(*) FROM contract_parts")->integer(0);
        });
        std::printf(
            "bootstrap %d clients x 5 services (SQLite, in-process plugin): %.2f s (cpu %.2f s), "
            "%.0f drafts/s\n",
            clients, secs, cpu, created / secs);
        std::printf(
            "  drafts %u, parts %lld (unpriced %u), skipped %u, write commits %llu\n", created,
            static_cast<long long>(parts), unpriced, (*result)["skipped"].size(),
            static_cast<unsigned long long>(store->writer_stats().commits - commits_before));
        if (created != static_cast<Json::UInt>(clients)) rc = 1;
      }
    }
    store->close();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
