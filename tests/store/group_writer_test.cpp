// Tests of the store's single writer: group commits, per-job rollback, when done is called,
// closing with writes queued, and the misuse it must refuse rather than deadlock on.
#include <sqlite3.h>

#include <atomic>
#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using psahost::Logger;
using psahost::LogLevel;
using psahost::store::ConstraintError;
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

// Holds the writer inside one job until opened, so that writes queued meanwhile are taken
// together as the next group: grouping becomes deterministic instead of a matter of timing.
class WriterGate {
 public:
  explicit WriterGate(Store& store) {
    auto entered = std::make_shared<std::promise<void>>();
    auto inside = entered->get_future();
    store.write_async(
        [entered, released = released_.get_future().share()](Tx&) {
          entered->set_value();
          released.wait();
        },
        nullptr);
    inside.wait();
  }
  void open() { released_.set_value(); }

 private:
  std::promise<void> released_;
};

void insert_event(Tx& tx, const std::string& object_id) {
  tx.exec(
      "INSERT INTO events (tenant_id, type, object_type, object_id, ordering_key, payload, "
      "created_at) VALUES ('t1', 'ticket.created', 'ticket', ?, ?, '{}', 'now')",
      {object_id, object_id});
}

int64_t count_events(Store& store, const std::string& where = "1") {
  int64_t n = -1;
  store.read(
      [&](Tx& tx) { n = tx.query_one("SELECT COUNT(*) FROM events WHERE " + where)->integer(0); });
  return n;
}

// Counts rows through a connection of its own, outside the store and its caches.
int64_t count_with_fresh_connection(const fs::path& db, const std::string& object_id) {
  sqlite3* handle = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT COUNT(*) FROM events WHERE object_id = ?", -1, &stmt,
                           nullptr) == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, object_id.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return n;
}

struct JobFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

TEST_CASE("64 threads writing 50 rows each all commit - sharing commits in groups",
          "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  psahost::Metrics metrics;
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log, &metrics);
  constexpr int64_t kThreads = 64;
  constexpr int64_t kWritesPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  writers.reserve(kThreads);
  for (int64_t t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int64_t i = 0; i < kWritesPerThread; ++i) {
        try {
          store->write(
              [&](Tx& tx) { insert_event(tx, std::to_string(t) + "/" + std::to_string(i)); });
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();

  const auto stats = store->writer_stats();
  INFO("commits=" << stats.commits << " jobs=" << stats.jobs
                  << " jobs/commit=" << (stats.commits ? stats.jobs / stats.commits : 0));
  CHECK(failures == 0);
  CHECK(count_events(*store) == kThreads * kWritesPerThread);
  CHECK(stats.jobs == kThreads * kWritesPerThread);
  CHECK(stats.failed_jobs == 0);
  CHECK(stats.commits < stats.jobs);
  store->read([](Tx& tx) {
    CHECK(tx.query_one("SELECT COUNT(DISTINCT object_id) FROM events")->integer(0) == 3200);
  });
  // Every commit reported its group to the metrics, migrations aside.
  CHECK_THAT(metrics.render(),
             Catch::Matchers::Contains("psahost_store_committed_writes_total 3200\n"));
}

TEST_CASE("a job that throws rolls back only its own rows, its neighbours in the group commit",
          "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  WriterGate gate(*store);
  const uint64_t commits_before = store->writer_stats().commits;

  std::vector<std::promise<void>> finished(3);
  const auto report = [&](std::size_t i) {
    return [&finished, i](const std::exception_ptr& error) {
      if (error) {
        finished[i].set_exception(error);
      } else {
        finished[i].set_value();
      }
    };
  };
  store->write_async([](Tx& tx) { insert_event(tx, "before"); }, report(0));
  store->write_async(
      [](Tx& tx) {
        insert_event(tx, "doomed-1");
        insert_event(tx, "doomed-2");
        throw JobFailed("no billing info");
      },
      report(1));
  store->write_async([](Tx& tx) { insert_event(tx, "after"); }, report(2));
  gate.open();

  CHECK_NOTHROW(finished[0].get_future().get());
  CHECK_THROWS_AS(finished[1].get_future().get(), JobFailed);
  CHECK_NOTHROW(finished[2].get_future().get());
  // The gate's own commit, then one commit for the three jobs queued behind it.
  CHECK(store->writer_stats().commits == commits_before + 2);
  CHECK(store->writer_stats().failed_jobs == 1);
  CHECK(count_events(*store, "object_id IN ('before', 'after')") == 2);
  CHECK(count_events(*store, "object_id LIKE 'doomed%'") == 0);
}

TEST_CASE("write() rethrows the job's own exception to its caller", "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  CHECK_THROWS_WITH(store->write([](Tx& tx) {
    insert_event(tx, "x");
    throw JobFailed("refused by plugin");
  }),
                    "refused by plugin");
  CHECK(count_events(*store) == 0);
  store->write([](Tx& tx) { insert_event(tx, "y"); });
  CHECK(count_events(*store) == 1);
}

