// The contracts module against a real SQLite file, without the binary: drafts and their
// reference numbers, the one-bootstrap-per-client rule, parts that follow the assignment, the
// wizard's remaining steps, and finding the bootstrap plugin by what it does.
#include "contracts/contracts.hpp"
#include "auth/tokens.hpp"
#include "core/log.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace psahost;
using domain::RefusalKind;

namespace {

class Contracts {
 public:
  Contracts()
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        tenant_(auth::Tokens(*store_).ensure_tenant("acme")) {
    store_->write([&](store::Tx& tx) {
      for (const char* id : {"cli_1", "cli_2"}) {
        tx.exec(
            "INSERT INTO clients (id, tenant_id, name, created_at, updated_at) VALUES "
            "(?, ?, 'Contoso', 'now', 'now')",
            {std::string(id), tenant_});
      }
    });
  }

  contracts::NewContract draft(const std::string& client, const std::string& source) const {
    contracts::NewContract c;
    c.client_id = client;
    c.name = "Managed services";
    c.contact_email = "billing@contoso.example";
    c.start_date = "2026-12-01";
    c.currency = "EUR";
    c.source = source;
    contracts::NewPart p;
    p.sku = "RMM";
    p.description = "Monitoring";
    p.quantity = 3;
    p.follows_assignment = true;
    p.price = 1250;
    c.parts.push_back(p);
    return c;
  }

  Json::Value create(const std::vector<contracts::NewContract>& drafts) {
    Json::Value out;
    store_->write(
        [&](store::Tx& tx) { out = contracts::create_drafts(tx, tenant_, "tok_1", drafts); });
    return out;
  }

