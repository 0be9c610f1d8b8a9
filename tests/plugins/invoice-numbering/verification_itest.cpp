// Invoice numbering through HTTPS against the real binary: the verification gate on the first
// billing run, a change needing a new verification, the accounting system's last number and the
// proposal after it, collisions refused naming the field, and the command line.
#include "support/billing.hpp"
#include "support/problem.hpp"
#include "support/sqlite_file.hpp"

#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

// serve's arguments for a host that also loads the test accounting connector with config (its
// config defaults' members).
std::vector<std::string> with_accounting(const TempDir& dir, const Json::Value& config) {
  const fs::path plugins = dir.path() / "accounting";
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "accounting-stub", plugins);
  set_config_defaults(plugins / "accounting-stub.json", config);
  return {"--plugins-dir", PSAHOST_PLUGIN_DIR, "--plugins-dir", plugins.string()};
}

// The stub keeps books only for a tenant connected to it, as any accounting connector.
void connect_accounting(ApiSession& api, const TempDir& dir) {
  add_connection(
      api.server().data_dir(), "accounting-stub", "books", "",
      {"--plugins-dir", PSAHOST_PLUGIN_DIR, "--plugins-dir", (dir.path() / "accounting").string()});
}

Json::Value member(const std::string& name, const Json::Value& value) {
  Json::Value v;
  v[name] = value;
  return v;
}

std::string this_year() {
  return period_from_now(0).substr(0, 4);
}

}  // namespace

TEST_CASE(
    "the first real billing run is refused until the numbering is verified, and a change "
    "needs a new verification",
    "[numbering][billing]") {
  ApiSession api;
  const std::string period = period_from_now(0);
  auto onboarding = api.get("/v1/onboarding").json();
  CHECK_FALSE(onboarding["invoice_numbering"]["verified"].asBool());
  CHECK(onboarding["invoice_numbering"]["prompt"]["action"] == "verify_invoice_numbering");

  const auto refused = api.post("/v1/billing-runs", R"({"period":")" + period + R"("})");
  require_problem(refused, 409, "numbering-not-verified");
  CHECK(refused.json()["prompt"]["action"] == "verify_invoice_numbering");
  CHECK(refused.json()["decided_by"] == "invoice-numbering");
  // A dry run takes no number, so it may look before anything is verified.
  CHECK(run_billing(api, period, true)["status"] == "completed");

  const auto defaults = api.get("/v1/invoice-numbering");
  INFO(defaults.body);
  REQUIRE(defaults.status == 200);
  const Json::Value shown = defaults.json();
  CHECK_FALSE(shown["configured"].asBool());
  CHECK_FALSE(shown["verified"].asBool());
  CHECK(shown["pattern"] == "{prefix}{yyyy}-{seq:05}");
  CHECK(shown["next_invoice_number"] == "INV-" + this_year() + "-00001");
  CHECK(shown["prompt"]["action"] == "verify_invoice_numbering");

  const Json::Value verified = verify_numbering(
      api, R"({"settings_digest":")" + shown["settings_digest"].asString() + "\"}");
  CHECK(verified["configured"].asBool());
  CHECK_FALSE(verified["verified_by"].asString().empty());
  CHECK(verified["verified_settings"]["pattern"] == "{prefix}{yyyy}-{seq:05}");
  CHECK(api.get("/v1/onboarding").json()["invoice_numbering"]["verified"].asBool());
  CHECK(run_billing(api, period)["status"] == "completed");

  // Putting back what is shown changes nothing and keeps the verification.
  const std::string same = R"({"prefix":"INV-","pattern":"{prefix}{yyyy}-{seq:05}",
      "next_number":1,"reset":"yearly"})";
  const auto unchanged = api.put("/v1/invoice-numbering", same);
  REQUIRE(unchanged.status == 200);
  CHECK(unchanged.json()["verified"].asBool());

  const auto changed = api.put("/v1/invoice-numbering", R"({"prefix":"F-",
      "pattern":"{prefix}{yyyy}-{seq:05}","next_number":1,"reset":"yearly"})");
  INFO(changed.body);
  REQUIRE(changed.status == 200);
  CHECK_FALSE(changed.json()["verified"].asBool());
  CHECK(changed.json()["next_invoice_number"] == "F-" + this_year() + "-00001");
  require_problem(api.post("/v1/billing-runs", R"({"period":")" + period + R"("})"), 409,
                  "numbering-not-verified");
  CHECK_FALSE(api.get("/v1/onboarding").json()["invoice_numbering"]["verified"].asBool());
  // A verification of what someone saw before the change is refused.
  require_problem(api.post("/v1/invoice-numbering/verify",
                           R"({"settings_digest":")" + shown["settings_digest"].asString() + "\"}"),
                  409, "conflict");
  verify_numbering(api);
  CHECK(run_billing(api, period)["status"] == "completed");

  SqliteFile db(api.server().data_dir() / "psahost.db");
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'invoice_numbering.verified'") == 2);
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'invoice_numbering.updated'") == 1);
  CHECK(db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'invoice_numbering.update' AND "
                 "before IS NOT NULL AND after LIKE '%F-%'") == 1);
}

