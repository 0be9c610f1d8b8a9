// Event delivery as the running host does it: plugins get the events they subscribe to after
// the commit, a plugin that was off catches up, and nothing is lost across a restart.
#include "support/api_session.hpp"
#include "support/wait.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <thread>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

// Reads the recorder plugin's key/value entry straight from the host's database file.
std::string recorder_kv(const fs::path& data_dir, const std::string& key) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2((data_dir / "psahost.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT value FROM plugin_kv WHERE plugin_id = 'recorder' AND key = ?",
                       -1, &stmt, nullptr);
    sqlite3_bind_text(stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

// One number from the host's database file: the first column of the first row of sql, or -1.
int64_t query_number(const fs::path& data_dir, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t value = -1;
  if (sqlite3_open_v2((data_dir / "psahost.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

// Whether the dispatcher has been through the whole event log with the billing gate, which
// stays on: every event up to the last one was offered to whichever plugins were on then.
bool dispatched_to_the_end(const fs::path& data_dir) {
  const int64_t last = query_number(data_dir, "SELECT max(seq) FROM events");
  const int64_t gate = query_number(
      data_dir, "SELECT last_seq FROM subscriber_cursors WHERE subscriber = 'plugin:billing-gate'");
  return last > 0 && gate >= last;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("usage an integration syncs for a client without billing info is held then released",
          "[events][billing-gate]") {
  ApiSession api;
  const std::string client = api.create_client("Wide World Importers", false);
  const std::string integration = create_token(api.server().data_dir(), "default", "integration");
  const auto synced = api.call_as(integration, "POST", "/v1/sales-items",
                                  R"({"client_id":")" + client +
                                      R"(","description":"Backup usage November","quantity":42,
      "unit_price":450,"currency":"EUR"})");
  INFO(synced.body);
  REQUIRE(synced.status == 201);
  const std::string id = synced.json()["id"].asString();
  CHECK(synced.json()["status"].asString() == "draft");
  CHECK(synced.json()["hold_reason"].asString() == "billing-info-required");

  // A person creating the same item is still refused.
  CHECK(api.post("/v1/sales-items", R"({"client_id":")" + client +
                                        R"(","description":"Router","quantity":1,"unit_price":1,
      "currency":"EUR"})")
            .status == 409);

  api.complete_billing(client);
  CHECK(eventually([&] {
    const auto item = api.get("/v1/sales-items/" + id).json();
    return item["status"].asString() == "approved" && item["hold_reason"].isNull();
  }));
}

TEST_CASE("events appended while a plugin was off host-wide are delivered after it is on again",
          "[events]") {
  TempDir plugins;
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "recorder", plugins.path());
  // A subscriber that stays on, whose cursor shows how far the dispatcher has come.
  copy_plugin(PSAHOST_PLUGIN_DIR, "billing-gate", plugins.path());
  ApiSession api({"--plugins-dir", plugins.path().string()});
  const fs::path data = api.server().data_dir();
  const std::string data_arg = "--data-dir=" + data.string();

  const std::string client = api.create_client("Trey Research", false);
  REQUIRE(eventually([&] { return !recorder_kv(data, "seen").empty(); }));
  const auto before = split(recorder_kv(data, "seen"));

  // The operator's switch is the CLI's and applies at the next start.
  REQUIRE(run_cli({"plugins", "disable", "recorder", data_arg}).exit_code == 0);
  api.restart();
  CHECK(api.get("/v1/plugins").body.find("\"disabled\"") != std::string::npos);
  // No tenant can switch on what the operator switched off.
  const auto refused = api.post("/v1/plugins/recorder/enable");
  CHECK(refused.status == 409);
  CHECK(refused.body.find("plugin-disabled-by-operator") != std::string::npos);
  api.create_ticket(client, "First while off");
  api.create_ticket(client, "Second while off");
  REQUIRE(eventually([&] { return dispatched_to_the_end(data); }));
  CHECK(split(recorder_kv(data, "seen")).size() == before.size());

  REQUIRE(run_cli({"plugins", "enable", "recorder", data_arg}).exit_code == 0);
  api.restart();
  REQUIRE(eventually([&] { return split(recorder_kv(data, "seen")).size() == before.size() + 2; }));
  const auto seen = split(recorder_kv(data, "seen"));
  // In order, and each event once.
  for (std::size_t i = 1; i < seen.size(); ++i)
    CHECK(std::stoll(seen[i - 1]) < std::stoll(seen[i]));
}

TEST_CASE("a plugin one tenant switched off acts for that tenant no longer and for others still",
          "[events]") {
  TempDir plugins;
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "recorder", plugins.path());
  ApiSession api({"--plugins-dir", plugins.path().string()});
  const fs::path data = api.server().data_dir();
  const std::string other = create_token(data, "other-partner", "admin");

  const std::string client = api.create_client("Trey Research", false);
  REQUIRE(eventually([&] { return !recorder_kv(data, "seen").empty(); }));
  REQUIRE(api.post("/v1/plugins/recorder/disable").status == 200);
  const auto before = split(recorder_kv(data, "seen"));
  api.create_ticket(client, "While switched off here");
  // The other tenant's event comes after, so once it is seen the first one was passed over.
  REQUIRE(
      api.call_as(other, "POST", "/v1/clients", R"({"name":"Other","type":"customer"})").status ==
      201);
  REQUIRE(eventually([&] { return split(recorder_kv(data, "seen")).size() == before.size() + 1; }));
  CHECK(api.get("/v1/plugins").body.find("\"enabled_for_tenant\":false") != std::string::npos);
  CHECK(api.call_as(other, "GET", "/v1/plugins", "").body.find("\"enabled_for_tenant\":true") !=
        std::string::npos);
}
