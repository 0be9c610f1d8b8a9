// The catalog feature against a real SQLite file, without the binary: one default labour
// product, prices in minor units of real currencies, and an audit row when a price changes.
#include "catalog/catalog.hpp"
#include "auth/tokens.hpp"
#include "core/log.hpp"
#include "store/store.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace psahost;
using domain::RefusalKind;

namespace {

class Shelf {
 public:
  Shelf()
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        who_{auth::Tokens(*store_).ensure_tenant("acme"), "acme", auth::Role::admin, "tok_1"} {}

  domain::Result<std::vector<Json::Value>> upsert(const std::vector<catalog::Product>& products) {
    std::optional<domain::Result<std::vector<Json::Value>>> out;
    store_->write([&](store::Tx& tx) { out = catalog::upsert_products(tx, who_, products); });
    return *out;
  }

  std::vector<Json::Value> list() {
    std::vector<Json::Value> out;
    store_->read([&](store::Tx& tx) { out = catalog::list_products(tx, who_.tenant_id); });
    return out;
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  auth::Principal who_;
};

catalog::Product product(std::string sku, bool labour = false, Json::Int64 eur = 9500) {
  catalog::Product p;
  p.sku = std::move(sku);
  p.name = "Engineer hour";
  p.pricing = "per_hour";
  p.prices["EUR"] = eur;
  p.default_labour = labour;
  return p;
}

}  // namespace

TEST_CASE("two default labour products in one upsert are refused and nothing is written",
          "[catalog]") {
  Shelf s;
  const auto r = s.upsert({product("LAB1", true), product("LAB2", true)});
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::invalid);
  CHECK(r.refusal().fields.at(0).field == "items");
  CHECK(s.count("SELECT COUNT(*) FROM products") == 0);
}

TEST_CASE("naming a new default labour product takes it from the one before", "[catalog]") {
  Shelf s;
  REQUIRE(s.upsert({product("LAB1", true)}));
  REQUIRE(s.upsert({product("LAB2", true)}));
  const auto all = s.list();
  REQUIRE(all.size() == 2);
  CHECK(all[0]["default_labour"] == false);
  CHECK(all[1]["default_labour"] == true);
}

TEST_CASE("a price in no ISO currency is refused", "[catalog]") {
  Shelf s;
  auto p = product("LAB1");
  p.prices["EURO"] = 100;
  const auto r = s.upsert({p});
  REQUIRE_FALSE(r);
  CHECK(r.refusal().fields.at(0).field == "items[0].prices.EURO");
}

TEST_CASE("a price change is audited, and an unchanged product appends no event", "[catalog]") {
  Shelf s;
  REQUIRE(s.upsert({product("LAB1", false, 9500)}));
  REQUIRE(s.upsert({product("LAB1", false, 9500)}));
  CHECK(s.count("SELECT COUNT(*) FROM events WHERE type = 'product.upserted'") == 1);
  CHECK(s.count("SELECT COUNT(*) FROM audit_log") == 0);
  REQUIRE(s.upsert({product("LAB1", false, 9900)}));
  CHECK(s.count("SELECT COUNT(*) FROM events WHERE type = 'product.upserted'") == 2);
  CHECK(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'product.prices'") == 1);
}
