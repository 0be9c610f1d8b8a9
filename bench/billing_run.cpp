// Measures a billing run for a large partner on SQLite: 10,000 clients with 5 contract parts each
// (50,000) and 50 approved time entries each (500,000), through the invoice-numbering and
// billing-gate plugins and the one run path the API uses. Beside it, in the same process and on
// the same disk, the rate at which plain SQLite inserts as many rows of the same shape: the limit.
// Usage: psahost_bench_billing_run PLUGIN_DIR [CLIENTS] [PARTS_PER_CLIENT] [ENTRIES_PER_CLIENT]
#include "billing/billing_run.hpp"
#include "admission/pipeline.hpp"
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "bench_partner.hpp"
#include "billing/numbering_review.hpp"
#include "catalog/catalog.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "domain/billing_calendar.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stop_token>
#include <string>

namespace fs = std::filesystem;
using namespace psahost;

namespace {

void seed(store::Store& store, const std::string& tenant, int clients, int parts, int entries,
          const domain::Period& period) {
  const std::string billing = bench::stored_billing();
  const int days = static_cast<int>((period.last_day() - period.first_day()).count()) + 1;
  constexpr int kClientsPerCommit = 250;
  for (int first = 0; first < clients; first += kClientsPerCommit) {
    store.write([&](store::Tx& tx) {
      for (int i = first; i < std::min(clients, first + kClientsPerCommit); ++i) {
        const std::string client = bench::insert_client_with_ticket(tx, tenant, i, billing);
        tx.exec(
            "INSERT INTO contracts (id, tenant_id, client_id, reference, name, start_date, "
            "currency, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'Managed', "
            "'2020-01-01', 'EUR', 'active', 'now', 'now')",
            {"ctr_" + client, tenant, client, "CT-" + client});
        for (int p = 0; p < parts; ++p) {
          tx.exec(
              "INSERT INTO contract_parts (id, contract_id, tenant_id, description, quantity, "
              "price, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'now', 'now')",
              {"cp_" + client + "_" + std::to_string(p), "ctr_" + client, tenant,
               "Service " + std::to_string(p), int64_t{1 + (i + p) % 25}, int64_t{200 + 150 * p}});
        }
        for (int e = 0; e < entries; ++e) {
          char entry[48];
          std::snprintf(entry, sizeof entry, "te_%06d_%03d", i, e);
          char date[16];
          std::snprintf(date, sizeof date, "%s-%02d", period.text().c_str(), 1 + e % days);
          tx.exec(
              "INSERT INTO time_entries (id, tenant_id, ticket_id, client_id, technician, "
              "minutes, billed_minutes, billable, rate, currency, work_date, status, "
              "approved_by, approved_at, created_at, updated_at) VALUES (?, ?, ?, ?, "
              "'alice', ?, ?, 1, 9000, 'EUR', ?, 'approved', 'bench', 'now', 'now', 'now')",
              {std::string(entry), tenant, "tkt_" + client, client,
               int64_t{15 * (1 + e % 8) - e % 15}, int64_t{15 * (1 + e % 8)}, std::string(date)});
        }
      }
    });
  }
}

// Plain SQLite: one prepared INSERT of rows shaped like invoice lines (the same columns and
// values of the same sizes) into a table without constraints or indexes, WAL and a durable
// commit every `per_commit` rows, as the store's writer commits. Returns seconds.
double plain_inserts(const fs::path& path, int64_t rows, int64_t per_commit) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE lines ("
               "invoice_id TEXT, line_no INTEGER, tenant_id TEXT, kind TEXT, description TEXT, "
               "quantity INTEGER, unit TEXT, unit_price INTEGER, discount TEXT, amount INTEGER, "
               "tax_amount INTEGER, time_entry_id TEXT, ticket_id TEXT, work_date TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
                     &stmt, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  for (int64_t n = 0; n < rows; ++n) {
    char invoice[40], entry[40];
    std::snprintf(invoice, sizeof invoice, "inv_%013llxabcdefgh",
                  static_cast<unsigned long long>(n / 56));
    std::snprintf(entry, sizeof entry, "te_%06lld_%03lld", static_cast<long long>(n / 56),
                  static_cast<long long>(n % 56));
    const std::string description = "Support - alice, 2026-11-" + std::to_string(10 + n % 18);
    sqlite3_bind_text(stmt, 1, invoice, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, n % 56 + 1);
    sqlite3_bind_text(stmt, 3, "ten_abcdefghijkl", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, "time_entry", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, description.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 6, 15 * (1 + n % 8));
    sqlite3_bind_text(stmt, 7, "minutes", -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 8, 9000);
    sqlite3_bind_text(stmt, 9, "0.00", -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 10, 2250);
    sqlite3_bind_int64(stmt, 11, 473);
    sqlite3_bind_text(stmt, 12, entry, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 13, "tkt_cli_000001", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 14, "2026-11-12", -1, SQLITE_STATIC);
    sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if ((n + 1) % per_commit == 0) {
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    }
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PLUGIN_DIR [CLIENTS] [PARTS_PER_CLIENT] [ENTRIES_PER_CLIENT]\n",
                 argv[0]);
    return 2;
  }
  const int clients = argc > 2 ? std::atoi(argv[2]) : 10'000;
  const int parts = argc > 3 ? std::atoi(argv[3]) : 5;
  const int entries = argc > 4 ? std::atoi(argv[4]) : 50;
  const fs::path dir =
      fs::temp_directory_path() / ("psahost-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  Logger log(LogLevel::error);
  int rc = 0;
  {
    auto store = store::Store::open_sqlite({dir / "bench.db"}, log);
    const std::string tenant = auth::Tokens(*store).ensure_tenant("bench");
    const domain::Period period = domain::Period::of(domain::today_utc()).plus_months(-1);
    const auto s0 = std::chrono::steady_clock::now();
    seed(*store, tenant, clients, parts, entries, period);
    bench::checkpoint(dir / "bench.db");
    std::printf("seeded %d clients, %d contract parts, %d approved time entries in %.1f s\n",
                clients, clients * parts, clients * entries,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());

    plugins::HostCalls calls;
    api::register_all_host_calls(calls, *store);
    {
      plugins::PluginRegistry registry({dir / "plugin-cache", false, {}},
                                       plugins::PluginEnv{calls, store.get(), log, nullptr});
      if (!bench::load_plugins(registry, argv[1], {"billing-gate", "invoice-numbering"})) return 1;
      admission::Pipeline pipeline(registry, log);
      const auth::Principal runner{tenant, "", auth::Role::admin, "bench"};
      const billing::NumberingEnv numbering{*store, registry};
      if (!billing::verify_numbering(numbering, runner, "", std::nullopt)) {
        std::fprintf(stderr, "could not verify the numbering\n");
        return 1;
      }
      const billing::BillingEnv env{*store, registry, pipeline, {}};
      const auto commits_before = store->writer_stats().commits;
      const double cpu0 = bench::cpu_seconds();
      const auto t0 = std::chrono::steady_clock::now();
      const auto start = billing::start_billing_run(env, runner, {period.text(), false});
      if (!start) {
        std::fprintf(stderr, "the run was refused: %s\n", start.refusal().detail.c_str());
        return 1;
      }
      std::stop_source never;
      billing::execute_billing_run(env, tenant, start->id, never.get_token());
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = bench::cpu_seconds() - cpu0;
      int64_t invoices = 0, lines = 0, invoiced = 0;
      std::string status;
      store->read([&](store::Tx& tx) {
        invoices = tx.query_one("SELECT COUNT(*) FROM invoices")->integer(0);
        lines = tx.query_one("SELECT COUNT(*) FROM invoice_lines")->integer(0);
        invoiced =
            tx.query_one("SELECT COUNT(*) FROM time_entries WHERE status = 'invoiced'")->integer(0);
        status = tx.query_one("SELECT status FROM billing_runs WHERE id = ?", {start->id})->text(0);
      });
      const auto commits = store->writer_stats().commits - commits_before;
      std::printf(
          "billing run %s (SQLite, in-process plugins): %.2f s (cpu %.2f s), %lld invoices, "
          "%lld lines, %.0f invoice lines/s, %llu commits\n",
          period.text().c_str(), secs, cpu, static_cast<long long>(invoices),
          static_cast<long long>(lines), lines / secs, static_cast<unsigned long long>(commits));
      if (status != "completed" || invoices != clients ||
          lines != static_cast<int64_t>(clients) * (parts + entries) ||
          invoiced != static_cast<int64_t>(clients) * entries) {
        std::fprintf(stderr, "unexpected outcome: status %s, %lld invoices, %lld lines\n",
                     status.c_str(), static_cast<long long>(invoices),
                     static_cast<long long>(lines));
        rc = 1;
      }
      // The limit, measured on the same disk right after: as many rows, in commits of the same
      // size as the run's (rows per commit), and in one transaction.
      const int64_t per_commit = std::max<int64_t>(1, lines / std::max<uint64_t>(1, commits));
      const double plain = plain_inserts(dir / "plain.db", lines, per_commit);
      const double plain_one = plain_inserts(dir / "plain-one.db", lines, lines);
      std::printf(
          "plain SQLite inserts of %lld rows: %.2f s, %.0f rows/s in commits of %lld rows; "
          "%.2f s, %.0f rows/s in one transaction\n",
          static_cast<long long>(lines), plain, lines / plain, static_cast<long long>(per_commit),
          plain_one, lines / plain_one);
      std::printf("ratio run/plain: %.2f (same commits), %.2f (one transaction); goal >= 0.33\n",
                  plain / secs, plain_one / secs);
    }
    store->close();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
