// Tests of the store's transactions: parameter binding, reading columns, streaming, reads that
// see only committed data, read-only stores, and that a committed write survives a reopen.
#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using psahost::Logger;
using psahost::LogLevel;
using psahost::store::Row;
using psahost::store::Store;
using psahost::store::StoreError;
using psahost::store::StoreOptions;
using psahost::store::Tx;
using psahost::store::Value;

using psahost::test::TempDir;

namespace {

// The store tests keep their database in the shared temporary folder helper.
fs::path db_path(const TempDir& dir) {
  return dir.path() / "psahost.db";
}

void create_scratch(Store& store) {
  store.write([](Tx& tx) {
    tx.exec("CREATE TABLE scratch (id INTEGER PRIMARY KEY, n INTEGER, t TEXT, x ANY) STRICT");
  });
}

}  // namespace

TEST_CASE("Tx binds null - integers and text with NUL bytes and UTF-8 and reads them back exactly",
          "[store][tx]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  create_scratch(*store);

  const std::string with_nuls("a\0b\0", 4);
  const std::string utf8 =
      "Gr\xC3\xBC\xC3\x9F"
      "e \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82";
  const std::vector<std::vector<Value>> rows = {
      {int64_t{1}, std::numeric_limits<int64_t>::min(), with_nuls, nullptr},
      {int64_t{2}, std::numeric_limits<int64_t>::max(), utf8, std::string()},
      {int64_t{3}, nullptr, nullptr, int64_t{0}},
  };
  store->write([&](Tx& tx) {
    for (const auto& row : rows)
      tx.exec("INSERT INTO scratch (id, n, t, x) VALUES (?, ?, ?, ?)", row);
  });

  store->read([&](Tx& tx) {
    const auto read = tx.query("SELECT id, n, t, x FROM scratch ORDER BY id");
    REQUIRE(read.size() == rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (std::size_t c = 0; c < rows[i].size(); ++c) {
        INFO("row " << i << " column " << c);
        CHECK(read[i].at(c) == rows[i][c]);
      }
    }
    // Stored as TEXT of the full length: the NULs were not a terminator.
    const auto kind =
        tx.query_one("SELECT typeof(t), length(CAST(t AS BLOB)) FROM scratch WHERE id = 1");
    CHECK(kind->text(0) == "text");
    CHECK(kind->integer(1) == 4);
    // The empty string stays a string, not NULL.
    CHECK_FALSE(tx.query_one("SELECT x FROM scratch WHERE id = 2")->is_null(0));
    CHECK(tx.query_one("SELECT ? IS NULL, ? + 1", {nullptr, int64_t{41}})->integer(1) == 42);
  });
}

TEST_CASE("reading a REAL value throws StoreError instead of converting it", "[store][tx]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  store->write([](Tx& tx) {
    tx.exec("CREATE TABLE prices (amount REAL NOT NULL) STRICT");
    tx.exec("INSERT INTO prices (amount) VALUES (12.5)");
  });
  store->read([](Tx& tx) {
    CHECK_THROWS_AS(tx.query("SELECT amount FROM prices"), StoreError);
    CHECK_THROWS_WITH(tx.query_one("SELECT 0.1 AS price"),
                      Catch::Matchers::Contains("price") && Catch::Matchers::Contains("floating"));
    // The failed statement was reset and can run again.
    CHECK_THROWS_AS(tx.query("SELECT amount FROM prices"), StoreError);
  });
}

TEST_CASE("each streams rows in order while other statements - even the same SQL - run inside it",
          "[store][tx]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  create_scratch(*store);
  store->write([](Tx& tx) {
    for (int64_t i = 1; i <= 1000; ++i)
      tx.exec("INSERT INTO scratch (id, n) VALUES (?, ?)", {i, i * 10});
  });

  const std::string scan = "SELECT id, n FROM scratch WHERE id >= ? ORDER BY id";
  store->read([&](Tx& tx) {
    int64_t expected = 1;
    int64_t nested_count = 0;
    tx.each(scan, {int64_t{1}}, [&](const Row& row) {
      CHECK(row.integer(0) == expected);
      CHECK(row.integer(1) == expected * 10);
      ++expected;
      if (row.integer(0) == 500) {
        nested_count = static_cast<int64_t>(tx.query(scan, {int64_t{990}}).size());
        CHECK(tx.query_one("SELECT n FROM scratch WHERE id = ?", {int64_t{7}})->integer(0) == 70);
      }
    });
    CHECK(expected == 1001);
    CHECK(nested_count == 11);

    // Stopping a scan by throwing leaves the statement usable for the next scan.
    struct Enough {};
    int64_t seen = 0;
    CHECK_THROWS_AS(tx.each(scan, {int64_t{1}},
                            [&](const Row&) {
                              if (++seen == 3) throw Enough{};
                            }),
                    Enough);
    CHECK(tx.query(scan, {int64_t{999}}).size() == 2);
  });
}

