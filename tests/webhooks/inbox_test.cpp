// The inbox's own writers against a real SQLite file: a request stored once per dedupe key, and
// a replay that starts an entry over for its tenant only.
#include "webhooks/inbox.hpp"
#include "auth/tokens.hpp"
#include "core/log.hpp"
#include "core/secret_box.hpp"
#include "plugins/manifest.hpp"
#include "store/store.hpp"
#include "support/process.hpp"
#include "webhooks/connections.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <variant>

namespace fs = std::filesystem;
using namespace psahost;

namespace {

class Inbox {
 public:
  Inbox()
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        tenant_(auth::Tokens(*store_).ensure_tenant("acme")),
        other_(auth::Tokens(*store_).ensure_tenant("globex")) {
    const auto manifest =
        plugins::load_manifest(fs::path(PSAHOST_PLUGIN_DIR) / "standard-webhooks.json");
    REQUIRE(manifest.manifest);
    webhooks::Connections connections(*store_, box_);
    webhooks::NewConnection request;
    request.tenant_id = tenant_;
    request.name = "bench";
    request.connector = "standard-webhooks";
    request.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const auto added = connections.add(request, *manifest.manifest);
    if (const auto* errors = std::get_if<std::vector<webhooks::ConnectionError>>(&added)) {
      for (const auto& e : *errors) UNSCOPED_INFO(e.field + ": " + e.message);
    }
    REQUIRE(std::holds_alternative<webhooks::Connection>(added));
    connection_ = std::get<webhooks::Connection>(added).id;
  }

  bool store(const std::string& key) {
    bool stored = false;
    store_->write([&](store::Tx& tx) {
      stored = webhooks::store_inbox_entry(tx, tenant_, connection_, key, "{}", R"({"n":1})",
                                           "2026-12-01T00:00:00Z");
    });
    return stored;
  }

  std::optional<Json::Value> replay(const std::string& tenant, int64_t id) {
    std::optional<Json::Value> out;
    store_->write([&](store::Tx& tx) { out = webhooks::replay_inbox_entry(tx, tenant, id); });
    return out;
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

  const std::string& tenant() const { return tenant_; }
  const std::string& other() const { return other_; }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  crypto::SecretBox box_{std::string(32, 'k')};
  std::string tenant_, other_, connection_;
};

}  // namespace

TEST_CASE("a request is stored in the inbox once per dedupe key", "[webhooks][inbox]") {
  Inbox inbox;
  CHECK(inbox.store("msg_1"));
  CHECK_FALSE(inbox.store("msg_1"));
  CHECK(inbox.store("msg_2"));
  CHECK(inbox.count("SELECT COUNT(*) FROM inbox") == 2);
  CHECK(inbox.count("SELECT COUNT(*) FROM inbox WHERE status = 'pending'") == 2);
}

TEST_CASE("a replay names its tenant's entry only, and a pending one is not replayed again",
          "[webhooks][inbox]") {
  Inbox inbox;
  REQUIRE(inbox.store("msg_1"));
  const int64_t id = inbox.count("SELECT id FROM inbox");
  CHECK_FALSE(inbox.replay(inbox.other(), id));
  CHECK_FALSE(inbox.replay(inbox.tenant(), id + 1));
  const auto pending = inbox.replay(inbox.tenant(), id);
  REQUIRE(pending);
  CHECK((*pending)["replayed"] == false);
  CHECK((*pending)["status"] == "pending");
}
