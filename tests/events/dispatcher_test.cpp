// Tests of event delivery to plugins through the real recorder plugin and a real SQLite file:
// order, cursors that survive a restart, retries, parking and replay, disabled plugins, filters.
#include <json/reader.h>
#include <json/writer.h>

#include "support/process.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "events/dispatcher.hpp"
#include "events/event_log.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using psahost::Logger;
using psahost::LogLevel;
using psahost::events::Dispatcher;
using psahost::events::DispatcherOptions;
using psahost::events::SubscriberStatus;
using psahost::plugins::HostCalls;
using psahost::plugins::PluginEnv;
using psahost::plugins::PluginRegistry;
using psahost::plugins::RegistryOptions;
using psahost::store::Store;
using psahost::store::StoreOptions;
using psahost::store::Tx;

namespace {

constexpr auto kPatience = 20s;  // only ever waited out when a test is about to fail

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() /
            ("psahost-test-" + std::to_string(random()) + std::to_string(random()));
    fs::create_directories(path_);
    fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

fs::path built_recorder() {
  return fs::path(PSAHOST_TEST_PLUGIN_DIR) / "recorder.json";
}

// What one host run owns: the store on a file in dir and a registry that loaded the recorder
// with config as the partner's settings. Destroy the dispatcher first, as the host does.
class Host {
 public:
  explicit Host(const fs::path& dir, const std::string& config = "{}",
                const fs::path& manifest = built_recorder())
      : log_(LogLevel::error) {
    store_ = Store::open_sqlite(StoreOptions{dir / "psahost.db"}, log_);
    store_->write([&](Tx& tx) {
      tx.exec(
          "INSERT INTO plugin_settings (plugin_id, enabled, config, updated_at) VALUES "
          "('recorder', 1, ?, '2025-01-01T00:00:00.000Z') ON CONFLICT (plugin_id) DO UPDATE SET "
          "config = excluded.config",
          {config});
    });
    registry_ = std::make_unique<PluginRegistry>(RegistryOptions{dir / "plugin-cache", false, {}},
                                                 PluginEnv{calls_, store_.get(), log_, nullptr});
    REQUIRE(registry_->load(manifest));
  }
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  ~Host() {
    registry_.reset();
    store_->close();
  }

  Store& store() { return *store_; }
  PluginRegistry& registry() { return *registry_; }
  Logger& log() { return log_; }

  std::vector<int64_t> append(const std::vector<std::string>& types,
                              const Json::Value& payload = Json::objectValue) {
    std::vector<int64_t> seqs;
    store_->write([&](Tx& tx) {
      for (const auto& type : types) {
        seqs.push_back(psahost::events::append(
            tx, {"tenant-1", type, "client", "client-1", payload, "system", ""}));
      }
    });
    return seqs;
  }

  std::optional<std::string> kv(const std::string& key) {
    std::optional<std::string> value;
    store_->read([&](Tx& tx) {
      auto row = tx.query_one(
          "SELECT value FROM plugin_kv WHERE plugin_id = 'recorder' AND key = ?", {key});
      if (row) value = row->text(0);
    });
    return value;
  }

  // The seqs the recorder handled, in the order it handled them.
  std::vector<int64_t> seen() {
    std::vector<int64_t> out;
    std::istringstream in(kv("seen").value_or(""));
    for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
    return out;
  }

 private:
  Logger log_;
  HostCalls calls_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<PluginRegistry> registry_;
};

std::optional<SubscriberStatus> find_recorder_status(const Dispatcher& dispatcher) {
  for (const auto& s : dispatcher.status()) {
    if (s.subscriber == "plugin:recorder") return s;
  }
  return std::nullopt;
}

SubscriberStatus recorder_status(const Dispatcher& dispatcher) {
  auto status = find_recorder_status(dispatcher);
  REQUIRE(status);
  return *status;
}

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

DispatcherOptions quick_retries(int max_failures = 8) {
  DispatcherOptions options;
  options.max_failures = max_failures;
  options.initial_backoff = 1ms;
  options.max_backoff = 5ms;
  return options;
}

// The built recorder and a copy of its manifest that subscribes to other event types; the
// library is the same file, so its sha256 and the id it reports still match.
fs::path recorder_subscribed_to(const fs::path& dir, const std::vector<std::string>& types) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  Json::Value manifest;
  {
    std::ifstream in(built_recorder());
    Json::CharReaderBuilder builder;
    std::string errors;
    REQUIRE(Json::parseFromStream(builder, in, &manifest, &errors));
  }
  const fs::path library = built_recorder().parent_path() / manifest["library"].asString();
  fs::copy_file(library, dir / library.filename(), fs::copy_options::overwrite_existing);
  fs::permissions(dir / library.filename(), fs::perms::owner_all | fs::perms::group_read |
                                                fs::perms::group_exec | fs::perms::others_read |
                                                fs::perms::others_exec);
  manifest["hooks"]["events"] = Json::arrayValue;
  for (const auto& type : types) manifest["hooks"]["events"].append(type);
  fs::path out = dir / "recorder.json";
  std::ofstream(out) << Json::writeString(Json::StreamWriterBuilder(), manifest);
  psahost::test::sign_with_build_key(out);
  return out;
}

