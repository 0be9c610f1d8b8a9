// The tickets feature against a real SQLite file, without the binary: who may open a ticket,
// where a closed ticket may go, and what registering time writes.
#include "tickets/tickets.hpp"
#include "auth/tokens.hpp"
#include "core/log.hpp"
#include "store/store.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace psahost;
using domain::RefusalKind;

namespace {

class Desk {
 public:
  Desk()
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        who_{auth::Tokens(*store_).ensure_tenant("acme"), "acme", auth::Role::admin, "tok_1"} {
    store_->write([&](store::Tx& tx) {
      tx.exec(
          "INSERT INTO clients (id, tenant_id, name, created_at, updated_at) VALUES "
          "('cli_1', ?, 'Contoso', 'now', 'now')",
          {who_.tenant_id});
    });
  }

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

  const auth::Principal& who() const { return who_; }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  auth::Principal who_;
};

}  // namespace

TEST_CASE("a ticket is opened only for a client of the tenant", "[tickets]") {
  Desk d;
  auto t =
      d.write([&](store::Tx& tx) { return tickets::open_ticket(tx, d.who(), "cli_x", "VPN"); });
  REQUIRE_FALSE(t);
  CHECK(t.refusal().kind == RefusalKind::not_found);
  t = d.write([&](store::Tx& tx) { return tickets::open_ticket(tx, d.who(), "cli_1", "VPN"); });
  REQUIRE(t);
  CHECK(t->status == "new");
  CHECK(d.count("SELECT COUNT(*) FROM events WHERE type = 'ticket.created'") == 1);
}

TEST_CASE("a closed ticket is not reopened and takes no response, and nothing is written",
          "[tickets]") {
  Desk d;
  const auto t =
      d.write([&](store::Tx& tx) { return tickets::open_ticket(tx, d.who(), "cli_1", "Printer"); });
  REQUIRE(d.write([&](store::Tx& tx) {
    return tickets::move_ticket(tx, d.who(), t->id, "closed", "ticket.closed");
  }));
  const auto reopened = d.write([&](store::Tx& tx) {
    return tickets::move_ticket(tx, d.who(), t->id, "open", "ticket.open");
  });
  REQUIRE_FALSE(reopened);
  CHECK(reopened.refusal().slug == "ticket-closed");
  const auto response = d.write([&](store::Tx& tx) {
    return tickets::add_response(tx, d.who(), t->id, "any news?", "alice");
  });
  REQUIRE_FALSE(response);
  CHECK(response.refusal().kind == RefusalKind::conflict);
  CHECK(d.count("SELECT COUNT(*) FROM ticket_responses") == 0);
  CHECK(d.count("SELECT COUNT(*) FROM tickets WHERE status = 'closed'") == 1);
}

TEST_CASE("time registered on a ticket is submitted for the ticket's client, in order",
          "[tickets]") {
  Desk d;
  const auto t =
      d.write([&](store::Tx& tx) { return tickets::open_ticket(tx, d.who(), "cli_1", "Printer"); });
  const tickets::NewTimeEntry work{30, "alice", true, "remote", "", "2026-11-02"};
  const auto missing =
      d.write([&](store::Tx& tx) { return tickets::register_time(tx, d.who(), "tkt_x", work); });
  REQUIRE_FALSE(missing);
  CHECK(missing.refusal().kind == RefusalKind::not_found);
  const auto e =
      d.write([&](store::Tx& tx) { return tickets::register_time(tx, d.who(), t->id, work); });
  REQUIRE(e);
  CHECK(e->status == "submitted");
  CHECK(e->client_id == "cli_1");
  CHECK(e->minutes == 30);
  const auto listed =
      d.write([&](store::Tx& tx) { return tickets::ticket_time(tx, d.who().tenant_id, t->id); });
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == e->id);
  CHECK(d.count("SELECT COUNT(*) FROM events WHERE type = 'time_entry.submitted'") == 1);
}