TEST_CASE("a UNIQUE violation reaches the caller as ConstraintError and the writer goes on",
          "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  const auto add_tenant = [&](const std::string& id) {
    store->write([&](Tx& tx) {
      tx.exec("INSERT INTO tenants (id, name, created_at) VALUES (?, 'Contoso', 'now')", {id});
    });
  };
  add_tenant("t1");
  CHECK_THROWS_AS(add_tenant("t2"), ConstraintError);
  CHECK_THROWS_WITH(add_tenant("t2"), Catch::Matchers::Contains("UNIQUE") &&
                                          Catch::Matchers::Contains("INSERT INTO tenants"));
  store->write([](Tx& tx) { insert_event(tx, "still-writing"); });
  CHECK(count_events(*store) == 1);
}

TEST_CASE("done is called only once the commit is visible to a fresh connection",
          "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  constexpr int kJobs = 20;
  std::vector<int64_t> seen_in_done(kJobs, -1);
  std::vector<std::promise<void>> finished(kJobs);
  {
    WriterGate gate(*store);  // so the jobs share one group and done runs after its commit
    for (int i = 0; i < kJobs; ++i) {
      const std::string id = "visible-" + std::to_string(i);
      store->write_async([id](Tx& tx) { insert_event(tx, id); },
                         [&, i, id](const std::exception_ptr&) {
                           seen_in_done[i] = count_with_fresh_connection(db_path(dir), id);
                           finished[i].set_value();
                         });
    }
    gate.open();
  }
  for (auto& f : finished) f.get_future().wait();
  for (int i = 0; i < kJobs; ++i) {
    INFO("job " << i);
    CHECK(seen_in_done[i] == 1);
  }
}

TEST_CASE("max_group bounds the number of jobs in one commit", "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  StoreOptions options{db_path(dir)};
  options.max_group = 4;
  auto store = Store::open_sqlite(options, log);
  WriterGate gate(*store);
  const uint64_t commits_before = store->writer_stats().commits;
  std::promise<void> last;
  for (int i = 0; i < 10; ++i) {
    store->write_async([i](Tx& tx) { insert_event(tx, std::to_string(i)); },
                       [&, i](const std::exception_ptr&) {
                         if (i == 9) last.set_value();
                       });
  }
  gate.open();
  last.get_future().wait();
  // The gate's commit, then 4 + 4 + 2.
  CHECK(store->writer_stats().commits == commits_before + 1 + 3);
  CHECK(count_events(*store) == 10);
}

