// The SQLite store: one read connection per calling thread and one writer thread that commits
// queued writes in groups, so many requests share one durable WAL sync.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"

namespace psahost::store {

namespace {

// A writer from another process (a CLI command, a second host) holds the lock for one commit at
// a time; five seconds is far beyond any healthy commit and short enough to surface a stuck one.
constexpr int kBusyTimeoutMs = 5000;
// Statements built from fixed SQL text are few; a caller that formats values into SQL would
// otherwise grow the cache without bound, so past this size statements are not kept.
constexpr std::size_t kMaxCachedStatements = 256;
constexpr std::size_t kSqlInErrors = 200;

std::string sql_excerpt(std::string_view sql) {
  std::string out(sql.substr(0, kSqlInErrors));
  if (sql.size() > kSqlInErrors) out += "...";
  return out;
}

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view sql) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (sqlite code " + std::to_string(rc) + ")";
  if (!sql.empty()) message += " in: " + sql_excerpt(sql);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) throw ConstraintError(message);
  throw StoreError(message);
}

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

// A new exception of the same store type and message, so each job of a failed group owns its own.
std::exception_ptr copy_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ConstraintError& e) {
    return std::make_exception_ptr(ConstraintError(e.what()));
  } catch (const StoreError& e) {
    return std::make_exception_ptr(StoreError(e.what()));
  } catch (const std::exception& e) {
    return std::make_exception_ptr(StoreError(e.what()));
  } catch (...) {
    return std::make_exception_ptr(StoreError("group commit failed"));
  }
}

std::string utc_now_rfc3339() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&now, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

Json::Value log_fields(std::initializer_list<std::pair<const char*, Json::Value>> entries) {
  Json::Value out(Json::objectValue);
  for (const auto& [name, value] : entries) out[name] = value;
  return out;
}

struct SqlHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One statement borrowed from a connection; reset and unbound when the borrow ends, so a
// failed or abandoned statement never leaks its bindings or an open read into the next use.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, bool* in_use) : stmt_(stmt), in_use_(in_use) {}
  Statement(Statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), in_use_(other.in_use_) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (in_use_ != nullptr) {
      *in_use_ = false;
    } else {
      sqlite3_finalize(stmt_);
    }
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache's flag, or null for a statement this borrow owns
};

