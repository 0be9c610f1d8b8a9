// The contract-bootstrap plugin in process with a real SQLite store and the host's real calls:
// the event.handle path that keeps following parts at the client's assigned quantity.
#include "api/client_queries.hpp"
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "contracts/contracts.hpp"
#include "contracts/host_calls.hpp"
#include "core/log.hpp"
#include "events/event_log.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace psahost;

namespace {

// A store with one tenant and one client with backup seats (following) and a fixed-price
// firewall (not following), and the bundled plugin loaded against it.
class Fixture {
 public:
  Fixture() : log_(LogLevel::error) {
    store_ = store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_);
    tenant_ = auth::Tokens(*store_).ensure_tenant("default");
    store_->write([&](store::Tx& tx) {
      tx.exec(
          "INSERT INTO clients (id, tenant_id, name, created_at, updated_at) VALUES "
          "('cli_a', ?, 'Contoso', 'now', 'now')",
          {tenant_});
      tx.exec(
          "INSERT INTO products (tenant_id, sku, name, pricing, prices, updated_at) VALUES "
          "(?, 'BK', 'Backup', 'per_unit', '{\"EUR\":450}', 'now'), "
          "(?, 'FW', 'Firewall', 'fixed', '{\"EUR\":2000}', 'now')",
          {tenant_, tenant_});
    });
    assign(10, 1);
    api::register_host_services(calls_, *store_);
    contracts::register_contract_host_calls(calls_, *store_);
    registry_ = std::make_unique<plugins::PluginRegistry>(
        plugins::RegistryOptions{dir_.path() / "plugin-cache", false, {}},
        plugins::PluginEnv{calls_, store_.get(), log_, nullptr});
    REQUIRE(registry_->load(fs::path(PSAHOST_PLUGIN_DIR) / "contract-bootstrap.json"));
    plugin_ = registry_->find("contract-bootstrap");
    REQUIRE(plugin_);
  }
  ~Fixture() {
    plugin_.reset();
    registry_.reset();
    store_->close();
  }

  // Replaces the assignment as PUT /v1/clients/{id}/services does, with its event; returns it.
  events::Event assign(int64_t backup, int64_t firewall) {
    int64_t seq = 0;
    store_->write([&](store::Tx& tx) {
      const Json::Value before = api::services_json(tx, tenant_, "cli_a");
      tx.exec("DELETE FROM service_assignments WHERE client_id = 'cli_a'");
      tx.exec(
          "INSERT INTO service_assignments (tenant_id, client_id, sku, quantity, since, "
          "updated_at) VALUES (?, 'cli_a', 'BK', ?, '2026-01-01', 'now'), "
          "(?, 'cli_a', 'FW', ?, '2026-01-01', 'now')",
          {tenant_, backup, tenant_, firewall});
      Json::Value payload;
      payload["client_id"] = "cli_a";
      payload["before"] = before;
      payload["items"] = api::services_json(tx, tenant_, "cli_a");
      seq = events::append(tx, {tenant_, "service.assigned", "client", "cli_a", payload, "t", ""});
    });
    events::Event event;
    store_->read([&](store::Tx& tx) { event = events::read_after(tx, seq - 1, 1).at(0); });
    return event;
  }

  // What the event dispatcher sends the plugin for one event.
  Json::Value deliver(const events::Event& event) {
    Json::Value request = event.to_json();
    request["attempt"] = 1;
    const auto result = plugin_->call("event.handle", request);
    INFO(result.error_message());
    REQUIRE(result.ok());
    return result.body;
  }

  Json::Value contract() {
    Json::Value c;
    store_->read([&](store::Tx& tx) {
      const auto row = tx.query_one("SELECT id FROM contracts WHERE client_id = 'cli_a'");
      REQUIRE(row);
      c = contracts::contract_json(tx, tenant_, row->text(0));
    });
    return c;
  }

  int64_t quantity_of(const std::string& sku) {
    const Json::Value c = contract();
    for (const auto& p : c["parts"]) {
      if (p["sku"].asString() == sku) return p["quantity"].asInt64();
    }
    FAIL("no part " << sku);
    return -1;
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

  store::Store& store() { return *store_; }
  plugins::Plugin& plugin() { return *plugin_; }
  const std::string& tenant() const { return tenant_; }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
  plugins::HostCalls calls_;
  std::unique_ptr<plugins::PluginRegistry> registry_;
  std::shared_ptr<plugins::Plugin> plugin_;
};

}  // namespace

TEST_CASE("a service.assigned event moves following parts to the assigned quantity",
          "[contracts]") {
  Fixture f;
  Json::Value request;
  request["tenant_id"] = f.tenant();
  request["all"] = true;
  const auto bootstrapped = f.plugin().call("command.bootstrap", request);
  REQUIRE(bootstrapped.ok());
  REQUIRE(bootstrapped.body["created"].size() == 1);
  const auto first = f.assign(10, 1);  // an event from before the change, delivered late below
  CHECK(f.quantity_of("BK") == 10);

  const auto changed = f.assign(14, 3);
  CHECK(f.deliver(changed)["updated"].asInt() == 1);
  CHECK(f.quantity_of("BK") == 14);
  CHECK(f.quantity_of("FW") == 1);  // a fixed-price part does not follow
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE type = 'contract.part_updated'") == 1);
  f.store().read([&](store::Tx& tx) {
    const auto audit = tx.query_one(
        "SELECT before, after, actor FROM audit_log WHERE action = "
        "'contract_part.follow_assignment'");
    REQUIRE(audit);
    CHECK(api::from_text(audit->text(0))["quantity"].asInt() == 10);
    CHECK(api::from_text(audit->text(1))["quantity"].asInt() == 14);
    CHECK(audit->text(2) == "plugin:contract-bootstrap");
  });
  CHECK(f.contract()["version"].asInt() == 2);

  // At least once delivery: a redelivered or late event changes nothing and records nothing.
  CHECK(f.deliver(changed)["updated"].asInt() == 0);
  CHECK(f.deliver(first)["updated"].asInt() == 0);
  CHECK(f.quantity_of("BK") == 14);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE type = 'contract.part_updated'") == 1);

  // An active contract follows too; an unassigned service leaves its part at zero.
  f.store().write([](store::Tx& tx) { tx.exec("UPDATE contracts SET status = 'active'"); });
  CHECK(f.deliver(f.assign(0, 1))["updated"].asInt() == 1);
  CHECK(f.quantity_of("BK") == 0);

  // A cancelled contract is left as it was.
  f.store().write([](store::Tx& tx) { tx.exec("UPDATE contracts SET status = 'cancelled'"); });
  CHECK(f.deliver(f.assign(25, 1))["updated"].asInt() == 0);
  CHECK(f.quantity_of("BK") == 0);
}

TEST_CASE("the plugin ignores event types it does not follow", "[contracts]") {
  Fixture f;
  Json::Value event;
  event["seq"] = 1;
  event["type"] = "client.upserted";
  event["tenant_id"] = f.tenant();
  event["data"]["client_id"] = "cli_a";
  const auto result = f.plugin().call("event.handle", event);
  REQUIRE(result.ok());
  CHECK(result.body["ok"].asBool());
}
