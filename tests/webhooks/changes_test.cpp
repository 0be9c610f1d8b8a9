// The webhook change applier against a real SQLite file and the bundled billing-gate and
// time-approval plugins, without the binary: what a connector's changes create and link, what
// the rules refuse (and that nothing is written then), and what waits for an object not synced.
#include "webhooks/changes.hpp"
#include "admission/pipeline.hpp"
#include "api/host_services.hpp"
#include "auth/tokens.hpp"
#include "catalog/catalog.hpp"
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
using webhooks::ChangeResult;

namespace {

class Sync {
 public:
  Sync()
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        tenant_(auth::Tokens(*store_).ensure_tenant("acme")) {
    api::register_all_host_calls(calls_, *store_);
    registry_ = std::make_unique<plugins::PluginRegistry>(
        plugins::RegistryOptions{dir_.path() / "cache", false, {}},
        plugins::PluginEnv{calls_, store_.get(), log_, nullptr});
    REQUIRE(registry_->load(fs::path(PSAHOST_PLUGIN_DIR) / "billing-gate.json"));
    REQUIRE(registry_->load(fs::path(PSAHOST_PLUGIN_DIR) / "time-approval.json"));
    pipeline_ = std::make_unique<admission::Pipeline>(*registry_, log_);
    applier_ = std::make_unique<webhooks::ChangeApplier>(
        webhooks::ApplierEnv{*store_, *registry_, *pipeline_, &calls_});
    connection_.id = "con_1";
    connection_.tenant_id = tenant_;
    connection_.name = "cw";
    connection_.connector = "connectwise";
  }

  std::vector<ChangeResult> apply(const std::string& changes) {
    return applier_->apply(connection_, store::from_text(changes));
  }
  ChangeResult one(const std::string& change) {
    const auto results = apply("[" + change + "]");
    REQUIRE(results.size() == 1);
    return results.front();
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }
  std::string text(const std::string& sql) {
    std::string out;
    store_->read([&](store::Tx& tx) {
      if (auto row = tx.query_one(sql)) out = row->text(0);
    });
    return out;
  }

  // A client, a ticket and a billable 7-minute entry, all from the PSA.
  std::string client_ticket_entry() {
    one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso"})");
    one(R"({"op":"ticket.upsert","ref":{"external_id":"T-1"},"client":{"external_id":"250"},
            "subject":"Printer offline"})");
    const auto entry = one(R"({"op":"time_entry.upsert","ref":{"external_id":"E-1"},
            "ticket":{"external_id":"T-1"},"minutes":7,"technician":"alice"})");
    REQUIRE(entry.outcome == "applied");
    return entry.object_id;
  }

  // Labour at 60.00 EUR an hour: what billable time is approved at without a contract.
  void default_labour() {
    Json::Value prices;
    prices["EUR"] = 6000;
    const auth::Principal admin{tenant_, "acme", auth::Role::admin, "tok_1"};
    store_->write([&](store::Tx& tx) {
      REQUIRE(catalog::upsert_products(
          tx, admin, {{"LAB", "Labour", "hour", "default", "per_hour", prices, true}}));
    });
  }

  std::string billing_info_change(const std::string& client_ref) {
    return R"({"op":"billing_info.put","client":)" + client_ref + R"(,"billing_info":)" +
           test::complete_billing_body() + "}";
  }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
  plugins::HostCalls calls_;
  std::unique_ptr<plugins::PluginRegistry> registry_;
  std::unique_ptr<admission::Pipeline> pipeline_;
  std::unique_ptr<webhooks::ChangeApplier> applier_;
  webhooks::Connection connection_;
};

}  // namespace