int64_t stored_cursor(Store& store) {
  int64_t seq = -1;
  store.read([&](Tx& tx) {
    auto row = tx.query_one(
        "SELECT last_seq FROM subscriber_cursors WHERE subscriber = 'plugin:recorder'");
    if (row) seq = row->integer(0);
  });
  return seq;
}

}  // namespace

TEST_CASE("a new subscriber gets the whole event log in seq order and its cursor follows",
          "[events]") {
  TempDir dir;
  Host host(dir.path());
  const auto history = host.append({"client.upserted", "billing_info.updated", "service.assigned",
                                    "ticket.created", "time_entry.submitted"});
  DispatcherOptions options;
  options.batch = 2;  // several reads, so batch boundaries are crossed
  Dispatcher dispatcher(host.store(), host.registry(), host.log(), options);
  dispatcher.start();

  REQUIRE(dispatcher.wait_idle(kPatience));
  CHECK(host.seen() == history);
  CHECK(recorder_status(dispatcher).last_seq == history.back());

  const auto later = host.append({"time_entry.approved", "invoice.issued"});
  dispatcher.notify();
  REQUIRE(dispatcher.wait_idle(kPatience));
  CHECK(host.seen() == concat(history, later));
  const auto status = recorder_status(dispatcher);
  CHECK(status.last_seq == later.back());
  CHECK(status.failures == 0);
  CHECK_FALSE(status.parked_seq);
  CHECK_FALSE(status.next_attempt_at);
  CHECK(stored_cursor(host.store()) == later.back());
}

TEST_CASE("a new dispatcher on the same database resumes from the stored cursor", "[events]") {
  TempDir dir;
  std::vector<int64_t> first;
  {
    Host host(dir.path());
    first = host.append({"client.upserted", "ticket.created", "invoice.issued"});
    Dispatcher dispatcher(host.store(), host.registry(), host.log());
    dispatcher.start();
    REQUIRE(dispatcher.wait_idle(kPatience));
    dispatcher.stop();
    dispatcher.stop();  // idempotent
  }
  Host host(dir.path());
  const auto second = host.append({"contract.activated", "billing_run.completed"});
  Dispatcher dispatcher(host.store(), host.registry(), host.log());
  CHECK(recorder_status(dispatcher).last_seq == first.back());
  dispatcher.start();
  REQUIRE(dispatcher.wait_idle(kPatience));

  CHECK(host.seen() == concat(first, second));  // nothing delivered twice
  CHECK(host.kv("calls") == std::to_string(first.size() + second.size()));
}

TEST_CASE("a failing subscriber is retried with backoff and shows its error until it recovers",
          "[events]") {
  TempDir dir;
  const std::string config = R"({"fail_types":["invoice.issued"],"fail_times":2})";
  std::vector<int64_t> seqs;
  {
    Host host(dir.path(), config);
    seqs = host.append({"client.upserted", "invoice.issued", "ticket.created"});
    DispatcherOptions slow;  // the retry will not come while this dispatcher runs
    slow.initial_backoff = 1h;
    slow.max_backoff = 1h;
    Dispatcher dispatcher(host.store(), host.registry(), host.log(), slow);
    dispatcher.start();
    REQUIRE(psahost::test::eventually(
        [&] {
          const auto status = find_recorder_status(dispatcher);
          return status && status->failures == 1;
        },
        kPatience));

    const auto status = recorder_status(dispatcher);
    CHECK(status.last_seq == seqs[0]);
    CHECK_THAT(status.last_error, Catch::Contains("recorder fails invoice.issued"));
    CHECK(status.next_attempt_at);
    const auto plugins = host.registry().list();
    REQUIRE(plugins.size() == 1);
    CHECK_THAT(plugins[0].last_error, Catch::Contains("recorder fails invoice.issued"));
    CHECK(host.seen() == std::vector<int64_t>{seqs[0]});  // nothing overtakes the failed event
    CHECK_FALSE(dispatcher.wait_idle(100ms));
  }

  Host host(dir.path(), config);
  Dispatcher dispatcher(host.store(), host.registry(), host.log(), quick_retries());
  CHECK(recorder_status(dispatcher).failures == 1);  // the failure count was stored
  dispatcher.start();
  REQUIRE(dispatcher.wait_idle(kPatience));

  CHECK(host.seen() == seqs);
  CHECK(host.kv("tries:" + std::to_string(seqs[1])) == "3");
  CHECK(host.kv("attempt:" + std::to_string(seqs[1])) == "3");  // counted across the restart
  const auto status = recorder_status(dispatcher);
  CHECK(status.last_seq == seqs.back());
  CHECK(status.failures == 0);
  CHECK_FALSE(status.next_attempt_at);
  CHECK_FALSE(status.parked_seq);
}