  Json::Value contract(const std::string& id) {
    Json::Value out;
    store_->read([&](store::Tx& tx) { out = contracts::contract_json(tx, tenant_, id); });
    return out;
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

  store::Store& store() { return *store_; }
  const std::string& tenant() const { return tenant_; }
  const test::TempDir& dir() const { return dir_; }
  Logger& log() { return log_; }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
};

}  // namespace

TEST_CASE("drafts get consecutive reference numbers, an event and an audit row each",
          "[contracts]") {
  Contracts k;
  const auto out = k.create({k.draft("cli_1", "manual"), k.draft("cli_2", "manual")});
  REQUIRE(out["created"].size() == 2);
  CHECK(out["skipped"].empty());
  CHECK(out["created"][0]["reference_number"] == "CT-000001");
  CHECK(out["created"][1]["reference_number"] == "CT-000002");
  CHECK(k.count("SELECT COUNT(*) FROM contracts WHERE status = 'draft'") == 2);
  CHECK(k.count("SELECT COUNT(*) FROM contract_parts") == 2);
  CHECK(k.count("SELECT COUNT(*) FROM events WHERE type = 'contract.created'") == 2);
  CHECK(k.count("SELECT COUNT(*) FROM audit_log WHERE action = 'contract.create'") == 2);

  // A later batch goes on from the highest number the tenant has.
  const auto next = k.create({k.draft("cli_1", "manual")});
  CHECK(next["created"][0]["reference_number"] == "CT-000003");
}

TEST_CASE("a client is bootstrapped once, and an unknown client is skipped with nothing written",
          "[contracts]") {
  Contracts k;
  const auto first = k.create({k.draft("cli_1", "bootstrap"), k.draft("cli_nobody", "bootstrap")});
  REQUIRE(first["created"].size() == 1);
  REQUIRE(first["skipped"].size() == 1);
  CHECK(first["skipped"][0]["client_id"] == "cli_nobody");
  CHECK(first["skipped"][0]["reason"] == "not_found");

  const auto again = k.create({k.draft("cli_1", "bootstrap")});
  CHECK(again["created"].empty());
  REQUIRE(again["skipped"].size() == 1);
  CHECK(again["skipped"][0]["reason"] == "has_contract");
  CHECK(k.count("SELECT COUNT(*) FROM contracts WHERE client_id = 'cli_1'") == 1);

  // Cancelled or not, a bootstrapped client stays bootstrapped.
  k.store().write([&](store::Tx& tx) { tx.exec("UPDATE contracts SET status = 'cancelled'"); });
  CHECK(k.create({k.draft("cli_1", "bootstrap")})["skipped"][0]["reason"] == "has_contract");
  // A contract made by hand is not held back by a bootstrapped one.
  CHECK(k.create({k.draft("cli_1", "manual")})["created"].size() == 1);
}

TEST_CASE("a draft lists the wizard's remaining steps until it has billing info and priced parts",
          "[contracts]") {
  Contracts k;
  auto unpriced = k.draft("cli_1", "manual");
  unpriced.parts[0].price.reset();
  const auto id = k.create({unpriced})["created"][0]["contract_id"].asString();
  const auto c = k.contract(id);
  REQUIRE(c.isObject());
  CHECK(c["status"] == "draft");
  CHECK(c["unpriced_parts"] == 1);
  CHECK(c["net_amount"] == 0);
  REQUIRE(c["remaining_steps"].size() == 2);
  CHECK(c["remaining_steps"][0] == "billing_info");
  CHECK(c["remaining_steps"][1] == "parts");

  // Another tenant's contract does not exist for this one.
  Json::Value other;
  k.store().read([&](store::Tx& tx) { other = contracts::contract_json(tx, "ten_other", id); });
  CHECK(other.isNull());
}

TEST_CASE("parts that follow the assignment take the quantity assigned now, once", "[contracts]") {
  Contracts k;
  const auto id = k.create({k.draft("cli_1", "manual")})["created"][0]["contract_id"].asString();
  k.store().write([&](store::Tx& tx) {
    tx.exec(
        "INSERT INTO service_assignments (tenant_id, client_id, sku, quantity, since, "
        "updated_at) VALUES (?, 'cli_1', 'RMM', 7, '2026-12-01', 'now')",
        {k.tenant()});
  });
  Json::Value updated;
  k.store().write([&](store::Tx& tx) {
    updated = contracts::follow_assignment(tx, k.tenant(), "cli_1", "tok_1", Json::Value(42));
  });
  REQUIRE(updated.size() == 1);
  CHECK(updated[0]["quantity_before"] == 3);
  CHECK(updated[0]["quantity"] == 7);
  CHECK(updated[0]["event_seq"] == 42);
  CHECK(k.contract(id)["parts"][0]["quantity"] == 7);
  CHECK(k.contract(id)["net_amount"] == 7 * 1250);
  CHECK(k.count("SELECT COUNT(*) FROM audit_log WHERE action = "
                "'contract_part.follow_assignment'") == 1);

  // Asked again (a redelivered event), nothing changes and nothing more is recorded.
  k.store().write([&](store::Tx& tx) {
    updated = contracts::follow_assignment(tx, k.tenant(), "cli_1", "tok_1", Json::Value(42));
  });
  CHECK(updated.empty());
  CHECK(k.count("SELECT COUNT(*) FROM events WHERE type = 'contract.part_updated'") == 1);
}

TEST_CASE("bootstrapping is refused as unavailable while no plugin handles command.bootstrap",
          "[contracts]") {
  Contracts k;
  plugins::HostCalls calls;
  plugins::PluginRegistry registry(plugins::RegistryOptions{k.dir().path() / "cache", false, {}},
                                   plugins::PluginEnv{calls, &k.store(), k.log(), nullptr});
  Json::Value request;
  request["tenant_id"] = k.tenant();
  request["all"] = true;
  const auto result = contracts::bootstrap(registry, request);
  REQUIRE_FALSE(result.ok());
  CHECK(result.refusal().kind == RefusalKind::unavailable);
  CHECK(result.refusal().slug == "plugin-unavailable");
  CHECK(k.count("SELECT COUNT(*) FROM contracts") == 0);
}

TEST_CASE("activation is refused for a missing contract, unpriced parts and a stale version",
          "[contracts]") {
  Contracts k;
  const auth::Principal who{k.tenant(), "acme", auth::Role::admin, "tok_1"};
  auto unpriced = k.draft("cli_1", "manual");
  unpriced.parts[0].price.reset();
  const auto id = k.create({unpriced})["created"][0]["contract_id"].asString();

  k.store().read([&](store::Tx& tx) {
    const auto missing = contracts::check_activation(tx, who, "ctr_nothing");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.refusal().kind == RefusalKind::not_found);

    const auto checked = contracts::check_activation(tx, who, id);
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.refusal().kind == RefusalKind::refused);
    CHECK(checked.refusal().slug == "contract-parts-unpriced");
    CHECK(checked.refusal().prompt["action"] == "set_part_prices");
    CHECK(checked.refusal().prompt["part_ids"].size() == 1);
  });

  k.store().write([&](store::Tx& tx) { tx.exec("UPDATE contract_parts SET price = 900"); });
  int64_t version = 0;
  k.store().read([&](store::Tx& tx) {
    const auto checked = contracts::check_activation(tx, who, id);
    REQUIRE(checked.ok());
    version = (*checked)["version"].asInt64();
  });

  std::optional<domain::Result<Json::Value>> stale;
  k.store().write([&](store::Tx& tx) { stale = contracts::activate(tx, who, id, version + 1); });
  REQUIRE_FALSE(stale->ok());
  CHECK(stale->refusal().slug == "conflict");
  CHECK(k.count("SELECT COUNT(*) FROM contracts WHERE status = 'active'") == 0);

  std::optional<domain::Result<Json::Value>> active;
  k.store().write([&](store::Tx& tx) { active = contracts::activate(tx, who, id, version); });
  REQUIRE(active->ok());
  CHECK((**active)["status"] == "active");
  CHECK(k.count("SELECT COUNT(*) FROM events WHERE type = 'contract.activated'") == 1);
  CHECK(k.count("SELECT COUNT(*) FROM audit_log WHERE action = 'contract.activate'") == 1);

  // An active contract is not activated again.
  k.store().read([&](store::Tx& tx) {
    const auto again = contracts::check_activation(tx, who, id);
    REQUIRE_FALSE(again.ok());
    CHECK(again.refusal().slug == "contract-not-draft");
  });
}

