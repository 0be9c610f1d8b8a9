// The invoice host calls an accounting connector uses, through a real connector loaded by the
// real binary: it finds an issued invoice by number, stores its id in the external system, marks
// it paid (a repeat changes nothing), and cannot void a paid invoice; each change is audited.
#include "support/billing.hpp"
#include "support/sqlite_file.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

TEST_CASE(
    "an accounting connector finds an invoice by number, stores its external id and marks "
    "it paid through the host calls",
    "[billing][host-calls]") {
  TempDir plugins;
  const auto dir = plugins.path() / "accounting";
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "accounting-stub", dir);
  Json::Value config;
  config["push"] = true;
  config["mark_paid"] = true;
  set_config_defaults(dir / "accounting-stub.json", config);
  ApiSession api({"--plugins-dir", PSAHOST_PLUGIN_DIR, "--plugins-dir", dir.string()});
  verify_numbering(api);
  const std::string client = api.create_client("Contoso", true);
  const auto r = api.post("/v1/invoices", R"({"client_id":")" + client +
                                              R"(","lines":[{"description":"Router",
      "quantity":1,"unit_price":12900},{"description":"Setup","quantity":2,"unit_price":5000}]})");
  INFO(r.body);
  REQUIRE(r.status == 201);
  const std::string id = r.json()["id"].asString();
  const std::string number = r.json()["number"].asString();

  Json::Value inv;
  REQUIRE(eventually([&] {
    inv = api.get("/v1/invoices/" + id).json();
    return inv["status"] == "paid";
  }));
  CHECK(inv["external_ids"]["stub-books"] == "SB-" + number);
  // Nothing that is money changed: amounts, lines and number are as issued.
  CHECK(inv["number"] == number);
  CHECK(inv["total_amount"] == r.json()["total_amount"]);
  CHECK(inv["lines"] == r.json()["lines"]);

  SqliteFile db(api.server().data_dir() / "psahost.db");
  // The stub writes its log after its last host call, which comes after the status we waited for.
  std::string log;
  eventually([&] {
    log = db.run("SELECT value FROM plugin_kv WHERE plugin_id = 'accounting-stub' AND key = 'log'");
    return log.find(" void ") != std::string::npos;
  });
  INFO(log);
  CHECK(log.find(number + " found same\n") != std::string::npos);
  CHECK(log.find(number + " get lines=2 same\n") != std::string::npos);
  CHECK(log.find(number + " missing refused 2\n") != std::string::npos);  // PSA_NOT_FOUND
  CHECK(log.find(number + " external_id changed=yes\n") != std::string::npos);
  CHECK(log.find(number + " paid changed=yes\n" + number + " paid changed=no\n") !=
        std::string::npos);
  CHECK(log.find(number + " void refused 4\n") != std::string::npos);  // PSA_INVALID_ARGUMENT
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'invoice.paid' AND object_id = ?",
                 {id}) == 1);
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'invoice.voided'") == 0);
  CHECK(db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.paid' AND object_id = ? "
                 "AND actor = 'plugin:accounting-stub' AND before LIKE '%issued%' AND after LIKE "
                 "'%payment received%'",
                 {id}) == 1);
  CHECK(db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.external_id' AND "
                 "object_id = ?",
                 {id}) == 1);
  CHECK(api.get("/v1/invoices?status=paid").json()["items"].size() == 1);
}
