// The sales feature against a real SQLite file and the bundled billing gate, without the binary:
// the gate is asked before a create or a move, an integration's usage is held rather than lost,
// and an invoiced or meanwhile-changed item does not change.
#include "sales/sales.hpp"
#include "admission/pipeline.hpp"
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "clients/clients.hpp"
#include "core/log.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"
#include "support/api_session.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>

namespace fs = std::filesystem;
using namespace psahost;
using domain::RefusalKind;

namespace {

class Ledger {
 public:
  Ledger()
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        tenant_(auth::Tokens(*store_).ensure_tenant("acme")),
        admin_{tenant_, "acme", auth::Role::admin, "tok_1"},
        integration_{tenant_, "acme", auth::Role::integration, "connection:cw"} {
    api::register_all_host_calls(calls_, *store_);
    registry_ = std::make_unique<plugins::PluginRegistry>(
        plugins::RegistryOptions{dir_.path() / "cache", false, {}},
        plugins::PluginEnv{calls_, store_.get(), log_, nullptr});
    REQUIRE(registry_->load(fs::path(PSAHOST_PLUGIN_DIR) / "billing-gate.json"));
    pipeline_ = std::make_unique<admission::Pipeline>(*registry_, log_);
    for (const char* id : {"cli_1", "cli_2"}) {
      store_->write([&](store::Tx& tx) {
        tx.exec(
            "INSERT INTO clients (id, tenant_id, name, created_at, updated_at) VALUES "
            "(?, ?, 'Contoso', 'now', 'now')",
            {std::string(id), tenant_});
      });
    }
  }

  void complete_billing(const std::string& client) {
    auto parsed = domain::parse_billing_info(store::from_text(test::complete_billing_body()));
    REQUIRE(parsed.info);
    store_->write([&](store::Tx& tx) {
      REQUIRE(clients::put_billing_info(tx, admin_, client, *parsed.info));
    });
  }

  domain::Result<Json::Value> create(const auth::Principal& who, const sales::ItemFields& item) {
    auto plan = sales::plan_create({*store_, *pipeline_}, who, item);
    if (!plan) return plan.refusal();
    std::optional<domain::Result<Json::Value>> out;
    store_->write([&](store::Tx& tx) { out = sales::create_item(tx, who, *plan); });
    return *out;
  }

  domain::Result<Json::Value> update(const std::string& id, const sales::ItemFields& change) {
    auto plan = sales::plan_update({*store_, *pipeline_}, admin_, id, change);
    if (!plan) return plan.refusal();
    std::optional<domain::Result<Json::Value>> out;
    store_->write([&](store::Tx& tx) { out = sales::update_item(tx, admin_, *plan); });
    return *out;
  }

  template <class Fn>
  void write(Fn fn) {
    store_->write(fn);
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

  const auth::Principal& admin() const { return admin_; }
  const auth::Principal& integration() const { return integration_; }
  store::Store& store() { return *store_; }
  const sales::SalesEnv env() { return {*store_, *pipeline_}; }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
  auth::Principal admin_, integration_;
  plugins::HostCalls calls_;
  std::unique_ptr<plugins::PluginRegistry> registry_;
  std::unique_ptr<admission::Pipeline> pipeline_;
};

sales::ItemFields usage(const std::string& client) {
  sales::ItemFields i;
  i.client_id = client;
  i.description = "Backup storage, 200 GB";
  i.quantity = 2;
  i.unit_price = 1250;
  i.currency = "EUR";
  return i;
}

}  // namespace

TEST_CASE("a sales item for a client without billing info is refused by the billing gate",
          "[sales]") {
  Ledger l;
  const auto r = l.create(l.admin(), usage("cli_1"));
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::refused);
  CHECK(r.refusal().slug == "billing-info-required");
  CHECK(r.refusal().extra["decided_by"] == "billing-gate");
  CHECK(l.count("SELECT COUNT(*) FROM sales_items") == 0);
}

