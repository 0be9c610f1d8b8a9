// The host's database file opened beside the running host (WAL lets them share it), for what
// the API does not offer: writing data in bulk as a sync would, and counting rows, events and
// audit entries a test expects.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

namespace psahost::test {

class SqliteFile {
 public:
  explicit SqliteFile(const std::filesystem::path& database);
  ~SqliteFile();
  SqliteFile(const SqliteFile&) = delete;
  SqliteFile& operator=(const SqliteFile&) = delete;

  // Runs one statement with text parameters; returns the first column of the first row ("" for
  // none). Throws std::runtime_error with SQLite's message on failure.
  std::string run(const std::string& sql, const std::vector<std::string>& params = {});
  // The same, read as a number.
  int64_t count(const std::string& sql, const std::vector<std::string>& params = {});
  // Every row's first column.
  std::vector<std::string> column(const std::string& sql,
                                  const std::vector<std::string>& params = {});
  // Runs statements that take no parameters (several, ';'-separated), e.g. inside BEGIN/COMMIT.
  void script(const std::string& sql);

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace psahost::test