TEST_CASE("a client a connector reports is created once, linked, and made by the connection",
          "[webhooks][changes]") {
  Sync s;
  const auto first =
      s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso"})");
  CHECK(first.outcome == "applied");
  CHECK(first.status == 201);
  REQUIRE_FALSE(first.object_id.empty());
  CHECK(s.text("SELECT object_id FROM external_refs WHERE system = 'connectwise' AND "
               "object_type = 'client' AND external_id = '250'") == first.object_id);
  CHECK(store::from_text(s.text("SELECT external_ids FROM clients"))["connectwise"] == "250");
  CHECK(s.text("SELECT actor FROM events WHERE type = 'client.upserted'") == "connection:cw");

  // The same report again (a retry, a replay) changes nothing and appends no event.
  const auto again =
      s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso"})");
  CHECK(again.outcome == "unchanged");
  CHECK(again.object_id == first.object_id);
  CHECK(s.count("SELECT COUNT(*) FROM clients") == 1);
  CHECK(s.count("SELECT COUNT(*) FROM events WHERE type = 'client.upserted'") == 1);

  // Only what differs is changed.
  const auto renamed =
      s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso Ltd"})");
  CHECK(renamed.outcome == "applied");
  CHECK(s.text("SELECT name FROM clients") == "Contoso Ltd");
  CHECK(s.count("SELECT COUNT(*) FROM events WHERE type = 'client.upserted'") == 2);
}

TEST_CASE("a change the client rules refuse is a result naming the field, and writes nothing",
          "[webhooks][changes]") {
  Sync s;
  const auto r =
      s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"X","type":"alien"})");
  CHECK(r.outcome == "refused");
  CHECK(r.status == 422);
  CHECK(r.problem["type"] == "urn:psahost:problem:validation-failed");
  CHECK(r.problem["errors"][0]["field"] == "type");
  CHECK(s.count("SELECT COUNT(*) FROM clients") == 0);
  CHECK(s.count("SELECT COUNT(*) FROM external_refs") == 0);
  CHECK(s.count("SELECT COUNT(*) FROM events") == 0);
}

TEST_CASE("time on a ticket not synced yet waits for it, then it is registered once",
          "[webhooks][changes]") {
  Sync s;
  s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso"})");
  const std::string entry = R"({"op":"time_entry.upsert","ref":{"external_id":"E-1"},
      "ticket":{"external_id":"T-1"},"minutes":30,"technician":"alice"})";
  CHECK_THROWS_AS(s.one(entry), webhooks::NotSyncedYet);
  CHECK(s.count("SELECT COUNT(*) FROM time_entries") == 0);

  s.one(R"({"op":"ticket.upsert","ref":{"external_id":"T-1"},"client":{"external_id":"250"},
            "subject":"Printer offline"})");
  const auto created = s.one(entry);
  CHECK(created.outcome == "applied");
  CHECK(s.text("SELECT status FROM time_entries") == "submitted");
  // The PSA repeats the entry unchanged: no edit is asked for.
  CHECK(s.one(entry).outcome == "unchanged");
  CHECK(s.count("SELECT COUNT(*) FROM time_entries") == 1);
}

TEST_CASE("an entry's edit goes through the time-approval plugin, and a bad value is refused",
          "[webhooks][changes]") {
  Sync s;
  const std::string id = s.client_ticket_entry();
  const auto edited = s.one(R"({"op":"time_entry.upsert","ref":{"external_id":"E-1"},
      "ticket":{"external_id":"T-1"},"minutes":20,"technician":"alice"})");
  CHECK(edited.outcome == "applied");
  CHECK(edited.object_id == id);
  CHECK(s.count("SELECT minutes FROM time_entries") == 20);
  CHECK(s.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'time_entry.%'") == 1);

  const auto bad = s.one(R"({"op":"time_entry.upsert","ref":{"external_id":"E-1"},
      "minutes":0})");
  CHECK(bad.outcome == "refused");
  CHECK(bad.status == 422);
  CHECK(bad.problem["errors"][0]["field"] == "minutes");
  CHECK(s.count("SELECT minutes FROM time_entries") == 20);
}

