// The billing feature against a real SQLite file and the bundled
// invoice-numbering plugin, without the binary: a run's refusals, a dry run
// that takes no number, a period run twice, and the clients a run skips with
// their reason.
#include "billing/billing_run.hpp"
#include "admission/pipeline.hpp"
#include "auth/tokens.hpp"
#include "billing/invoices.hpp"
#include "billing/manual_invoice.hpp"
#include "billing/numbering.hpp"
#include "billing/numbering_review.hpp"
#include "clients/clients.hpp"
#include "core/log.hpp"
#include "domain/billing_calendar.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "sales/sales.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace psahost;
using domain::RefusalKind;

namespace {

constexpr const char* kCompleteBilling =
    R"({"business_name":"Contoso Ltd","legal_form":"Ltd","email":"billing@contoso.example",
    "vat_number":"NL123456789B01","address":{"street":"Main","number":"1","city":"Utrecht",
    "zip":"3511AA","country":"NL"},"currency":"EUR","tax_rate":"21.00","payment_terms_days":30,
    "roundup_minutes":15,"invoice_delivery":"email"})";

class Billing {
 public:
  explicit Billing(bool with_plugin = true)
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        tenant_(auth::Tokens(*store_).ensure_tenant("acme")),
        who_{tenant_, "acme", auth::Role::admin, "tok_1"} {
    billing::register_numbering_host_calls(calls_, *store_);
    billing::register_invoice_host_calls(calls_, *store_);
    registry_ = std::make_unique<plugins::PluginRegistry>(
        plugins::RegistryOptions{dir_.path() / "cache", false, {}},
        plugins::PluginEnv{calls_, store_.get(), log_, nullptr});
    if (with_plugin) {
      REQUIRE(registry_->load(fs::path(PSAHOST_PLUGIN_DIR) / "invoice-numbering.json"));
    }
    pipeline_ = std::make_unique<admission::Pipeline>(*registry_, log_);
  }

  // An active client made through the clients feature, known to the test by name; with billing
  // info, and one approved sales item of 2 x 50.00 EUR dated in the period before this one, so
  // that a run for this month bills it.
  void client(const std::string& name, bool with_billing) {
    const std::string day = domain::Period::of(domain::today_utc()).plus_months(-1).text() + "-05";
    std::string id;
    store_->write([&](store::Tx& tx) {
      clients::ClientChange change;
      change.name = "Client " + name;
      const auto created = clients::create_client(tx, who_, change);
      REQUIRE(created);
      id = (*created)["id"].asString();
      if (!with_billing) return;
      const auto info = domain::parse_billing_info(store::from_text(kCompleteBilling));
      REQUIRE(info.info);
      REQUIRE(clients::put_billing_info(tx, who_, id, *info.info));
    });
    ids_[name] = id;
    if (!with_billing) return;
    sales::ItemFields item;
    item.client_id = id;
    item.description = "Cable";
    item.quantity = 2;
    item.unit_price = 5000;
    item.currency = "EUR";
    item.date = day;
    item.status = "approved";
    const auto plan = sales::plan_create({*store_, *pipeline_}, who_, item);
    INFO((plan ? std::string() : plan.refusal().detail));
    REQUIRE(plan);
    store_->write([&](store::Tx& tx) { REQUIRE(sales::create_item(tx, who_, *plan)); });
  }
  // The id the host gave the client made under name.
  std::string id(const std::string& name) const { return ids_.at(name); }

  void verify() {
    const auto verified = billing::verify_numbering({*store_, *registry_}, who_, "", {});
    INFO((verified ? std::string() : verified.refusal().detail));
    REQUIRE(verified.ok());
  }

  billing::BillingEnv env() const { return {*store_, *registry_, *pipeline_, {}}; }
  const auth::Principal& who() const { return who_; }
  plugins::PluginRegistry& registry() { return *registry_; }
  const admission::Pipeline& pipeline() const { return *pipeline_; }
  store::Store& store() { return *store_; }

  // Starts a run for this month and runs it to its end; the run as GET
  // /v1/billing-runs shows it.
  Json::Value run(bool dry_run) {
    const auto queued = billing::start_billing_run(env(), who_, {this_month(), dry_run});
    INFO((queued ? std::string() : queued.refusal().detail));
    REQUIRE(queued.ok());
    std::stop_source never;
    billing::execute_billing_run(env(), tenant_, queued->id, never.get_token());
    Json::Value out;
    store_->read([&](store::Tx& tx) {
      out = billing::billing_run_json(tx, tenant_, queued->id, billing::RunItemsPage{});
    });
    return out;
  }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