TEST_CASE("a draft's part is deleted with an audit row and an event, but not past the draft",
          "[contracts]") {
  Contracts k;
  const auth::Principal who{k.tenant(), "acme", auth::Role::admin, "tok_1"};
  const auto created = k.create({k.draft("cli_1", "manual")})["created"][0];
  const auto id = created["contract_id"].asString();
  const auto part = created["part_ids"][0].asString();

  std::optional<domain::Result<Json::Value>> missing;
  k.store().write([&](store::Tx& tx) { missing = contracts::delete_part(tx, who, id, "cp_x"); });
  REQUIRE_FALSE(missing->ok());
  CHECK(missing->refusal().kind == RefusalKind::not_found);

  std::optional<domain::Result<Json::Value>> deleted;
  k.store().write([&](store::Tx& tx) { deleted = contracts::delete_part(tx, who, id, part); });
  REQUIRE(deleted->ok());
  CHECK((**deleted)["id"] == part);
  CHECK(k.count("SELECT COUNT(*) FROM contract_parts") == 0);
  CHECK(k.count("SELECT COUNT(*) FROM events WHERE type = 'contract.part_deleted'") == 1);
  CHECK(k.count("SELECT COUNT(*) FROM audit_log WHERE action = 'contract.part_deleted' AND "
                "after IS NULL") == 1);
  CHECK(k.contract(id)["version"] == 2);

  k.store().write([&](store::Tx& tx) { tx.exec("UPDATE contracts SET status = 'cancelled'"); });
  k.store().read([&](store::Tx& tx) {
    const auto refused = contracts::draft_for_write(tx, who, id);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.refusal().kind == RefusalKind::conflict);
    CHECK(refused.refusal().slug == "contract-not-draft");
  });
}