TEST_CASE(
    "verification shows the accounting system's last number, proposes the next and "
    "refuses one that collides",
    "[numbering][accounting]") {
  TempDir plugins;
  const std::string last = "INV-" + this_year() + "-01041";
  ApiSession api(with_accounting(plugins, member("last_number", last)));
  connect_accounting(api, plugins);
  const auto shown = api.get("/v1/invoice-numbering");
  INFO(shown.body);
  REQUIRE(shown.status == 200);
  const Json::Value v = shown.json();
  REQUIRE(v["accounting"].size() == 1);
  CHECK(v["accounting"][0]["system"] == "stub-books");
  CHECK(v["accounting"][0]["last_number"] == last);
  CHECK(v["accounting"][0]["matches_pattern"].asBool());
  CHECK(v["accounting"][0]["seq"].asInt64() == 1041);
  CHECK(v["proposed_next_number"].asInt64() == 1042);
  REQUIRE(v["collisions"].size() == 1);
  CHECK(v["collisions"][0]["field"] == "next_number");

  const auto collides = api.post("/v1/invoice-numbering/verify");
  require_problem(collides, 409, "numbering-collision");
  CHECK(names_field(collides, "next_number"));
  CHECK(collides.json()["prompt"]["action"] == "set_invoice_numbering");
  CHECK(collides.json()["prompt"]["next_number"].asInt64() == 1042);
  // Nothing was verified or saved.
  CHECK_FALSE(api.get("/v1/invoice-numbering").json()["configured"].asBool());

  const auto set = api.put("/v1/invoice-numbering", R"({"prefix":"INV-",
      "pattern":"{prefix}{yyyy}-{seq:05}","next_number":1042,"reset":"yearly"})");
  INFO(set.body);
  REQUIRE(set.status == 200);
  verify_numbering(api);
  const std::string client = api.create_client("Contoso", true);
  const auto invoice = api.post("/v1/invoices", R"({"client_id":")" + client +
                                                    R"(","lines":[{"description":"Router",
      "quantity":1,"unit_price":12900}]})");
  INFO(invoice.body);
  REQUIRE(invoice.status == 201);
  CHECK(invoice.json()["number"] == "INV-" + this_year() + "-01042");
}

TEST_CASE(
    "an accounting number in another shape refuses verification naming the pattern, and "
    "a connector that cannot say refuses it with 502",
    "[numbering][accounting]") {
  SECTION("another shape") {
    TempDir plugins;
    ApiSession api(with_accounting(plugins, member("last_number", "2026/0077")));
    connect_accounting(api, plugins);
    const auto r = api.post("/v1/invoice-numbering/verify");
    require_problem(r, 409, "numbering-collision");
    CHECK(names_field(r, "pattern"));
    CHECK_FALSE(
        api.get("/v1/invoice-numbering").json()["accounting"][0]["matches_pattern"].asBool());
  }
  SECTION("unreachable") {
    TempDir plugins;
    ApiSession api(with_accounting(plugins, member("fail", true)));
    connect_accounting(api, plugins);
    const auto shown = api.get("/v1/invoice-numbering").json();
    CHECK(shown["accounting"][0]["error"].asString().find("unreachable") != std::string::npos);
    const auto r = api.post("/v1/invoice-numbering/verify");
    require_problem(r, 502, "accounting-unavailable");
    CHECK(r.json()["prompt"]["action"] == "retry_verification");
    CHECK_FALSE(api.get("/v1/invoice-numbering").json()["verified"].asBool());
  }
  SECTION("no invoice there yet") {
    TempDir plugins;
    ApiSession api(with_accounting(plugins, member("system", "xero")));
    connect_accounting(api, plugins);
    const auto shown = api.get("/v1/invoice-numbering").json();
    CHECK(shown["accounting"][0]["system"] == "xero");
    CHECK(shown["accounting"][0]["last_number"].isNull());
    CHECK(shown["collisions"].empty());
    verify_numbering(api);
  }
}

