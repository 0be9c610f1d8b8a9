// The contract-bootstrap plugin in process with a real SQLite store and the host's real calls:
// the event.handle path that keeps following parts at the client's assigned quantity.
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "catalog/catalog.hpp"
#include "clients/clients.hpp"
#include "contracts/contracts.hpp"
#include "contracts/drafting.hpp"
#include "contracts/host_calls.hpp"
#include "core/log.hpp"
#include "events/event_log.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
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
    // The client, the catalog and the assignment are made as the API makes them.
    catalog::Product backup, firewall;
    backup.sku = "BK";
    backup.name = "Backup";
    backup.pricing = "per_unit";
    backup.prices["EUR"] = 450;
    firewall.sku = "FW";
    firewall.name = "Firewall";
    firewall.pricing = "fixed";
    firewall.prices["EUR"] = 2000;
    store_->write([&](store::Tx& tx) {
      clients::ClientChange contoso;
      contoso.name = "Contoso";
      const auto client = clients::create_client(tx, who(), contoso);
      REQUIRE(client);
      client_ = client.value()["id"].asString();
      REQUIRE(catalog::upsert_products(tx, who(), {backup, firewall}));
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

  // Replaces the assignment as PUT /v1/clients/{id}/services does; returns its event.
  events::Event assign(int64_t backup, int64_t firewall) {
    events::Event event;
    store_->write([&](store::Tx& tx) {
      REQUIRE(clients::assign_services(
          tx, who(), client_, {{"BK", backup, "2026-01-01"}, {"FW", firewall, "2026-01-01"}}));
    });
    store_->read([&](store::Tx& tx) {
      const auto row = tx.query_one(
          "SELECT MAX(seq) FROM events WHERE type = 'service.assigned' AND tenant_id = ?",
          {tenant_});
      event = events::read_after(tx, row->integer(0) - 1, 1).at(0);
    });
    return event;
  }

  // Activates the draft as POST /v1/contracts/{id}/activate does once admission allowed it.
  void activate() {
    const std::string id = contract()["id"].asString();
    store_->write([&](store::Tx& tx) {
      const auto checked = contracts::check_activation(tx, who(), id);
      REQUIRE(checked);
      REQUIRE(contracts::activate(tx, who(), id, checked.value()["version"].asInt64()));
    });
  }

  void cancel() {
    const std::string id = contract()["id"].asString();
    contracts::ContractInput input;
    input.status = "cancelled";
    input.status_only = true;
    store_->write(
        [&](store::Tx& tx) { REQUIRE(contracts::update_contract(tx, who(), id, input)); });
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
      const auto row = tx.query_one("SELECT id FROM contracts WHERE client_id = ?", {client_});
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
  const std::string& client() const { return client_; }
  auth::Principal who() const { return {tenant_, "default", auth::Role::admin, "tok_test"}; }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
  std::string client_;
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
    CHECK(store::from_text(audit->text(0))["quantity"].asInt() == 10);
    CHECK(store::from_text(audit->text(1))["quantity"].asInt() == 14);
    CHECK(audit->text(2) == "plugin:contract-bootstrap");
  });
  CHECK(f.contract()["version"].asInt() == 2);

  // At least once delivery: a redelivered or late event changes nothing and records nothing.
  CHECK(f.deliver(changed)["updated"].asInt() == 0);
  CHECK(f.deliver(first)["updated"].asInt() == 0);
  CHECK(f.quantity_of("BK") == 14);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE type = 'contract.part_updated'") == 1);

  // An active contract follows too; an unassigned service leaves its part at zero.
  f.activate();
  CHECK(f.deliver(f.assign(0, 1))["updated"].asInt() == 1);
  CHECK(f.quantity_of("BK") == 0);

  // A cancelled contract is left as it was.
  f.cancel();
  CHECK(f.deliver(f.assign(25, 1))["updated"].asInt() == 0);
  CHECK(f.quantity_of("BK") == 0);
}

TEST_CASE("the plugin ignores event types it does not follow", "[contracts]") {
  Fixture f;
  Json::Value event;
  event["seq"] = 1;
  event["type"] = "client.upserted";
  event["tenant_id"] = f.tenant();
  event["data"]["client_id"] = f.client();
  const auto result = f.plugin().call("event.handle", event);
  REQUIRE(result.ok());
  CHECK(result.body["ok"].asBool());
}