TEST_CASE("close() commits the queued writes and calls every done callback before returning",
          "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  constexpr int kQueued = 100;
  std::atomic<int> committed{0};
  std::atomic<int> failed{0};
  const auto count = [&](const std::exception_ptr& error) {
    if (error) {
      ++failed;
    } else {
      ++committed;
    }
  };

  WriterGate gate(*store);
  for (int i = 0; i < kQueued; ++i) {
    store->write_async([i](Tx& tx) { insert_event(tx, std::to_string(i)); }, count);
  }
  std::thread closer([&] { store->close(); });
  // Wait until close() has stopped taking writes; probes accepted before that are drained too.
  int accepted_probes = 0;
  for (;;) {
    auto refused = std::make_shared<std::promise<void>>();
    auto answer = refused->get_future();
    store->write_async([](Tx&) {},
                       [&committed, refused](const std::exception_ptr& error) {
                         if (error) {
                           refused->set_value();
                         } else {
                           ++committed;
                         }
                       });
    if (answer.wait_for(std::chrono::milliseconds(1)) == std::future_status::ready) break;
    ++accepted_probes;
  }
  gate.open();
  closer.join();

  CHECK(committed == kQueued + accepted_probes);
  CHECK(failed == 0);
  CHECK(count_events(*store) == kQueued);
}

TEST_CASE("writes after close fail cleanly with 'store is closed'", "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  store->close();
  store->close();  // idempotent
  std::exception_ptr refused;
  store->write_async([](Tx& tx) { insert_event(tx, "late"); },
                     [&](const std::exception_ptr& error) { refused = error; });
  REQUIRE(refused != nullptr);
  CHECK_THROWS_WITH(std::rethrow_exception(refused), "store is closed");
  CHECK_THROWS_AS(store->write([](Tx& tx) { insert_event(tx, "late"); }), StoreError);
  CHECK(count_events(*store) == 0);  // reads still work after close
}

TEST_CASE(
    "write() or close() on the writer thread - from a job or a done callback - throws logic_error",
    "[store][writer]") {
  TempDir dir;
  Logger log(LogLevel::error);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  CHECK_THROWS_AS(store->write([&](Tx&) { store->write([](Tx&) {}); }), std::logic_error);

  std::promise<std::exception_ptr> from_done;
  store->write_async([](Tx&) {},
                     [&](const std::exception_ptr&) {
                       try {
                         store->write([](Tx&) {});
                         from_done.set_value(nullptr);
                       } catch (...) {
                         from_done.set_value(std::current_exception());
                       }
                     });
  const auto error = from_done.get_future().get();
  REQUIRE(error != nullptr);
  CHECK_THROWS_AS(std::rethrow_exception(error), std::logic_error);
  // close() there could never join the thread it runs on.
  CHECK_THROWS_AS(store->write([&](Tx&) { store->close(); }), std::logic_error);
  // The writer survived both and still commits.
  store->write([](Tx& tx) { insert_event(tx, "after-misuse"); });
  CHECK(count_events(*store) == 1);
}

TEST_CASE("a done callback that throws stops neither the writer nor the other callbacks",
          "[store][writer]") {
  TempDir dir;
  std::FILE* log_file = std::tmpfile();
  REQUIRE(log_file != nullptr);
  Logger log(LogLevel::error, log_file);
  auto store = Store::open_sqlite(StoreOptions{db_path(dir)}, log);
  std::promise<void> second;
  {
    WriterGate gate(*store);
    store->write_async([](Tx& tx) { insert_event(tx, "a"); },
                       [](const std::exception_ptr&) { throw std::runtime_error("callback bug"); });
    store->write_async([](Tx& tx) { insert_event(tx, "b"); },
                       [&](const std::exception_ptr&) { second.set_value(); });
    gate.open();
  }
  second.get_future().wait();
  store->write([](Tx& tx) { insert_event(tx, "c"); });
  CHECK(count_events(*store) == 3);

  std::rewind(log_file);
  std::string logged(4096, '\0');
  logged.resize(std::fread(logged.data(), 1, logged.size(), log_file));
  std::fclose(log_file);
  CHECK_THAT(logged, Catch::Matchers::Contains("callback bug"));
}