TEST_CASE("bad numbering settings are refused naming the field and change nothing", "[numbering]") {
  ApiSession api;
  verify_numbering(api);
  const auto before = api.get("/v1/invoice-numbering").json();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"prefix":"INV-","pattern":"{prefix}{yyyy}","next_number":1,"reset":"never"})",
       "pattern"},
      {R"({"pattern":"{prefix}{weekday}{seq}","next_number":1})", "pattern"},
      {R"({"pattern":"{prefix}{seq:05}","next_number":1,"reset":"yearly"})", "pattern"},
      {R"({"pattern":"{prefix}{seq}","next_number":1,"reset":"monthly"})", "reset"},
      {R"({"pattern":"{prefix}{seq}","next_number":0})", "next_number"},
      {R"({"pattern":"{prefix}{seq}","next_number":"12"})", "next_number"},
      {R"({"pattern":"{prefix}{seq}"})", "next_number"},
      {R"({"next_number":5})", "pattern"},
      {R"({"pattern":"{prefix}{seq}","next_number":5,"owner":"xero"})", "owner"},
      {R"({"prefix":"IN V","pattern":"{prefix}{seq}","next_number":5})", "prefix"},
  };
  for (const auto& [body, field] : bad) {
    CAPTURE(body);
    const auto r = api.put("/v1/invoice-numbering", body);
    require_problem(r, 422, "validation-failed");
    CHECK(names_field(r, field));
  }
  // Three invoices issued: a next number at or below the last of them would hand one out again.
  const std::string client = api.create_client("Contoso", true);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(api.post("/v1/invoices", R"({"client_id":")" + client +
                                         R"(","lines":[{"description":"Work","quantity":1,
        "unit_price":100}]})")
                .status == 201);
  }
  const auto below = api.put("/v1/invoice-numbering", R"({"prefix":"INV-",
      "pattern":"{prefix}{yyyy}-{seq:05}","next_number":3,"reset":"yearly"})");
  require_problem(below, 422, "validation-failed");
  CHECK(names_field(below, "next_number"));
  const auto after = api.get("/v1/invoice-numbering").json();
  CHECK(after["verified"].asBool());
  CHECK(after["prefix"] == before["prefix"]);
  CHECK(after["pattern"] == before["pattern"]);
  CHECK(after["next_number"].asInt64() == 4);
  SqliteFile db(api.server().data_dir() / "psahost.db");
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'invoice_numbering.updated'") == 0);
}

TEST_CASE("numbering and billing on the command line name bad input by its option",
          "[numbering][billing][cli]") {
  TempDir tmp;
  const std::string data = (tmp.path() / "var").string();
  create_token(data, "default", "admin");
  const auto bad_pattern = run_cli({"numbering", "set", "--data-dir", data, "--pattern", "{seq"});
  CHECK(bad_pattern.exit_code == 2);
  CHECK(bad_pattern.err.find("--pattern") != std::string::npos);
  const auto bad_reset = run_cli({"numbering", "set", "--data-dir", data, "--reset", "monthly"});
  CHECK(bad_reset.exit_code == 2);
  CHECK(bad_reset.err.find("--reset") != std::string::npos);
  const auto bad_period = run_cli({"billing", "run", "--data-dir", data, "--period", "2026-13"});
  CHECK(bad_period.exit_code == 2);
  CHECK(bad_period.err.find("--period") != std::string::npos);
  const auto far = run_cli({"billing", "run", "--data-dir", data, "--period", period_from_now(2)});
  CHECK(far.exit_code == 2);
  CHECK(far.err.find("--period") != std::string::npos);
  const auto tenant = run_cli({"numbering", "show", "--data-dir", data, "--tenant", "nobody"});
  CHECK(tenant.exit_code == 2);
  CHECK(tenant.err.find("--tenant") != std::string::npos);
  CHECK(run_cli({"billing", "--help"}).out.find("--period") != std::string::npos);

  const auto refused =
      run_cli({"billing", "run", "--data-dir", data, "--period", period_from_now(0)});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("numbering verify") != std::string::npos);
  const auto set = run_cli({"numbering", "set", "--data-dir", data, "--next-number", "500"});
  INFO(set.err);
  CHECK(set.exit_code == 0);
  CHECK(set.out.find("INV-" + this_year() + "-00500") != std::string::npos);
  CHECK(set.out.find("verified     no") != std::string::npos);
  const auto verified = run_cli({"numbering", "verify", "--data-dir", data});
  INFO(verified.err);
  CHECK(verified.exit_code == 0);
  CHECK(verified.out.find("verified     yes, by cli") != std::string::npos);
  const auto run = run_cli({"billing", "run", "--data-dir", data, "--period", period_from_now(0)});
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find(": completed") != std::string::npos);
  CHECK(run_cli({"onboarding", "status", "--data-dir", data})
            .out.find("Invoice numbering verified: yes") != std::string::npos);
}
