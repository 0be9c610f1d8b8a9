// Tests of the versioned migration list and how opening a store applies or refuses it.
// Each test uses a fresh database file in its own temporary folder.
#include <sqlite3.h>

#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>

#include "core/log.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using psahost::Logger;
using psahost::LogLevel;
using psahost::store::ConstraintError;
using psahost::store::Row;
using psahost::store::Store;
using psahost::store::StoreError;
using psahost::store::StoreOptions;
using psahost::store::Tx;

using psahost::test::TempDir;

namespace {

// The store tests keep their database in the shared temporary folder helper.
fs::path db_path(const TempDir& dir) {
  return dir.path() / "psahost.db";
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs SQL on a plain sqlite3 connection, bypassing the store, as an older or newer binary would.
void raw_exec(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(handle);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

std::vector<std::string> migration_rows(Store& store) {
  std::vector<std::string> rows;
  store.read([&](Tx& tx) {
    for (const Row& row :
         tx.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")) {
      rows.push_back(row.text(0) + "|" + row.text(1) + "|" + row.text(2));
    }
  });
  return rows;
}

const std::vector<std::string> kFoundationTables = {"tenants",   "api_tokens", "plugin_settings",
                                                    "plugin_kv", "events",     "subscriber_cursors",
                                                    "audit_log"};

}  // namespace

TEST_CASE("the migration list runs 1..N without gaps and known_schema_version is its last",
          "[store][migrations]") {
  const auto& all = psahost::store::migrations();
  REQUIRE_FALSE(all.empty());
  std::set<std::string> names;
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].version == static_cast<int>(i) + 1);
    CHECK_FALSE(all[i].name.empty());
    CHECK_FALSE(all[i].sql.empty());
    names.insert(all[i].name);
  }
  CHECK(names.size() == all.size());
  CHECK(all.front().name == "foundation");
  CHECK(Store::known_schema_version() == all.back().version);
}

TEST_CASE("a fresh database ends at the known schema version with every table present and STRICT",
          "[store][migrations]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);

  CHECK(store->schema_version() == Store::known_schema_version());
  const auto rows = migration_rows(*store);
  REQUIRE(rows.size() == psahost::store::migrations().size());
  CHECK(rows.front().rfind("1|foundation|", 0) == 0);

  store->read([&](Tx& tx) {
    for (const auto& table : kFoundationTables) {
      INFO(table);
      const auto row = tx.query_one(
          "SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = ?", {table});
      REQUIRE(row.has_value());
      CHECK(row->integer(0) == 1);
    }
    const auto index =
        tx.query_one("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'");
    REQUIRE(index.has_value());
    CHECK(index->text(0).find("(tenant_id, seq)") != std::string::npos);
    const auto applied_at = tx.query_one("SELECT applied_at FROM schema_migrations");
    CHECK(applied_at->text(0).size() == 20);  // 2025-01-31T12:00:00Z
    CHECK(applied_at->text(0).back() == 'Z');
    CHECK(tx.query_one("PRAGMA journal_mode")->text(0) == "wal");
  });
}

TEST_CASE("the writer connection is durable and enforces foreign keys", "[store][migrations]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  int64_t synchronous = -1;
  int64_t foreign_keys = -1;
  store->write([&](Tx& tx) {
    synchronous = tx.query_one("PRAGMA synchronous")->integer(0);
    foreign_keys = tx.query_one("PRAGMA foreign_keys")->integer(0);
  });
  CHECK(synchronous == 2);  // FULL: the WAL is synced at every commit
  CHECK(foreign_keys == 1);
}

TEST_CASE("reopening an up-to-date database applies nothing twice", "[store][migrations]") {
  TempDir dir;
  Logger log(LogLevel::error);
  std::vector<std::string> before;
  {
    auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
    store->write([](Tx& tx) {
      tx.exec("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'Contoso', 'now')");
    });
    before = migration_rows(*store);
  }
  auto reopened = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  CHECK(migration_rows(*reopened) == before);
  CHECK(reopened->schema_version() == Store::known_schema_version());
  reopened->read(
      [](Tx& tx) { CHECK(tx.query_one("SELECT COUNT(*) FROM tenants")->integer(0) == 1); });
}

TEST_CASE("a database with a newer schema is refused - naming both versions - and left unchanged",
          "[store][migrations]") {
  TempDir dir;
  Logger log(LogLevel::error);
  Store::open_sqlite(StoreOptions{db_path(dir)}, log).reset();
  const int future = Store::known_schema_version() + 2;
  raw_exec(db_path(dir), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
                             std::to_string(future) +
                             ", 'from the future', '2030-01-01T00:00:00Z')");
  // A database last used without WAL shows that even the journal-mode switch is held back.
  raw_exec(db_path(dir), "PRAGMA journal_mode = DELETE");
  const std::string bytes_before = file_bytes(db_path(dir));
  REQUIRE_FALSE(bytes_before.empty());

  // Catch2 v2 composes matchers by pointer: keep each part alive as a named variable.
  const auto names_found = Catch::Matchers::Contains("schema version " + std::to_string(future));
  const auto names_known =
      Catch::Matchers::Contains("knows up to " + std::to_string(Store::known_schema_version()));
  const auto names_path = Catch::Matchers::Contains(db_path(dir).string());
  REQUIRE_THROWS_AS(Store::open_sqlite(StoreOptions{db_path(dir)}, log), StoreError);
  REQUIRE_THROWS_WITH(Store::open_sqlite(StoreOptions{db_path(dir)}, log),
                      names_found && names_known && names_path);
  StoreOptions read_only{db_path(dir)};
  read_only.read_only = true;
  REQUIRE_THROWS_WITH(Store::open_sqlite(read_only, log), names_found && names_known && names_path);

  CHECK(file_bytes(db_path(dir)) == bytes_before);
  CHECK_FALSE(fs::exists(dir.path() / "psahost.db-wal"));
}

