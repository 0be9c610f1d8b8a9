// What the benchmarks of a large partner share: its clients written straight into the store
// (with complete billing info and a ticket each), the plugins under measurement loaded, the
// seed's WAL folded into the database before the measurement, and the CPU time of the process.
#pragma once

#include "clients/clients.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"

#include <sqlite3.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string>

namespace psahost::bench {

// Complete billing info (EUR, 21 % tax, time rounded up to 15 minutes).
inline constexpr const char* kBillingInfo =
    R"({"business_name":"Bench BV","email":"b@bench.example","address":{"street":"Main",
    "number":"1","city":"Utrecht","zip":"3511AA","country":"NL"},"currency":"EUR",
    "tax_rate":"21.00","payment_terms_days":30,"invoice_delivery":"email","roundup_minutes":15})";

// kBillingInfo as the store keeps it.
inline std::string stored_billing() {
  return clients::stored_billing(*domain::parse_billing_info(store::from_text(kBillingInfo)).info);
}

// Loads the plugins {dir}/{id}.json; false, saying which and why on stderr, when one fails.
inline bool load_plugins(plugins::PluginRegistry& registry, const std::filesystem::path& dir,
                         std::initializer_list<const char*> ids) {
  for (const char* id : ids) {
    if (!registry.load(dir / (std::string(id) + ".json"))) {
      std::fprintf(stderr, "could not load %s: %s\n", id,
                   registry.list().back().last_error.c_str());
      return false;
    }
  }
  return true;
}

// Writes client number i ("cli_000042") with the stored billing info and one open ticket
// ("tkt_cli_000042"); returns the client's id.
inline std::string insert_client_with_ticket(store::Tx& tx, const std::string& tenant, int i,
                                             const std::string& stored_billing) {
  char id[32];
  std::snprintf(id, sizeof id, "cli_%06d", i);
  const std::string client = id;
  tx.exec(
      "INSERT INTO clients (id, tenant_id, name, created_at, updated_at) VALUES "
      "(?, ?, ?, 'now', 'now')",
      {client, tenant, "Client " + std::to_string(i)});
  tx.exec(
      "INSERT INTO billing_info (client_id, tenant_id, data, updated_at) VALUES "
      "(?, ?, ?, 'now')",
      {client, tenant, stored_billing});
  tx.exec(
      "INSERT INTO tickets (id, tenant_id, client_id, subject, status, created_at, "
      "updated_at) VALUES (?, ?, ?, 'Support', 'open', 'now', 'now')",
      {"tkt_" + client, tenant, client});
  return client;
}

// Copies the seed's pages into the database now, so the measured work's first commits do not.
inline void checkpoint(const std::filesystem::path& database) {
  sqlite3* db = nullptr;
  if (sqlite3_open(database.c_str(), &db) == SQLITE_OK) {
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
  sqlite3_close(db);
}

// CPU seconds of the whole process (caller and store writer): on a shared machine the wall
// clock also counts time the other tenants of the cores took.
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

}  // namespace psahost::bench
