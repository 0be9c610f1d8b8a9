// Nothing is lost: the host is killed with SIGKILL while webhooks are being posted and
// deliveries are pending; after a restart every inbound request that was answered 2xx is in the
// inbox exactly once, and every outbound message reaches the receiver at least once (once, for a
// receiver that deduplicates by webhook-id).
#include "support/api_session.hpp"
#include "support/receiver.hpp"
#include "support/wait.hpp"
#include "support/webhooks.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace psahost::test;
using psahost::http::Response;

namespace {

// The webhook-ids of the events of a type, read from the host's database file.
std::set<std::string> event_ids(const std::filesystem::path& data_dir, const std::string& type) {
  sqlite3* db = nullptr;
  std::set<std::string> ids;
  REQUIRE(sqlite3_open_v2((data_dir / "psahost.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT seq FROM events WHERE type = ?", -1, &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, type.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    ids.insert("evt_" + std::to_string(sqlite3_column_int64(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ids;
}

// Every inbox entry, all pages.
Json::Value all_inbox(ApiSession& api) {
  Json::Value all(Json::arrayValue);
  std::string after;
  for (;;) {
    const auto r = api.get("/v1/inbox?limit=1000" + (after.empty() ? "" : "&after=" + after));
    REQUIRE(r.status == 200);
    const auto page = r.json()["items"];
    for (const auto& e : page) all.append(e);
    if (page.size() < 1000) return all;
    after = page[page.size() - 1]["id"].asString();
  }
}

}  // namespace

TEST_CASE("SIGKILL while webhooks arrive and deliveries are pending loses nothing",
          "[webhooks][delivery][crash]") {
  // A receiver that is a little slow, so deliveries are still pending when the host dies.
  Receiver receiver([](const Received&) -> std::optional<Response> {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return Response::text(200, "ok");
  });
  TempDir plugins;
  const auto plugin_dirs = plugin_args(plugins.path(), {});
  std::vector<std::string> args = plugin_dirs;
  args.insert(args.end(), {"--outbound-ca", receiver.ca_file().string(),
                           "--delivery-retry-schedule", "0.05,0.1,0.2,0.4,0.8"});
  ApiSession api(args);
  add_connection(api.server().data_dir(), "standard-webhooks", "sw", kWebhookSecret, plugin_dirs);
  REQUIRE(api.post("/v1/webhook-endpoints", R"({"url":")" + receiver.url("/hook") +
                                                R"(","event_types":["client.upserted"],
                                                "max_in_flight":2})")
              .status == 201);

  constexpr int kSenders = 4;
  constexpr int kEach = 250;
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> acked{0};
  std::vector<std::thread> senders;
  const uint16_t port = api.server().port();
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&, t] {
      try {
        HttpsClient client(port);
        for (int i = 0; i < kEach; ++i) {
          const std::string id = "msg-" + std::to_string(t) + "-" + std::to_string(i);
          const std::string body = R"({"type":"client.upsert","data":{"ref":{"external_id":")" +
                                   id + R"("},"name":"Client )" + id + R"("}})";
          const auto r = client.post(
              "/webhooks/sw", body, standard_webhook_headers(kWebhookSecret, id, unix_now(), body));
          if (r.status == 200) {
            std::lock_guard lock(mutex);
            acknowledged.insert(id);
            ++acked;
          }
        }
      } catch (const std::exception&) {
        // The host died under us: whatever was not answered does not count as received.
      }
    });
  }
  REQUIRE(eventually([&] { return acked.load() >= 300; }, std::chrono::seconds(60)));
  api.server().kill_hard();
  for (auto& s : senders) s.join();
  const std::size_t deliveries_before = receiver.count();
  INFO("acknowledged " << acknowledged.size() << ", delivered before the kill "
                       << deliveries_before);

  api.restart_after_crash();
  // The inbox drains and the outbox catches up on its own.
  Json::Value inbox;
  REQUIRE(eventually(
      [&] {
        inbox = all_inbox(api);
        if (inbox.size() < acknowledged.size()) return false;
        for (const auto& e : inbox) {
          if (e["status"].asString() != "processed") return false;
        }
        return true;
      },
      std::chrono::seconds(90)));

  std::map<std::string, int> stored;
  for (const auto& e : inbox) ++stored[e["dedupe_key"].asString().substr(3)];  // "id:"
  for (const auto& id : acknowledged) {
    INFO(id);
    CHECK(stored.count(id) == 1);
  }
  for (const auto& [id, n] : stored) CHECK(n == 1);

  // Each stored event made one client (a re-run after the crash found the one it had made).
  const auto clients = api.get("/v1/clients?limit=1000").json()["items"];
  CHECK(clients.size() == stored.size());

  // Every client.upserted event in the log reached the receiver; deduplicating by webhook-id,
  // it sees each once.
  const auto expected = event_ids(api.server().data_dir(), "client.upserted");
  CHECK(expected.size() >= clients.size());
  const auto missing = [&] {
    std::set<std::string> got;
    for (const auto& r : receiver.received()) got.insert(r.header("webhook-id"));
    std::size_t n = 0;
    for (const auto& id : expected) n += got.count(id) ? 0 : 1;
    return n;
  };
  const bool all_delivered = eventually([&] { return missing() == 0; }, std::chrono::seconds(90));
  INFO("events " << expected.size() << ", not received " << missing());
  REQUIRE(all_delivered);
  CHECK(receiver.count() >= expected.size());
}