  static std::string this_month() { return domain::Period::of(domain::today_utc()).text(); }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
  auth::Principal who_;
  plugins::HostCalls calls_;
  std::unique_ptr<plugins::PluginRegistry> registry_;
  std::unique_ptr<admission::Pipeline> pipeline_;
  std::map<std::string, std::string> ids_;
};

// The run's clients by id: {outcome, reason}.
std::map<std::string, std::pair<std::string, std::string>> outcomes(const Json::Value& run) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const auto& item : run["items"]) {
    out[item["client_id"].asString()] = {item["outcome"].asString(), item["reason"].asString()};
  }
  return out;
}

}  // namespace

TEST_CASE(
    "a real billing run is refused while the numbering is not verified, "
    "and records nothing",
    "[billing]") {
  Billing b;
  b.client("cli_1", true);
  const auto start = billing::start_billing_run(b.env(), b.who(), {Billing::this_month(), false});
  REQUIRE_FALSE(start.ok());
  CHECK(start.refusal().kind == RefusalKind::refused);
  CHECK(start.refusal().slug == "numbering-not-verified");
  CHECK(start.refusal().prompt["action"].asString() == "verify_invoice_numbering");
  CHECK(b.count("SELECT COUNT(*) FROM billing_runs") == 0);
}

TEST_CASE(
    "a billing run is refused as unavailable when no numbering plugin is "
    "loaded, and as a "
    "conflict when it is disabled",
    "[billing]") {
  {
    Billing b(false);
    const auto start = billing::start_billing_run(b.env(), b.who(), {Billing::this_month(), false});
    REQUIRE_FALSE(start.ok());
    CHECK(start.refusal().kind == RefusalKind::unavailable);
    CHECK(start.refusal().slug == "numbering-unavailable");
  }
  Billing b;
  REQUIRE(b.registry().set_enabled("invoice-numbering", false));
  const auto start = billing::start_billing_run(b.env(), b.who(), {Billing::this_month(), false});
  REQUIRE_FALSE(start.ok());
  CHECK(start.refusal().kind == RefusalKind::conflict);
  CHECK(start.refusal().slug == "plugin-disabled");
  CHECK(b.count("SELECT COUNT(*) FROM billing_runs") == 0);
}

TEST_CASE("a billing run's period is checked and named when it is wrong", "[billing]") {
  Billing b;
  const std::vector<std::string> periods = {
      "2026-13", "November", domain::Period::of(domain::today_utc()).plus_months(2).text()};
  for (const auto& period : periods) {
    const auto start = billing::start_billing_run(b.env(), b.who(), {period, true});
    REQUIRE_FALSE(start.ok());
    CHECK(start.refusal().kind == RefusalKind::invalid);
    REQUIRE(start.refusal().fields.size() == 1);
    CHECK(start.refusal().fields[0].field == "period");
  }
  CHECK(b.count("SELECT COUNT(*) FROM billing_runs") == 0);
}

TEST_CASE("a dry run shows what it would issue, issues nothing and takes no number", "[billing]") {
  Billing b;  // not verified: a dry run does not need it
  b.client("cli_1", true);
  const Json::Value run = b.run(true);
  CHECK(run["status"].asString() == "completed");
  CHECK(run["issued"].asInt64() == 1);  // that it would issue
  CHECK(outcomes(run)[b.id("cli_1")].first == "would_issue");
  CHECK(b.count("SELECT COUNT(*) FROM invoices") == 0);
  CHECK(b.count("SELECT COUNT(*) FROM invoice_series WHERE next_seq > 1") == 0);
  CHECK(b.count("SELECT COUNT(*) FROM sales_items WHERE status = 'approved'") == 1);
}

TEST_CASE("a second run for the same period issues nothing twice", "[billing]") {
  Billing b;
  b.client("cli_1", true);
  b.client("cli_2", true);
  b.verify();
  const Json::Value first = b.run(false);
  CHECK(first["status"].asString() == "completed");
  CHECK(first["issued"].asInt64() == 2);
  CHECK(b.count("SELECT COUNT(*) FROM invoices") == 2);
  CHECK(b.count("SELECT COUNT(*) FROM sales_items WHERE status = 'invoiced'") == 2);

  const Json::Value second = b.run(false);
  CHECK(second["status"].asString() == "completed");
  CHECK(second["issued"].asInt64() == 0);
  REQUIRE(outcomes(second).size() == 2);
  for (const auto& [client, outcome] : outcomes(second)) {
    INFO(client);
    CHECK(outcome.first == "skipped");
    CHECK(outcome.second == "already_invoiced");
  }
  CHECK(b.count("SELECT COUNT(*) FROM invoices") == 2);
  CHECK(b.count("SELECT COUNT(DISTINCT number) FROM invoices") == 2);
}

