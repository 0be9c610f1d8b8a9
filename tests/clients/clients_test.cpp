// The clients feature against a real SQLite file, without the binary: what a client may be, who
// its parent may be, what saving billing info records, and which services may be assigned.
#include "clients/clients.hpp"
#include "auth/tokens.hpp"
#include "catalog/catalog.hpp"
#include "core/log.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"
#include "support/api_session.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace psahost;
using domain::RefusalKind;

namespace {

class Book {
 public:
  Book()
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        who_{auth::Tokens(*store_).ensure_tenant("acme"), "acme", auth::Role::admin, "tok_1"},
        other_{auth::Tokens(*store_).ensure_tenant("globex"), "globex", auth::Role::admin,
               "tok_2"} {}

  template <class Fn>
  auto write(Fn fn) {
    std::optional<decltype(fn(std::declval<store::Tx&>()))> out;
    store_->write([&](store::Tx& tx) { out = fn(tx); });
    return std::move(*out);
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

  std::string create(const std::string& name) {
    clients::ClientChange c;
    c.name = name;
    const auto r = write([&](store::Tx& tx) { return clients::create_client(tx, who_, c); });
    REQUIRE(r);
    return (*r)["id"].asString();
  }

  const auth::Principal& who() const { return who_; }
  const auth::Principal& other() const { return other_; }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  auth::Principal who_, other_;
};

domain::BillingInfo complete_info() {
  auto parsed = domain::parse_billing_info(store::from_text(test::complete_billing_body()));
  REQUIRE(parsed.info);
  return *parsed.info;
}

}  // namespace

TEST_CASE("a client is created with its defaults and one event, and shows its billing as missing",
          "[clients]") {
  Book b;
  clients::ClientChange c;
  c.name = "Contoso";
  const auto r = b.write([&](store::Tx& tx) { return clients::create_client(tx, b.who(), c); });
  REQUIRE(r);
  CHECK((*r)["type"] == "customer");
  CHECK((*r)["status"] == "active");
  CHECK((*r)["billing_info"]["complete"] == false);
  CHECK((*r)["billing_info"]["missing"][0] == "billing_info");
  CHECK(b.count("SELECT COUNT(*) FROM events WHERE type = 'client.upserted'") == 1);
}

TEST_CASE("a client without a name or with an unknown type is refused and nothing is written",
          "[clients]") {
  Book b;
  clients::ClientChange c;
  c.type = "supplier";
  const auto r = b.write([&](store::Tx& tx) { return clients::create_client(tx, b.who(), c); });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::invalid);
  REQUIRE(r.refusal().fields.size() == 2);
  CHECK(r.refusal().fields[0].field == "name");
  CHECK(r.refusal().fields[1].field == "type");
  CHECK(b.count("SELECT COUNT(*) FROM clients") == 0);
  CHECK(b.count("SELECT COUNT(*) FROM events") == 0);
}

TEST_CASE("a client's parent is another client of the same tenant, never itself", "[clients]") {
  Book b;
  const std::string parent = b.create("Holding");
  const std::string child = b.create("Subsidiary");
  clients::ClientChange c;
  c.parent_id = child;
  auto r = b.write([&](store::Tx& tx) { return clients::update_client(tx, b.who(), child, c); });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().fields.at(0).message == "a client cannot be its own parent");

  c.parent_id = "cli_nope";
  r = b.write([&](store::Tx& tx) { return clients::update_client(tx, b.who(), child, c); });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().fields.at(0).field == "parent_id");

  c.parent_id = parent;
  r = b.write([&](store::Tx& tx) { return clients::update_client(tx, b.who(), child, c); });
  REQUIRE(r);
  CHECK((*r)["parent_id"] == parent);
}

TEST_CASE("another tenant's client is not found, to read or to change", "[clients]") {
  Book b;
  const std::string id = b.create("Contoso");
  clients::ClientChange c;
  c.name = "Taken";
  const auto r =
      b.write([&](store::Tx& tx) { return clients::update_client(tx, b.other(), id, c); });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::not_found);
  const auto got =
      b.write([&](store::Tx& tx) { return clients::get_client(tx, b.other().tenant_id, id); });
  CHECK_FALSE(got);
  const auto page = b.write(
      [&](store::Tx& tx) { return clients::list_clients(tx, b.other().tenant_id, "", 10); });
  CHECK(page.items.empty());
}