TEST_CASE("Tx refuses a wrong parameter count and more than one statement per call",
          "[store][tx]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  store->read([](Tx& tx) {
    CHECK_THROWS_WITH(tx.query("SELECT ?, ?", {int64_t{1}}),
                      Catch::Matchers::Contains("2 parameters but got 1"));
    CHECK_THROWS_WITH(tx.query("SELECT 1; SELECT 2"), Catch::Matchers::Contains("one statement"));
    CHECK_THROWS_WITH(tx.query("SELEC 1"), Catch::Matchers::Contains("SELEC 1"));
    CHECK_FALSE(tx.query_one("SELECT 1 WHERE 0").has_value());
  });
}

TEST_CASE("exec reports changed rows and last_insert_id the new row", "[store][tx]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  int64_t first = 0;
  int64_t second = 0;
  int64_t changed = 0;
  store->write([&](Tx& tx) {
    tx.exec(
        "INSERT INTO events (tenant_id, type, object_type, object_id, ordering_key, payload, "
        "created_at) VALUES ('t', 'client.upserted', 'client', 'c1', 'c1', '{}', 'now')");
    first = tx.last_insert_id();
    tx.exec(
        "INSERT INTO events (tenant_id, type, object_type, object_id, ordering_key, payload, "
        "created_at) VALUES ('t', 'client.upserted', 'client', 'c2', 'c2', '{}', 'now')");
    second = tx.last_insert_id();
    changed = tx.exec("UPDATE events SET actor = 'alice'");
    CHECK(tx.exec("SELECT * FROM events") == 0);
  });
  CHECK(second == first + 1);
  CHECK(changed == 2);
}

TEST_CASE("Row reads NULL as 0 or empty - formats integers as text - and refuses text as integer",
          "[store][row]") {
  const Row row({nullptr, int64_t{-42}, std::string("abc")});
  CHECK(row.is_null(0));
  CHECK(row.integer(0) == 0);
  CHECK(row.text(0).empty());
  CHECK_FALSE(row.optional_text(0).has_value());
  CHECK(row.integer(1) == -42);
  CHECK(row.text(1) == "-42");
  CHECK(row.optional_text(1) == std::optional<std::string>("-42"));
  CHECK(row.text(2) == "abc");
  CHECK_THROWS_AS(row.integer(2), StoreError);
  CHECK_THROWS_AS(row.text(3), std::out_of_range);
}

TEST_CASE("reads see committed data only - never a write that is still in its group",
          "[store][tx]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  std::promise<void> inserted;
  std::promise<void> release;
  std::promise<void> committed;
  auto release_future = release.get_future().share();
  store->write_async(
      [&, release_future](Tx& tx) {
        tx.exec("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'Contoso', 'now')");
        inserted.set_value();
        release_future.wait();
      },
      [&](const std::exception_ptr& error) {
        if (error) {
          committed.set_exception(error);
        } else {
          committed.set_value();
        }
      });
  inserted.get_future().wait();
  const auto count = [&] {
    int64_t n = -1;
    store->read([&](Tx& tx) { n = tx.query_one("SELECT COUNT(*) FROM tenants")->integer(0); });
    return n;
  };
  CHECK(count() == 0);
  release.set_value();
  committed.get_future().get();
  CHECK(count() == 1);
}

TEST_CASE("a write attempted inside read() fails and changes nothing", "[store][tx]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  CHECK_THROWS_AS(store->read([](Tx& tx) {
    tx.exec("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'Contoso', 'now')");
  }),
                  StoreError);
  store->read([](Tx& tx) {
    CHECK(tx.query_one("SELECT COUNT(*) FROM tenants")->integer(0) == 0);
    // A nested read joins the open read transaction instead of failing on BEGIN.
    CHECK(tx.query_one("SELECT 1")->integer(0) == 1);
  });
  store->read([&](Tx&) {
    store->read([](Tx& inner) { CHECK(inner.query_one("SELECT 2")->integer(0) == 2); });
  });
}