TEST_CASE("a run lists the clients it skipped with their reason", "[billing]") {
  Billing b;
  b.client("cli_billed", true);
  b.client("cli_no_info", false);
  b.verify();
  const Json::Value run = b.run(false);
  const auto by_client = outcomes(run);
  CHECK(by_client.at(b.id("cli_billed")).first == "issued");
  CHECK(by_client.at(b.id("cli_no_info")).first == "skipped");
  CHECK(by_client.at(b.id("cli_no_info")).second == "billing_info_incomplete");
  CHECK(run["skipped"].asInt64() == 1);
  CHECK(b.count("SELECT COUNT(*) FROM invoices WHERE client_id = '" + b.id("cli_no_info") + "'") ==
        0);
}

TEST_CASE(
    "a manual invoice is refused for an unknown client, while the "
    "numbering is not "
    "verified, and without billing info, and once verified it takes the next "
    "number",
    "[billing]") {
  Billing b;
  b.client("cli_1", true);
  b.client("cli_2", false);
  const auto prepare = [&](const std::string& client) {
    return billing::prepare_manual_invoice(b.store(), b.registry(), b.pipeline(), b.who(),
                                           {client, "", {{"Setup", "", 1, 10000}}});
  };
  const auto unknown = prepare("cli_nobody");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.refusal().kind == RefusalKind::not_found);
  const auto unverified = prepare(b.id("cli_1"));
  REQUIRE_FALSE(unverified.ok());
  CHECK(unverified.refusal().slug == "numbering-not-verified");

  b.verify();
  const auto no_info = prepare(b.id("cli_2"));
  REQUIRE_FALSE(no_info.ok());
  CHECK(no_info.refusal().slug == "billing-info-required");
  CHECK(no_info.refusal().prompt["client_id"].asString() == b.id("cli_2"));

  const auto prepared = prepare(b.id("cli_1"));
  REQUIRE(prepared.ok());
  std::optional<domain::Result<billing::IssuedInvoice>> issued;
  b.store().write([&](store::Tx& tx) { issued = billing::issue_prepared(tx, *prepared); });
  REQUIRE(issued->ok());
  CHECK_FALSE((*issued)->number.empty());
  CHECK(b.count("SELECT COUNT(*) FROM invoices WHERE kind = 'manual' AND "
                "total_amount = 12100") == 1);
}

TEST_CASE(
    "numbers asked ahead are the numbers asked one by one, and a refused invoice's number goes "
    "to the next",
    "[billing]") {
  Billing b;
  b.verify();
  const auto found = billing::find_numbering_plugin(b.registry());
  REQUIRE(found.ok());
  plugins::Plugin& numbering = **found;
  const std::string tenant = b.who().tenant_id;
  const std::string date = domain::format_date(domain::today_utc());
  const auto take = [&](store::Tx& tx, const billing::NumberingAhead* ahead) {
    billing::NumberRefusal refusal;
    const auto taken = billing::take_number(tx, numbering, tenant, "", date, &refusal, ahead);
    INFO(refusal.detail);
    REQUIRE(taken);
    return taken->number;
  };
  b.store().write([&](store::Tx& tx) {
    // One by one, then undone: what asking ahead must give.
    std::vector<std::string> one_by_one;
    tx.exec("SAVEPOINT live");
    for (int i = 0; i < 4; ++i) one_by_one.push_back(take(tx, nullptr));
    tx.exec("ROLLBACK TO live");
    tx.exec("RELEASE live");

    billing::NumberingAhead ahead;
    ahead.ask(tx, numbering, tenant, {{"", 3}}, date);
    const auto calls = numbering.call_count();
    std::vector<std::string> numbers;
    numbers.push_back(take(tx, &ahead));
    // The next invoice is refused after taking its number: its savepoint takes the number back.
    tx.exec("SAVEPOINT refused");
    const std::string given_back = take(tx, &ahead);
    tx.exec("ROLLBACK TO refused");
    tx.exec("RELEASE refused");
    numbers.push_back(take(tx, &ahead));
    numbers.push_back(take(tx, &ahead));
    CHECK(given_back == numbers[1]);
    CHECK(numbering.call_count() == calls);  // all three answered from what was asked ahead
    numbers.push_back(take(tx, &ahead));     // one more than asked for: asked now
    CHECK(numbering.call_count() == calls + 1);
    CHECK(numbers == one_by_one);
  });
  CHECK(b.count("SELECT next_seq FROM invoice_series WHERE billing_entity = ''") == 5);
}
