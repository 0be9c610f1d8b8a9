// The host's one store interface: reads on the caller's thread, durable writes through one
// writer that commits in groups. SQLite (WAL) is the embedded store; the schema and the
// migration list are shared by every backend.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace psahost {
class Logger;
class Metrics;
}  // namespace psahost

namespace psahost::store {

// A bound parameter or a column value. Money and counts are integers; text is UTF-8 or bytes.
using Value = std::variant<std::nullptr_t, int64_t, std::string>;

// Something went wrong in the database itself (I/O, corruption, a broken statement).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A unique or foreign key refused the write: the caller usually turns this into a 409.
class ConstraintError : public StoreError {
 public:
  using StoreError::StoreError;
};

// One result row; columns by position as in the SELECT.
class Row {
 public:
  explicit Row(std::vector<Value> columns) : columns_(std::move(columns)) {}
  bool is_null(std::size_t i) const {
    return std::holds_alternative<std::nullptr_t>(columns_.at(i));
  }
  int64_t integer(std::size_t i) const;   // NULL reads as 0
  std::string text(std::size_t i) const;  // NULL reads as ""; integers are formatted
  std::optional<std::string> optional_text(std::size_t i) const;
  std::size_t size() const { return columns_.size(); }
  const Value& at(std::size_t i) const { return columns_.at(i); }

 private:
  std::vector<Value> columns_;
};

// A transaction (or, inside a group commit, one caller's savepoint). SQL uses '?' placeholders.
// Statements are prepared once per connection and cached by their text.
class Tx {
 public:
  virtual ~Tx() = default;
  // Runs a statement; returns the number of rows it changed.
  virtual int64_t exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  virtual std::vector<Row> query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  virtual std::optional<Row> query_one(std::string_view sql,
                                       const std::vector<Value>& params = {}) = 0;
  // Calls on_row for each row without materialising the result (large scans).
  virtual void each(std::string_view sql, const std::vector<Value>& params,
                    const std::function<void(const Row&)>& on_row) = 0;
  virtual int64_t last_insert_id() = 0;
};

struct WriterStats {
  uint64_t commits = 0;  // group commits made; each is one durable sync of the WAL
  uint64_t jobs = 0;     // write jobs committed
  uint64_t failed_jobs = 0;
};

struct StoreOptions {
  std::filesystem::path path;   // the database file; its folder must exist
  std::size_t max_group = 512;  // most jobs in one commit
  bool read_only = false;       // CLI inspection: never migrates, never writes
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating if missing) and migrates. Throws StoreError with a clear message when
  // the database's schema is newer than this binary knows.
  static std::unique_ptr<Store> open_sqlite(const StoreOptions& options, Logger& log,
                                            Metrics* metrics = nullptr);

  // Schema version the database is at, and the newest one this binary knows.
  virtual int schema_version() = 0;
  static int known_schema_version();

  // Runs fn in a read transaction on a connection owned by the calling thread.
  virtual void read(const std::function<void(Tx&)>& fn) = 0;

  // Queues fn for the writer thread. fn runs inside its own savepoint within a group
  // transaction; if it throws, only its savepoint is rolled back and done gets the
  // exception. done(nullptr) is called only after the group's commit is durable. done runs
  // on the writer thread: keep it short (post elsewhere for real work).
  virtual void write_async(std::function<void(Tx&)> fn,
                           std::function<void(std::exception_ptr)> done) = 0;

  // Queues fn and blocks until it is committed; rethrows what fn threw.
  virtual void write(std::function<void(Tx&)> fn) = 0;

  virtual WriterStats writer_stats() const = 0;

  // Stops taking writes, commits what is queued, and joins the writer thread. Idempotent.
  virtual void close() = 0;
};

}  // namespace psahost::store