TEST_CASE("after write() returns - a brand-new store on the same file sees the row",
          "[store][durability]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  store->write([](Tx& tx) {
    tx.exec("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'Contoso', 'now')");
  });
  const auto name_in = [](Store& s) {
    std::string name;
    s.read([&](Tx& tx) {
      if (auto row = tx.query_one("SELECT name FROM tenants WHERE id = 't1'")) name = row->text(0);
    });
    return name;
  };
  {
    auto beside = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
    CHECK(name_in(*beside) == "Contoso");
  }
  store.reset();
  auto after = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  CHECK(name_in(*after) == "Contoso");
}

TEST_CASE("a read-only store reads but refuses writes", "[store][readonly]") {
  TempDir dir;
  Logger log(LogLevel::error);
  Store::open_sqlite(StoreOptions{db_path(dir)}, log)->write([](Tx& tx) {
    tx.exec("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'Contoso', 'now')");
  });
  StoreOptions options{db_path(dir)};
  options.read_only = true;
  auto store = Store::open_sqlite(options, log);
  CHECK(store->schema_version() == Store::known_schema_version());
  store->read([](Tx& tx) { CHECK(tx.query_one("SELECT COUNT(*) FROM tenants")->integer(0) == 1); });
  CHECK_THROWS_WITH(store->write([](Tx&) {}), Catch::Matchers::Contains("read-only"));
  std::exception_ptr refused;
  store->write_async([](Tx&) {}, [&](const std::exception_ptr& error) { refused = error; });
  CHECK(refused != nullptr);

  StoreOptions missing{db_path(dir).parent_path() / "missing.db"};
  missing.read_only = true;
  CHECK_THROWS_AS(Store::open_sqlite(missing, log), StoreError);
  CHECK_FALSE(fs::exists(missing.path));
}

TEST_CASE("destroying the store closes every connection - readers on other threads included",
          "[store]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  store->write([](Tx& tx) {
    tx.exec("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'Contoso', 'now')");
  });
  std::vector<std::thread> readers;
  readers.reserve(4);
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] { store->read([](Tx& tx) { tx.query("SELECT * FROM tenants"); }); });
  }
  for (auto& reader : readers) reader.join();
  const fs::path wal = db_path(dir).string() + "-wal";
  CHECK(fs::exists(wal));
  store.reset();
  // SQLite checkpoints and removes the WAL only when the last connection to the file closes.
  CHECK_FALSE(fs::exists(wal));
}

TEST_CASE("an empty database file is refused instead of silently starting a new database",
          "[store]") {
  TempDir dir;
  Logger log(LogLevel::error);
  { std::ofstream(db_path(dir)); }
  REQUIRE(fs::file_size(db_path(dir)) == 0);
  try {
    Store::open_sqlite(StoreOptions{db_path(dir)}, log);
    FAIL("opened an empty database file");
  } catch (const StoreError& e) {
    CHECK(std::string(e.what()).find("empty (0 bytes)") != std::string::npos);
    CHECK(std::string(e.what()).find(db_path(dir).string()) != std::string::npos);
  }
  CHECK(fs::file_size(db_path(dir)) == 0);  // left exactly as it was
}

TEST_CASE("the database and its WAL files are readable by their owner alone", "[store]") {
  TempDir dir;
  Logger log(LogLevel::error);
  const auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
  {
    auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
    store->write([](Tx& tx) { tx.exec("CREATE TABLE t (x INTEGER) STRICT"); });
    for (const char* suffix : {"", "-wal", "-shm"}) {
      const fs::path file = db_path(dir).string() + suffix;
      INFO(file);
      REQUIRE(fs::exists(file));
      CHECK((fs::status(file).permissions() & fs::perms::all) == owner_only);
    }
  }
  // One made readable by others before (an older psahost) is tightened when opened.
  fs::permissions(db_path(dir), fs::perms::owner_read | fs::perms::owner_write |
                                    fs::perms::group_read | fs::perms::others_read);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  CHECK((fs::status(db_path(dir)).permissions() & fs::perms::all) == owner_only);
}