TEST_CASE("approving time from a PSA obeys the billing gate, then approves once billing is known",
          "[webhooks][changes]") {
  Sync s;
  s.default_labour();
  const std::string id = s.client_ticket_entry();
  const std::string approve = R"({"op":"time_entry.approve","entry":{"external_id":"E-1"}})";

  const auto refused = s.one(approve);
  CHECK(refused.outcome == "refused");
  CHECK(refused.status == 409);
  CHECK(refused.problem["type"] == "urn:psahost:problem:billing-info-required");
  CHECK(refused.problem["prompt"]["action"] == "add_billing_info");
  CHECK(s.text("SELECT status FROM time_entries") == "submitted");

  const auto info = s.one(s.billing_info_change(R"({"external_id":"250"})"));
  CHECK(info.outcome == "applied");
  CHECK(s.text("SELECT actor FROM audit_log WHERE action = 'billing_info.update'") ==
        "connection:cw");

  const auto approved = s.one(approve);
  CHECK(approved.outcome == "applied");
  CHECK(approved.object_id == id);
  CHECK(s.text("SELECT status FROM time_entries") == "approved");
  CHECK(s.text("SELECT approved_by FROM time_entries") == "connection:cw");
  CHECK(s.count("SELECT billed_minutes FROM time_entries") == 15);
  CHECK(s.one(approve).outcome == "unchanged");
}

TEST_CASE("billing info merged member by member, and if_linked leaves unknown customers alone",
          "[webhooks][changes]") {
  Sync s;
  s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso"})");
  REQUIRE(s.one(s.billing_info_change(R"({"external_id":"250"})")).outcome == "applied");

  const auto merged = s.one(R"({"op":"billing_info.put","client":{"external_id":"250"},
      "merge":true,"billing_info":{"email":"ap@contoso.example"}})");
  CHECK(merged.outcome == "applied");
  const auto data = store::from_text(s.text("SELECT data FROM billing_info"));
  CHECK(data["email"] == "ap@contoso.example");
  CHECK(data["tax_rate"] == "21.00");

  // Without merge, a partial document is what the client's billing info would become: refused.
  const auto partial = s.one(R"({"op":"billing_info.put","client":{"external_id":"250"},
      "billing_info":{"email":"nope"}})");
  CHECK(partial.outcome == "refused");
  CHECK(partial.status == 422);

  const auto unknown = s.one(R"({"op":"billing_info.put","client":{"external_id":"999"},
      "if_linked":true,"billing_info":{"email":"x@y.example"}})");
  CHECK(unknown.outcome == "unchanged");
  CHECK(unknown.object_id.empty());
  CHECK(s.count("SELECT COUNT(*) FROM billing_info") == 1);
  CHECK_THROWS_AS(s.one(s.billing_info_change(R"({"external_id":"999"})")), webhooks::NotSyncedYet);
}

TEST_CASE("usage an integration syncs for a client without billing info is held, not lost",
          "[webhooks][changes]") {
  Sync s;
  s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso"})");
  const std::string usage = R"({"op":"sales_item.create","ref":{"external_id":"U-1"},
      "client":{"external_id":"250"},"description":"Backup","quantity":3,"unit_price":500,
      "currency":"EUR","item_date":"2026-11-30"})";
  const auto held = s.one(usage);
  CHECK(held.outcome == "applied");
  CHECK(s.text("SELECT status FROM sales_items") == "draft");
  CHECK(s.text("SELECT hold_reason FROM sales_items") == "billing-info-required");
  CHECK(s.text("SELECT item_date FROM sales_items") == "2026-11-30");
  CHECK(s.one(usage).outcome == "unchanged");
  CHECK(s.count("SELECT COUNT(*) FROM sales_items") == 1);

  const auto bad = s.one(R"({"op":"sales_item.create","ref":{"external_id":"U-2"},
      "client":{"external_id":"250"},"description":"Backup","quantity":3,"unit_price":500,
      "currency":"EURO"})");
  CHECK(bad.outcome == "refused");
  CHECK(bad.problem["errors"][0]["field"] == "currency");
  CHECK(s.count("SELECT COUNT(*) FROM sales_items") == 1);
}

TEST_CASE("a ticket moves only to a state it is not in, and a closed one stays closed",
          "[webhooks][changes]") {
  Sync s;
  s.client_ticket_entry();
  const std::string close = R"({"op":"ticket.upsert","ref":{"external_id":"T-1"},
      "status":"closed"})";
  CHECK(s.one(close).outcome == "applied");
  CHECK(s.text("SELECT status FROM tickets") == "closed");
  CHECK(s.one(close).outcome == "unchanged");
  const auto reopen = s.one(R"({"op":"ticket.upsert","ref":{"external_id":"T-1"},
      "status":"resolved"})");
  CHECK(reopen.outcome == "refused");
  CHECK(reopen.problem["type"] == "urn:psahost:problem:ticket-closed");
}

