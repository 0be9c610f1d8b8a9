#include "support/sqlite_file.hpp"

#include <stdexcept>

namespace psahost::test {

SqliteFile::SqliteFile(const std::filesystem::path& database) {
  if (sqlite3_open_v2(database.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + database.string());
  }
  sqlite3_busy_timeout(db_, 10'000);
}

SqliteFile::~SqliteFile() {
  sqlite3_close(db_);
}

std::vector<std::string> SqliteFile::column(const std::string& sql,
                                            const std::vector<std::string>& params) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sqlite3_errmsg(db_));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  std::vector<std::string> out;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    out.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
  }
  if (rc != SQLITE_DONE) {
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    throw std::runtime_error(message);
  }
  sqlite3_finalize(stmt);
  return out;
}

std::string SqliteFile::run(const std::string& sql, const std::vector<std::string>& params) {
  const auto rows = column(sql, params);
  return rows.empty() ? "" : rows.front();
}

int64_t SqliteFile::count(const std::string& sql, const std::vector<std::string>& params) {
  return std::stoll(run(sql, params));
}

void SqliteFile::script(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "sqlite3_exec failed";
    sqlite3_free(error);
    throw std::runtime_error(message);
  }
}

}  // namespace psahost::test