TEST_CASE("a read-only store never migrates an unmigrated database", "[store][migrations]") {
  TempDir dir;
  Logger log(LogLevel::error);
  raw_exec(db_path(dir), "CREATE TABLE unrelated (x INTEGER)");
  const std::string bytes_before = file_bytes(db_path(dir));
  StoreOptions options{db_path(dir)};
  options.read_only = true;
  auto store = Store::open_sqlite(options, log);
  CHECK(store->schema_version() == 0);
  store->read([](Tx& tx) {
    CHECK_FALSE(tx.query_one("SELECT 1 FROM sqlite_master WHERE name = 'tenants'").has_value());
  });
  store.reset();
  CHECK(file_bytes(db_path(dir)) == bytes_before);
}

TEST_CASE("the foundation schema refuses rows that break its constraints and types",
          "[store][migrations]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  store->write([](Tx& tx) {
    tx.exec("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'Contoso', 'now')");
  });
  const auto refused = [&](const std::string& sql) {
    INFO(sql);
    CHECK_THROWS_AS(store->write([&](Tx& tx) { tx.exec(sql); }), ConstraintError);
  };
  // An unknown role, an unknown tenant, a duplicate name, a missing NOT NULL, a wrong type.
  refused(
      "INSERT INTO api_tokens (id, tenant_id, role, token_hash, created_at) "
      "VALUES ('k1', 't1', 'root', 'h1', 'now')");
  refused(
      "INSERT INTO api_tokens (id, tenant_id, role, token_hash, created_at) "
      "VALUES ('k1', 'nobody', 'admin', 'h1', 'now')");
  refused("INSERT INTO tenants (id, name, created_at) VALUES ('t2', 'Contoso', 'now')");
  refused("INSERT INTO tenants (id, name) VALUES ('t3', 'Fabrikam')");
  refused(
      "INSERT INTO subscriber_cursors (subscriber, last_seq, updated_at) VALUES "
      "('s', 'not a number', 'now')");
  refused("INSERT INTO plugin_settings (plugin_id, enabled, updated_at) VALUES ('p', 2, 'now')");

  store->write([](Tx& tx) {
    tx.exec(
        "INSERT INTO api_tokens (id, tenant_id, role, token_hash, created_at) "
        "VALUES ('k1', 't1', 'admin', 'h1', 'now')");
    tx.exec("INSERT INTO plugin_settings (plugin_id, updated_at) VALUES ('billing-gate', 'now')");
  });
  store->read([](Tx& tx) {
    const auto row = tx.query_one("SELECT enabled, config, name FROM plugin_settings, api_tokens");
    REQUIRE(row.has_value());
    CHECK(row->integer(0) == 1);
    CHECK(row->text(1) == "{}");
    CHECK(row->text(2).empty());
  });
}

TEST_CASE("opening a database in a missing folder fails with a StoreError naming the path",
          "[store][migrations]") {
  TempDir dir;
  Logger log(LogLevel::error);
  const fs::path missing = dir.path() / "no-such-folder" / "psahost.db";
  REQUIRE_THROWS_AS(Store::open_sqlite(StoreOptions{missing}, log), StoreError);
  REQUIRE_THROWS_WITH(Store::open_sqlite(StoreOptions{missing}, log),
                      Catch::Matchers::Contains(missing.string()));
}

TEST_CASE("migration 6 moves a plugin switch a tenant admin wrote host-wide to that tenant",
          "[store][migrations]") {
  TempDir dir;
  {
    // A database at schema 5, as an older psahost left it: tenant t-a switched billing-gate off.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(db_path(dir).c_str(), &db) == SQLITE_OK);
    std::string script =
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL) STRICT;";
    for (const auto& m : psahost::store::migrations()) {
      if (m.version > 5) continue;
      script += m.sql;
      script += "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" +
                m.name + "', 'then');";
    }
    script +=
        "INSERT INTO plugin_settings (plugin_id, enabled, updated_at) VALUES "
        "('billing-gate', 0, 'then'), ('recorder', 0, 'then');"
        "INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, created_at) "
        "VALUES ('t-a', 'tok_a', 'plugin.disable', 'plugin', 'billing-gate', 'then');";
    REQUIRE(sqlite3_exec(db, script.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  store->read([](Tx& tx) {
    const auto moved = tx.query("SELECT tenant_id, plugin_id, enabled FROM tenant_plugin_settings");
    REQUIRE(moved.size() == 1);
    CHECK(moved[0].text(0) == "t-a");
    CHECK(moved[0].text(1) == "billing-gate");
    CHECK(moved[0].integer(2) == 0);
    // The host-wide switch is on again for it; a switch with no tenant to name stays host-wide.
    CHECK(tx.query_one("SELECT enabled FROM plugin_settings WHERE plugin_id = 'billing-gate'")
              ->integer(0) == 1);
    CHECK(tx.query_one("SELECT enabled FROM plugin_settings WHERE plugin_id = 'recorder'")
              ->integer(0) == 0);
  });
}