TEST_CASE("what is not a change the host understands is an error, not a result",
          "[webhooks][changes]") {
  Sync s;
  CHECK_THROWS_AS(s.apply(R"({"op":"client.upsert"})"), webhooks::InvalidChange);
  CHECK_THROWS_AS(s.apply(R"([{"op":"client.delete"}])"), webhooks::InvalidChange);
  CHECK_THROWS_AS(s.apply(R"([{"op":"client.upsert","ref":{}}])"), webhooks::InvalidChange);
  CHECK_THROWS_AS(s.apply(R"([{"op":"ticket.upsert","ref":{"external_id":"T-1"},
      "client":"Contoso","subject":"Printer"}])"),
                  webhooks::InvalidChange);
  CHECK(s.count("SELECT COUNT(*) FROM events") == 0);
}

TEST_CASE("an invoice a connector names by a number nobody has is refused as not found",
          "[webhooks][changes]") {
  Sync s;
  const auto r = s.one(R"({"op":"invoice.status","invoice":{"number":"INV-404"},"status":"paid"})");
  CHECK(r.outcome == "refused");
  CHECK(r.status == 404);
  CHECK(r.problem["type"] == "urn:psahost:problem:not-found");
}

TEST_CASE("a customer found by its debtor code is linked to the accounting system's id",
          "[webhooks][changes]") {
  Sync s;
  s.one(R"({"op":"client.upsert","ref":{"external_id":"250"},"name":"Contoso"})");
  s.one(R"({"op":"billing_info.put","client":{"external_id":"250"},"merge":true,
            "billing_info":{"business_name":"Contoso Ltd","debtor_code":"D-1001"}})");
  const auto found = s.one(R"({"op":"billing_info.put","merge":true,
      "client":{"external_id":"Q-7","system":"quickbooks","debtor_code":"D-1001"},
      "billing_info":{"email":"ap@contoso.example"}})");
  CHECK(found.outcome == "applied");
  const std::string client = s.text("SELECT id FROM clients");
  CHECK(found.object_id == client);
  CHECK(s.text("SELECT object_id FROM external_refs WHERE system = 'quickbooks' AND "
               "external_id = 'Q-7'") == client);
  CHECK(store::from_text(s.text("SELECT external_ids FROM clients"))["quickbooks"] == "Q-7");

  // The customer was merged into another there: the old id no longer finds the client.
  const auto moved = s.one(R"({"op":"external_ref.link","object_type":"client","object_id":")" +
                           client + R"(","ref":{"external_id":"Q-8","system":"quickbooks"},
      "replaces":"Q-7"})");
  CHECK(moved.outcome == "applied");
  CHECK(s.count("SELECT COUNT(*) FROM external_refs WHERE external_id = 'Q-7'") == 0);
  CHECK(store::from_text(s.text("SELECT external_ids FROM clients"))["quickbooks"] == "Q-8");
}

TEST_CASE("a debtor code two clients share names neither", "[webhooks][changes]") {
  Sync s;
  for (const char* id : {"250", "251"}) {
    s.one(std::string(R"({"op":"client.upsert","name":"Contoso","ref":{"external_id":")") + id +
          R"("}})");
    s.one(std::string(R"({"op":"billing_info.put","merge":true,"client":{"external_id":")") + id +
          R"("},"billing_info":{"business_name":"Contoso","debtor_code":"D-1"}})");
  }
  CHECK_THROWS_AS(s.one(R"({"op":"billing_info.put","merge":true,
      "client":{"external_id":"Q-7","system":"quickbooks","debtor_code":"D-1"},
      "billing_info":{"email":"ap@contoso.example"}})"),
                  webhooks::NotSyncedYet);
  CHECK(s.count("SELECT COUNT(*) FROM external_refs WHERE system = 'quickbooks'") == 0);
}