TEST_CASE("a poison event is parked after max failures and replay_parked delivers it again",
          "[events]") {
  TempDir dir;
  Host host(dir.path(), R"({"fail_types":["invoice.issued"],"fail_times":3})");
  const auto seqs = host.append({"client.upserted", "invoice.issued", "ticket.created"});
  Dispatcher dispatcher(host.store(), host.registry(), host.log(), quick_retries(3));
  dispatcher.start();
  REQUIRE(dispatcher.wait_idle(kPatience));

  auto status = recorder_status(dispatcher);
  CHECK(status.parked_seq == seqs[1]);
  CHECK(status.last_seq == seqs[2]);
  CHECK(status.failures == 0);
  CHECK_THAT(status.last_error, Catch::Contains("parked"));
  CHECK(host.seen() == std::vector<int64_t>{seqs[0], seqs[2]});
  CHECK(host.kv("tries:" + std::to_string(seqs[1])) == "3");

  const auto later = host.append({"ticket.created"});
  dispatcher.notify();
  REQUIRE(dispatcher.wait_idle(kPatience));
  CHECK(host.seen() == std::vector<int64_t>{seqs[0], seqs[2], later[0]});

  REQUIRE(dispatcher.replay_parked("recorder"));
  CHECK(host.seen() == std::vector<int64_t>{seqs[0], seqs[2], later[0], seqs[1]});
  status = recorder_status(dispatcher);
  CHECK_FALSE(status.parked_seq);
  CHECK(status.last_seq == later[0]);
  CHECK_FALSE(dispatcher.replay_parked("recorder"));  // nothing parked any more
  CHECK_FALSE(dispatcher.replay_parked("no-such-plugin"));
}

TEST_CASE("a parked event that still fails stays parked after a replay", "[events]") {
  TempDir dir;
  Host host(dir.path(), R"({"fail_types":["invoice.issued"],"fail_times":-1})");
  const auto seqs = host.append({"invoice.issued", "ticket.created"});
  Dispatcher dispatcher(host.store(), host.registry(), host.log(), quick_retries(2));
  dispatcher.start();
  REQUIRE(dispatcher.wait_idle(kPatience));
  REQUIRE(recorder_status(dispatcher).parked_seq == seqs[0]);

  CHECK_FALSE(dispatcher.replay_parked("recorder"));
  const auto status = recorder_status(dispatcher);
  CHECK(status.parked_seq == seqs[0]);
  CHECK_THAT(status.last_error, Catch::Contains("replay of parked event"));
  CHECK(host.seen() == std::vector<int64_t>{seqs[1]});

  dispatcher.stop();
  CHECK_FALSE(dispatcher.replay_parked("recorder"));  // needs a running dispatcher
}

TEST_CASE("an ok answer asking for a retry counts as a failure", "[events]") {
  TempDir dir;
  Host host(dir.path());
  Json::Value retry;
  retry["retry"] = true;
  const auto asked = host.append({"client.upserted"}, retry);
  const auto plain = host.append({"ticket.created"});
  Dispatcher dispatcher(host.store(), host.registry(), host.log(), quick_retries(2));
  dispatcher.start();
  REQUIRE(dispatcher.wait_idle(kPatience));

  CHECK(recorder_status(dispatcher).parked_seq == asked[0]);
  CHECK(host.kv("tries:" + std::to_string(asked[0])) == "2");
  CHECK(host.seen() == plain);
}

TEST_CASE("a disabled subscriber gets nothing until it is enabled and then all it missed",
          "[events]") {
  TempDir dir;
  Host host(dir.path());
  const auto before = host.append({"client.upserted"});
  Dispatcher dispatcher(host.store(), host.registry(), host.log());
  dispatcher.start();
  REQUIRE(dispatcher.wait_idle(kPatience));
  REQUIRE(host.seen() == before);

  REQUIRE(host.registry().set_enabled("recorder", false));
  const auto missed = host.append({"ticket.created", "time_entry.submitted", "invoice.issued"});
  dispatcher.notify();
  REQUIRE(dispatcher.wait_idle(kPatience));  // no enabled subscriber is behind
  CHECK(host.seen() == before);
  CHECK(host.kv("calls") == "1");
  CHECK(recorder_status(dispatcher).last_seq == before.back());
  CHECK(stored_cursor(host.store()) == before.back());

  REQUIRE(host.registry().set_enabled("recorder", true));
  dispatcher.notify();
  REQUIRE(dispatcher.wait_idle(kPatience));
  CHECK(host.seen() == concat(before, missed));
  CHECK(recorder_status(dispatcher).last_seq == missed.back());
}

TEST_CASE("events of types a plugin did not subscribe to are skipped without calling it",
          "[events]") {
  TempDir dir;
  Host host(dir.path(), "{}", recorder_subscribed_to(dir.path() / "plugins", {"ticket.created"}));
  const auto seqs =
      host.append({"client.upserted", "ticket.created", "invoice.issued", "ticket.created"});
  Dispatcher dispatcher(host.store(), host.registry(), host.log());
  dispatcher.start();
  REQUIRE(dispatcher.wait_idle(kPatience));

  CHECK(host.seen() == std::vector<int64_t>{seqs[1], seqs[3]});
  CHECK(host.kv("calls") == "2");
  CHECK(recorder_status(dispatcher).last_seq == seqs.back());  // moved past the skipped ones
}