// One sqlite3 handle and its statement cache. Used by one thread at a time.
class Connection {
 public:
  Connection(const std::filesystem::path& path, int flags) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = "cannot open database at " + path.string() + ": " +
                            (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
      sqlite3_close_v2(db_);
      throw StoreError(message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    try {
      // Both are per connection: foreign keys are off by default, and FULL makes every commit
      // sync the WAL, which is what lets a caller answer 2xx once its write is done.
      exec_script("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;");
    } catch (...) {
      sqlite3_close_v2(db_);
      throw;
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
    sqlite3_close_v2(db_);
  }

  sqlite3* handle() const { return db_; }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

  // SQL holding several statements and no parameters: pragmas and migrations.
  void exec_script(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      message += " (sqlite code " + std::to_string(rc) + ") in: " + sql_excerpt(sql);
      if ((rc & 0xff) == SQLITE_CONSTRAINT) throw ConstraintError(message);
      throw StoreError(message);
    }
  }

  // Hands out the cached statement for this text, or a private one when the cached one is
  // already running (a query issued from inside each() with the same SQL).
  Statement prepare(std::string_view sql) {
    auto found = cache_.find(sql);
    if (found != cache_.end() && !found->second.in_use) {
      found->second.in_use = true;
      return Statement(found->second.stmt, &found->second.in_use);
    }
    const bool keep = found == cache_.end() && cache_.size() < kMaxCachedStatements;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) throw_sqlite(db_, rc, sql);
    if (stmt == nullptr) throw StoreError("no SQL statement in: " + sql_excerpt(sql));
    const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      // Only the first statement would run; silently dropping the rest hides bugs.
      throw StoreError("one statement per call, but got more in: " + sql_excerpt(sql));
    }
    if (!keep) return Statement(stmt, nullptr);
    auto [slot, inserted] = cache_.emplace(std::string(sql), Cached{stmt, true});
    return Statement(slot->second.stmt, &slot->second.in_use);
  }

  // Ends the open transaction if any, keeping the first error (the one the caller reports).
  void rollback_quietly() {
    if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  bool in_read = false;  // inside read(): a nested read() joins the open transaction

 private:
  struct Cached {
    sqlite3_stmt* stmt;
    bool in_use;
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, Cached, SqlHash, std::equal_to<>> cache_;
};

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(Connection& connection) : connection_(connection) {}

  int64_t exec(std::string_view sql, const std::vector<Value>& params = {}) override {
    sqlite3* db = connection_.handle();
    const int64_t total_before = sqlite3_total_changes64(db);
    Statement statement = start(sql, params);
    while (step(statement, sql)) {
    }
    // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, even after a later
    // SELECT or DDL statement; only trust it when this statement changed something.
    if (sqlite3_total_changes64(db) == total_before) return 0;
    return sqlite3_changes64(db);
  }

  std::vector<Row> query(std::string_view sql, const std::vector<Value>& params = {}) override {
    Statement statement = start(sql, params);
    std::vector<Row> rows;
    while (step(statement, sql)) rows.push_back(read_row(statement, sql));
    return rows;
  }

  std::optional<Row> query_one(std::string_view sql,
                               const std::vector<Value>& params = {}) override {
    Statement statement = start(sql, params);
    if (!step(statement, sql)) return std::nullopt;
    return read_row(statement, sql);
  }

  void each(std::string_view sql, const std::vector<Value>& params,
            const std::function<void(const Row&)>& on_row) override {
    Statement statement = start(sql, params);
    while (step(statement, sql)) on_row(read_row(statement, sql));
  }

  int64_t last_insert_id() override { return sqlite3_last_insert_rowid(connection_.handle()); }

 private:
  Statement start(std::string_view sql, const std::vector<Value>& params) {
    Statement statement = connection_.prepare(sql);
    sqlite3_stmt* stmt = statement.get();
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<std::size_t>(expected) != params.size()) {
      throw StoreError("statement takes " + std::to_string(expected) + " parameters but got " +
                       std::to_string(params.size()) + ": " + sql_excerpt(sql));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const Value& value = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<int64_t>(&value)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* s = std::get_if<std::string>(&value)) {
        // Explicit length: text may hold NUL bytes and must come back byte for byte.
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) throw_sqlite(connection_.handle(), rc, sql);
    }
    return statement;
  }

  // True while there is a row to read.
  bool step(Statement& statement, std::string_view sql) {
    const int rc = sqlite3_step(statement.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_sqlite(connection_.handle(), rc, sql);
  }

  static Row read_row(Statement& statement, std::string_view sql) {
    sqlite3_stmt* stmt = statement.get();
    const int count = sqlite3_column_count(stmt);
    std::vector<Value> columns;
    columns.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
          columns.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
          break;
        case SQLITE_NULL:
          columns.emplace_back(nullptr);
          break;
        case SQLITE_TEXT: {
          // The pointer first, then the length, as SQLite documents for a stable answer.
          const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
          const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
          columns.emplace_back(data != nullptr ? std::string(data, size) : std::string());
          break;
        }
        case SQLITE_BLOB: {
          const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, i));
          const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
          columns.emplace_back(data != nullptr ? std::string(data, size) : std::string());
          break;
        }
        default:
          // Money and counts are integers; a REAL here is a schema or query mistake.
          throw StoreError(
              "column " + std::to_string(i) + " (" + sqlite3_column_name(stmt, i) +
              ") holds a floating point value, which the store never reads: " + sql_excerpt(sql));
      }
    }
    return Row(std::move(columns));
  }

  Connection& connection_;
};

int applied_version(Tx& tx) {
  if (!tx.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    {std::string("schema_migrations")})) {
    return 0;
  }
  const auto row = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return static_cast<int>(row->integer(0));
}

void check_migration_list() {
  const auto& all = migrations();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].version != static_cast<int>(i) + 1) {
      throw std::logic_error("migration list is not 1..N without gaps at position " +
                             std::to_string(i));
    }
  }
}