TEST_CASE("clients are listed a page at a time by id", "[clients]") {
  Book b;
  for (const char* name : {"A", "B", "C"}) b.create(name);
  auto page =
      b.write([&](store::Tx& tx) { return clients::list_clients(tx, b.who().tenant_id, "", 2); });
  REQUIRE(page.items.size() == 2);
  REQUIRE(page.next_after);
  page = b.write([&](store::Tx& tx) {
    return clients::list_clients(tx, b.who().tenant_id, *page.next_after, 2);
  });
  CHECK(page.items.size() == 1);
  CHECK_FALSE(page.next_after);
}

TEST_CASE("billing info missing is refused with a prompt to add it", "[clients]") {
  Book b;
  const std::string id = b.create("Contoso");
  const auto r =
      b.write([&](store::Tx& tx) { return clients::billing_info(tx, b.who().tenant_id, id); });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::not_found);
  CHECK(r.refusal().slug == "billing-info-missing");
  CHECK(r.refusal().prompt["action"] == "add_billing_info");
  CHECK(r.refusal().prompt["client_id"] == id);
}

TEST_CASE("saving billing info records one audit row and one event per real change", "[clients]") {
  Book b;
  const std::string id = b.create("Contoso");
  const auto info = complete_info();
  auto r = b.write([&](store::Tx& tx) { return clients::put_billing_info(tx, b.who(), id, info); });
  REQUIRE(r);
  CHECK((*r)["complete"] == true);
  r = b.write([&](store::Tx& tx) { return clients::put_billing_info(tx, b.who(), id, info); });
  REQUIRE(r);
  CHECK(b.count("SELECT COUNT(*) FROM audit_log WHERE action = 'billing_info.update'") == 1);
  CHECK(b.count("SELECT COUNT(*) FROM events WHERE type = 'billing_info.updated'") == 1);
  const auto status =
      b.write([&](store::Tx& tx) { return clients::billing_status(tx, b.who().tenant_id, id); });
  CHECK(status["complete"] == true);

  r = b.write([&](store::Tx& tx) { return clients::put_billing_info(tx, b.other(), id, info); });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::not_found);
}

TEST_CASE("only catalog products are assigned as services, each sku once", "[clients]") {
  Book b;
  const std::string id = b.create("Contoso");
  catalog::Product p;
  p.sku = "M365";
  p.name = "Microsoft 365";
  p.pricing = "per_unit";
  REQUIRE(b.write([&](store::Tx& tx) { return catalog::upsert_products(tx, b.who(), {p}); }));

  auto r = b.write([&](store::Tx& tx) {
    return clients::assign_services(tx, b.who(), id,
                                    {{"M365", 10, "2026-11-01"}, {"BACKUP", 1, "2026-11-01"}});
  });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::invalid);
  CHECK(r.refusal().fields.at(0).field == "items[1].sku");
  r = b.write([&](store::Tx& tx) {
    return clients::assign_services(tx, b.who(), id,
                                    {{"M365", 10, "2026-11-01"}, {"M365", 2, "2026-11-01"}});
  });
  REQUIRE_FALSE(r);
  CHECK(r.refusal().fields.at(0).message == "appears twice");
  CHECK(b.count("SELECT COUNT(*) FROM service_assignments") == 0);

  r = b.write([&](store::Tx& tx) {
    return clients::assign_services(tx, b.who(), id, {{"M365", 10, "2026-11-01"}});
  });
  REQUIRE(r);
  CHECK((*r)[0]["quantity"] == 10);
  r = b.write([&](store::Tx& tx) {
    return clients::assign_services(tx, b.who(), id, {{"M365", 10, "2026-11-01"}});
  });
  REQUIRE(r);
  CHECK(b.count("SELECT COUNT(*) FROM events WHERE type = 'service.assigned'") == 1);
}