TEST_CASE("a part's change is refused naming the field, and nothing is changed", "[contracts]") {
  Contracts k;
  const auth::Principal who{k.tenant(), "acme", auth::Role::admin, "tok_1"};
  const auto created = k.create({k.draft("cli_1", "manual")})["created"][0];
  const auto id = created["contract_id"].asString();
  const auto part = created["part_ids"][0].asString();
  const auto edit = [&](const contracts::PartChange& change) {
    std::optional<domain::Result<contracts::PartEdit>> out;
    k.store().write([&](store::Tx& tx) {
      const auto contract = contracts::draft_for_write(tx, who, id);
      REQUIRE(contract.ok());
      out = contracts::edit_part(tx, who, *contract, part, change, "parts[0]");
    });
    return *out;
  };

  contracts::PartChange unknown_sku;
  unknown_sku.sku = "NOPE";
  const auto a = edit(unknown_sku);
  REQUIRE_FALSE(a.ok());
  CHECK(a.refusal().kind == RefusalKind::invalid);
  REQUIRE(a.refusal().fields.size() == 1);
  CHECK(a.refusal().fields[0].field == "parts[0].sku");

  contracts::PartChange no_sku;
  no_sku.sku = "";  // clearing the sku of a part that follows the assignment
  const auto b = edit(no_sku);
  REQUIRE_FALSE(b.ok());
  CHECK(b.refusal().fields[0].field == "parts[0].follows_assignment");

  contracts::PartChange early_end;
  early_end.end_given = true;
  early_end.end_date = "2026-11-30";  // the contract starts 2026-12-01
  const auto c = edit(early_end);
  REQUIRE_FALSE(c.ok());
  CHECK(c.refusal().fields[0].field == "parts[0].end_date");
  CHECK(k.contract(id)["parts"][0]["end_date"].isNull());

  contracts::PartChange unpriced;
  unpriced.price_given = true;  // given as null: the part becomes unpriced
  const auto d = edit(unpriced);
  REQUIRE(d.ok());
  CHECK(d->before["price"] == 1250);
  CHECK(d->after["unpriced"] == true);
  CHECK(k.contract(id)["unpriced_parts"] == 1);
}

TEST_CASE("contracts are listed a page at a time, by client and status, and a bad status is named",
          "[contracts]") {
  Contracts k;
  const auth::Principal who{k.tenant(), "acme", auth::Role::admin, "tok_1"};
  k.create({k.draft("cli_1", "manual"), k.draft("cli_2", "manual"), k.draft("cli_2", "manual")});
  k.store().read([&](store::Tx& tx) {
    contracts::ContractQuery query;
    query.limit = 2;
    const auto first = contracts::list_contracts(tx, who, query);
    REQUIRE(first.ok());
    CHECK((*first)["items"].size() == 2);
    REQUIRE((*first)["next_after"].isString());
    query.after = (*first)["next_after"].asString();
    const auto second = contracts::list_contracts(tx, who, query);
    REQUIRE(second.ok());
    CHECK((*second)["items"].size() == 1);
    CHECK_FALSE((*second).isMember("next_after"));

    contracts::ContractQuery by_client;
    by_client.client_id = "cli_2";
    by_client.status = "draft";
    CHECK((*contracts::list_contracts(tx, who, by_client))["items"].size() == 2);

    contracts::ContractQuery bad;
    bad.status = "archived";
    const auto refused = contracts::list_contracts(tx, who, bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.refusal().kind == RefusalKind::invalid);
    CHECK(refused.refusal().fields[0].field == "status");

    // Another tenant sees none of them.
    const auth::Principal other{"ten_other", "other", auth::Role::admin, "tok_2"};
    CHECK((*contracts::list_contracts(tx, other, {}))["items"].empty());
  });
}