// Before the writer opens the file: a database that exists but is empty is refused (a truncated
// or replaced file would otherwise become a fresh database, every record gone, the host looking
// healthy), a new one is created readable by the owner alone, and an existing one and its WAL
// files are made so (SQLite gives the WAL files the database file's mode).
void prepare_database_file(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (fs::exists(status)) {
    if (fs::is_regular_file(status) && fs::file_size(path, ec) == 0 && !ec) {
      throw StoreError("the database at " + path.string() +
                       " is empty (0 bytes): it was truncated or replaced, and opening it would "
                       "start a new database with none of the old records. Restore it from a "
                       "backup, or delete the file to start afresh on purpose.");
    }
  } else {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      throw StoreError("cannot create the database at " + path.string() + ": " +
                       std::strerror(errno));
    }
    if (fd >= 0) ::close(fd);
  }
  const auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path file = path.string() + suffix;
    if (fs::exists(file, ec)) fs::permissions(file, owner_only, fs::perm_options::replace, ec);
  }
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const StoreOptions& options, Logger& log, Metrics* metrics)
      : path_(options.path),
        max_group_(std::max<std::size_t>(1, options.max_group)),
        read_only_(options.read_only),
        log_(log),
        metrics_(metrics) {
    check_migration_list();
    if (read_only_) {
      closed_ = true;
      auto connection = std::make_unique<Connection>(path_, SQLITE_OPEN_READONLY);
      SqliteTx tx(*connection);
      const int version = refuse_newer_schema(tx);
      if (version < known_schema_version()) {
        log_.warn("store opened read-only below the current schema; migrations not applied",
                  log_fields({{"path", path_.string()},
                              {"schema_version", version},
                              {"known_schema_version", known_schema_version()}}));
      }
      readers_.emplace(std::this_thread::get_id(), std::move(connection));
      return;
    }
    prepare_database_file(path_);
    writer_connection_ =
        std::make_unique<Connection>(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    SqliteTx tx(*writer_connection_);
    // Checked before anything writes to the file (WAL switch included), so a database made by
    // a newer psahost is left exactly as it was.
    const int version = refuse_newer_schema(tx);
    const auto mode = tx.query_one("PRAGMA journal_mode = WAL");
    if (!mode || mode->text(0) != "wal") {
      throw StoreError("cannot switch database at " + path_.string() + " to WAL (journal mode " +
                       (mode ? mode->text(0) : std::string("unknown")) + ")");
    }
    migrate(tx, version);
    // Checkpoints move to their own thread and connection: inline, each one would stall every
    // writer behind it while it copies pages into the database and syncs the file. The hook
    // replaces SQLite's automatic checkpoint; a WAL far past the mark is checkpointed inline
    // anyway, so it cannot grow without bound if the checkpointer falls behind.
    sqlite3_wal_hook(writer_connection_->handle(), &SqliteStore::on_wal_commit, this);
    checkpointer_connection_ = std::make_unique<Connection>(path_, SQLITE_OPEN_READWRITE);
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
    writer_ = std::thread([this] { writer_loop(); });
  }

  ~SqliteStore() override {
    close();
    // Readers first: only a read-write connection closing last checkpoints and removes the WAL,
    // which leaves a clean single file behind after a normal shutdown.
    readers_.clear();
    writer_connection_.reset();
  }

  int schema_version() override {
    int version = 0;
    read([&](Tx& tx) { version = applied_version(tx); });
    return version;
  }

  void read(const std::function<void(Tx&)>& fn) override {
    Connection& connection = reader();
    SqliteTx tx(connection);
    if (connection.in_read) {
      fn(tx);
      return;
    }
    tx.exec("BEGIN DEFERRED");
    connection.in_read = true;
    try {
      fn(tx);
    } catch (...) {
      connection.in_read = false;
      connection.rollback_quietly();
      throw;
    }
    connection.in_read = false;
    try {
      tx.exec("COMMIT");
    } catch (...) {
      connection.rollback_quietly();
      throw;
    }
  }

  void write_async(std::function<void(Tx&)> fn,
                   std::function<void(std::exception_ptr)> done) override {
    {
      std::unique_lock lock(queue_mutex_);
      if (!closed_) {
        queue_.push_back(Job{std::move(fn), std::move(done)});
        lock.unlock();
        queue_ready_.notify_one();
        return;
      }
    }
    if (done) {
      done(std::make_exception_ptr(
          StoreError(read_only_ ? "store at " + path_.string() + " is open read-only"
                                : std::string("store is closed"))));
    }
  }

  void write(std::function<void(Tx&)> fn) override {
    if (std::this_thread::get_id() == writer_id_.load()) {
      throw std::logic_error(
          "Store::write called on the store's writer thread (from a write job or a done "
          "callback): it would wait for itself forever; use write_async there");
    }
    // Not a std::promise: its shared state may be freed last on the writer thread, which then
    // frees the caller's exception too. Taking the exception out under the lock leaves the
    // caller as its only owner (and keeps ThreadSanitizer, blind to libstdc++'s exception
    // refcount, from reporting a race).
    struct Outcome {
      std::mutex mutex;
      std::condition_variable ready;
      bool done = false;
      std::exception_ptr error;
    };
    auto outcome = std::make_shared<Outcome>();
    write_async(std::move(fn), [outcome](std::exception_ptr error) {
      std::lock_guard lock(outcome->mutex);
      outcome->error = std::move(error);
      outcome->done = true;
      outcome->ready.notify_one();
    });
    std::exception_ptr error;
    {
      std::unique_lock lock(outcome->mutex);
      outcome->ready.wait(lock, [&] { return outcome->done; });
      error = std::move(outcome->error);
    }
    if (error) std::rethrow_exception(error);
  }

  WriterStats writer_stats() const override {
    WriterStats stats;
    stats.commits = commits_.load();
    stats.jobs = jobs_.load();
    stats.failed_jobs = failed_jobs_.load();
    return stats;
  }

  void close() override {
    if (std::this_thread::get_id() == writer_id_.load()) {
      throw std::logic_error(
          "Store::close called on the store's writer thread: it cannot join "
          "itself");
    }
    {
      std::lock_guard lock(queue_mutex_);
      closed_ = true;
    }
    queue_ready_.notify_all();
    std::lock_guard lock(join_mutex_);
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard checkpoint_lock(checkpoint_mutex_);
      checkpoint_stop_ = true;
    }
    checkpoint_wanted_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    checkpointer_connection_.reset();
  }

 private:
  struct Job {
    std::function<void(Tx&)> fn;
    std::function<void(std::exception_ptr)> done;
  };

  int refuse_newer_schema(Tx& tx) {
    const int version = applied_version(tx);
    if (version > known_schema_version()) {
      throw StoreError("database at " + path_.string() + " has schema version " +
                       std::to_string(version) + " but this psahost knows up to " +
                       std::to_string(known_schema_version()) +
                       "; upgrade psahost or use the matching data directory");
    }
    return version;
  }

  void migrate(SqliteTx& tx, int version) {
    writer_connection_->exec_script(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT");
    for (const Migration& migration : migrations()) {
      if (migration.version <= version) continue;
      try {
        tx.exec("BEGIN IMMEDIATE");
        // Another process may have applied it between our check and taking the write lock.
        if (tx.query_one("SELECT 1 FROM schema_migrations WHERE version = ?",
                         {int64_t{migration.version}})) {
          tx.exec("COMMIT");
          continue;
        }
        writer_connection_->exec_script(migration.sql);
        tx.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                {int64_t{migration.version}, migration.name, utc_now_rfc3339()});
        tx.exec("COMMIT");
      } catch (const std::exception& e) {
        writer_connection_->rollback_quietly();
        throw StoreError("migration " + std::to_string(migration.version) + " (" + migration.name +
                         ") failed on " + path_.string() + ": " + e.what());
      }
      log_.info("applied schema migration", log_fields({{"path", path_.string()},
                                                        {"version", migration.version},
                                                        {"name", migration.name}}));
    }
  }

  Connection& reader() {
    std::lock_guard lock(readers_mutex_);
    auto& slot = readers_[std::this_thread::get_id()];
    // Read-only handles: a write attempted inside read() fails instead of racing the writer.
    if (!slot) slot = std::make_unique<Connection>(path_, SQLITE_OPEN_READONLY);
    return *slot;
  }

  // WAL pages after which the checkpointer is asked to run, and after which the writer does it
  // itself.
  static constexpr int kCheckpointPages = 1000;
  static constexpr int kInlineCheckpointPages = 64 * 1000;

  static int on_wal_commit(void* self, sqlite3* db, const char*, int pages) {
    auto* store = static_cast<SqliteStore*>(self);
    if (pages >= kInlineCheckpointPages) {
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= kCheckpointPages) {
      {
        std::lock_guard lock(store->checkpoint_mutex_);
        store->checkpoint_requested_ = true;
      }
      store->checkpoint_wanted_.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpoint_loop() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mutex_);
        checkpoint_wanted_.wait(lock, [this] { return checkpoint_requested_ || checkpoint_stop_; });
        if (checkpoint_stop_) return;
        checkpoint_requested_ = false;
      }
      // PASSIVE takes no lock that writers wait for: it copies what readers no longer need.
      int log = 0, done = 0;
      const int rc = sqlite3_wal_checkpoint_v2(checkpointer_connection_->handle(), nullptr,
                                               SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        log_.warn("WAL checkpoint failed; the next commit asks again",
                  log_fields({{"path", path_.string()},
                              {"error", sqlite3_errmsg(checkpointer_connection_->handle())}}));
      }
    }
  }

  void writer_loop() {
    writer_id_.store(std::this_thread::get_id());
    std::vector<Job> group;
    for (;;) {
      {
        std::unique_lock lock(queue_mutex_);
        queue_ready_.wait(lock, [this] { return !queue_.empty() || closed_; });
        if (queue_.empty()) {
          // Closed and drained. Forget our id: the OS may hand it to a new thread later.
          writer_id_.store(std::thread::id{});
          return;
        }
        // No timer: whatever waited during the previous commit forms the next group.
        const auto take = static_cast<std::ptrdiff_t>(std::min(queue_.size(), max_group_));
        group.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.begin() + take));
        queue_.erase(queue_.begin(), queue_.begin() + take);
      }
      commit_group(group);
      group.clear();
    }
  }

  void commit_group(std::vector<Job>& group) {
    Connection& connection = *writer_connection_;
    SqliteTx tx(connection);
    std::vector<std::exception_ptr> results(group.size());
    std::exception_ptr group_error;
    const auto started = std::chrono::steady_clock::now();
    try {
      tx.exec("BEGIN IMMEDIATE");
      for (std::size_t i = 0; i < group.size(); ++i) {
        tx.exec("SAVEPOINT job");
        try {
          group[i].fn(tx);
        } catch (...) {
          results[i] = std::current_exception();
        }
        if (!results[i]) {
          tx.exec("RELEASE job");
          continue;
        }
        if (!connection.in_transaction()) {
          // Some errors (disk full, I/O) make SQLite roll back the whole transaction, taking
          // the jobs before this one with it: none of the group can be reported as committed.
          throw StoreError("group transaction rolled back by SQLite after a job failed: " +
                           describe(results[i]));
        }
        tx.exec("ROLLBACK TO job");
        tx.exec("RELEASE job");
      }
      tx.exec("COMMIT");
    } catch (...) {
      group_error = std::current_exception();
      connection.rollback_quietly();
      log_.error("group commit failed", log_fields({{"path", path_.string()},
                                                    {"jobs", Json::UInt64{group.size()}},
                                                    {"error", describe(group_error)}}));
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;

    uint64_t ok = 0;
    for (auto& result : results) {
      // One exception object per job: callers on different threads never share one.
      if (group_error) result = copy_of(group_error);
      if (!result) ++ok;
    }
    group_error = nullptr;
    // Counters first, so a caller woken by its done callback already sees its job counted.
    if (!group_error) {
      commits_.fetch_add(1);
      if (metrics_ != nullptr) metrics_->observe_commit(took.count(), group.size());
    }
    jobs_.fetch_add(ok);
    failed_jobs_.fetch_add(group.size() - ok);

    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!group[i].done) {
        if (results[i]) {
          log_.warn("write job failed and has no done callback to report to",
                    log_fields({{"error", describe(results[i])}}));
        }
        continue;
      }
      try {
        // Moved, not copied: the writer keeps no reference to an exception it handed over.
        const auto done = std::move(group[i].done);
        done(std::move(results[i]));
      } catch (...) {
        // A callback's failure must not stop the writer or keep later callbacks from running.
        log_.error("write done callback threw",
                   log_fields({{"error", describe(std::current_exception())}}));
      }
    }
  }

  const std::filesystem::path path_;
  const std::size_t max_group_;
  const bool read_only_;
  Logger& log_;
  Metrics* const metrics_;

  std::mutex readers_mutex_;
  std::unordered_map<std::thread::id, std::unique_ptr<Connection>> readers_;

  std::unique_ptr<Connection> writer_connection_;  // used only by the writer thread once started
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Job> queue_;
  bool closed_ = false;

  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> jobs_{0};
  std::atomic<uint64_t> failed_jobs_{0};

  std::atomic<std::thread::id> writer_id_{};
  std::mutex join_mutex_;
  std::thread writer_;

  std::unique_ptr<Connection> checkpointer_connection_;  // the checkpointer thread's only
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_requested_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
};

}  // namespace

std::unique_ptr<Store> Store::open_sqlite(const StoreOptions& options, Logger& log,
                                          Metrics* metrics) {
  return std::make_unique<SqliteStore>(options, log, metrics);
}

int Store::known_schema_version() {
  return migrations().back().version;
}

}  // namespace psahost::store