TEST_CASE("an integration's usage for a client without billing info is held, then released",
          "[sales]") {
  Ledger l;
  const auto r = l.create(l.integration(), usage("cli_1"));
  REQUIRE(r);
  CHECK((*r)["status"] == "draft");
  CHECK((*r)["hold_reason"] == "billing-info-required");
  CHECK((*r)["source"] == "integration");

  int64_t released = -1;
  l.write([&](store::Tx& tx) {
    released = sales::release_held(tx, l.admin().tenant_id, "cli_1", "billing-gate");
  });
  CHECK(released == 0);  // billing info still missing
  l.complete_billing("cli_1");
  l.write([&](store::Tx& tx) {
    released = sales::release_held(tx, l.admin().tenant_id, "cli_1", "billing-gate");
  });
  CHECK(released == 1);
  CHECK(l.count("SELECT COUNT(*) FROM sales_items WHERE status = 'approved' AND hold_reason IS "
                "NULL") == 1);
}

TEST_CASE("a sales item is created as a draft by a person and approved by an integration",
          "[sales]") {
  Ledger l;
  l.complete_billing("cli_1");
  auto r = l.create(l.admin(), usage("cli_1"));
  REQUIRE(r);
  CHECK((*r)["status"] == "draft");
  CHECK((*r)["source"] == "manual");
  CHECK((*r)["date"].asString().size() == 10);
  r = l.create(l.integration(), usage("cli_1"));
  REQUIRE(r);
  CHECK((*r)["status"] == "approved");
  CHECK(l.count("SELECT COUNT(*) FROM events WHERE type = 'sales_item.created'") == 2);
}

TEST_CASE("a sales item for an unknown client, or without its amounts, is refused", "[sales]") {
  Ledger l;
  auto r = l.create(l.admin(), usage("cli_nope"));
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::not_found);
  sales::ItemFields bare;
  bare.client_id = "cli_1";
  r = l.create(l.admin(), bare);
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::invalid);
  CHECK(r.refusal().fields.size() == 4);
}

TEST_CASE("moving a sales item to a client without billing info is refused by the gate",
          "[sales]") {
  Ledger l;
  l.complete_billing("cli_1");
  const auto item = l.create(l.admin(), usage("cli_1"));
  REQUIRE(item);
  sales::ItemFields move;
  move.client_id = "cli_2";
  const auto r = l.update((*item)["id"].asString(), move);
  REQUIRE_FALSE(r);
  CHECK(r.refusal().slug == "billing-info-required");
  CHECK(l.count("SELECT COUNT(*) FROM sales_items WHERE client_id = 'cli_2'") == 0);
}

TEST_CASE("an invoiced sales item no longer changes, and a change is audited", "[sales]") {
  Ledger l;
  l.complete_billing("cli_1");
  const auto item = l.create(l.admin(), usage("cli_1"));
  REQUIRE(item);
  const std::string id = (*item)["id"].asString();
  sales::ItemFields change;
  change.quantity = 3;
  auto r = l.update(id, change);
  REQUIRE(r);
  CHECK((*r)["quantity"] == 3);
  CHECK((*r)["version"] == 2);
  CHECK(l.count("SELECT COUNT(*) FROM audit_log WHERE action = 'sales_item.update'") == 1);

  l.write([&](store::Tx& tx) { tx.exec("UPDATE sales_items SET status = 'invoiced'"); });
  r = l.update(id, change);
  REQUIRE_FALSE(r);
  CHECK(r.refusal().slug == "sales-item-invoiced");
}

TEST_CASE("a sales item changed after its review is refused as a conflict", "[sales]") {
  Ledger l;
  l.complete_billing("cli_1");
  const auto item = l.create(l.admin(), usage("cli_1"));
  REQUIRE(item);
  const std::string id = (*item)["id"].asString();
  sales::ItemFields change;
  change.quantity = 5;
  auto plan = sales::plan_update(l.env(), l.admin(), id, change);
  REQUIRE(plan);
  l.write([&](store::Tx& tx) { tx.exec("UPDATE sales_items SET version = version + 1"); });
  std::optional<domain::Result<Json::Value>> r;
  l.write([&](store::Tx& tx) { r = sales::update_item(tx, l.admin(), *plan); });
  REQUIRE_FALSE(*r);
  CHECK(r->refusal().slug == "conflict");
  CHECK(r->refusal().kind == RefusalKind::conflict);
}
