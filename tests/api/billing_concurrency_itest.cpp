// Invoice numbers under pressure, against the real binary: runs for several periods (one of them
// twice) and manual invoices from several threads at once form one gapless sequence without
// duplicates, and a host killed in the middle of a run leaves only whole invoices, which a
// re-run completes without billing anyone twice.
#include "support/billing.hpp"
#include "support/sqlite_file.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <set>
#include <thread>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

// Clients with complete billing information and an active monthly upfront contract (one part of
// 1000) that started `months_ago`, made through the API as the console makes them, so every rule
// that holds for a real client holds for these.
std::vector<std::string> seed_clients(ApiSession& api, int count, int months_ago) {
  const std::string contract = R"("contact_email":"it@contoso.example","start_date":")" +
                               day_of(period_from_now(-months_ago), 1) +
                               R"(","invoice_interval":"monthly","when_to_bill":"upfront",)"
                               R"("parts":[{"description":"Backup","quantity":1,"price":1000}])";
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "Client %05d", i);
    ids.push_back(api.create_client(name, true));
    active_contract(api, ids.back(), contract);
  }
  return ids;
}

// Every invoice's (seq, number), in seq order, and how many invoices each client has per period.
struct Issued {
  std::vector<std::pair<int64_t, std::string>> numbers;
  std::map<std::pair<std::string, std::string>, int> per_client_period;
};

Issued issued(ApiSession& api) {
  SqliteFile db(api.server().data_dir() / "psahost.db");
  Issued out;
  for (const auto& row : db.column("SELECT seq || ' ' || number FROM invoices ORDER BY seq")) {
    const auto space = row.find(' ');
    out.numbers.emplace_back(std::stoll(row.substr(0, space)), row.substr(space + 1));
  }
  for (const auto& row :
       db.column("SELECT client_id || ' ' || COALESCE(period, 'manual') FROM invoices")) {
    const auto space = row.find(' ');
    ++out.per_client_period[{row.substr(0, space), row.substr(space + 1)}];
  }
  return out;
}

// The numbers form 1..n without a gap, and no number or sequence number is there twice.
void require_gapless(const Issued& i) {
  std::set<std::string> distinct;
  for (std::size_t k = 0; k < i.numbers.size(); ++k) {
    INFO("invoice " << k << ": " << i.numbers[k].second);
    REQUIRE(i.numbers[k].first == static_cast<int64_t>(k) + 1);
    distinct.insert(i.numbers[k].second);
  }
  CHECK(distinct.size() == i.numbers.size());
}

}  // namespace

TEST_CASE("concurrent runs and manual invoices number one gapless sequence without duplicates",
          "[billing][concurrency]") {
  ApiSession api;
  const auto clients = seed_clients(api, 250, 6);
  verify_numbering(api);
  const std::string manual_client = clients.front();
  // Three periods, the last one twice at the same time, beside two threads of manual invoices.
  const std::vector<std::string> periods = {period_from_now(-3), period_from_now(-2),
                                            period_from_now(-1), period_from_now(-1)};
  constexpr int kManualPerThread = 12;
  std::atomic<int> failures{0};
  std::vector<std::string> run_ids(periods.size());
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < periods.size(); ++t) {
    threads.emplace_back([&, t] {
      try {
        HttpsClient client(api.server().port());
        const auto r = client.post("/v1/billing-runs", R"({"period":")" + periods[t] + R"("})",
                                   {{"authorization", "Bearer " + api.token()}});
        if (r.status != 202) {
          ++failures;
          return;
        }
        run_ids[t] = r.json()["id"].asString();
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      try {
        HttpsClient client(api.server().port());
        for (int i = 0; i < kManualPerThread; ++i) {
          const auto r = client.post("/v1/invoices",
                                     R"({"client_id":")" + manual_client +
                                         R"(","lines":[{"description":"Work",
              "quantity":1,"unit_price":500}]})",
                                     {{"authorization", "Bearer " + api.token()}});
          if (r.status != 201) ++failures;
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(failures == 0);
  int64_t issued_by_runs = 0;
  for (const auto& id : run_ids) {
    const Json::Value run = wait_for_run(api.client(), api.token(), id);
    CHECK(run["status"] == "completed");
    CHECK(run["failed"].asInt() == 0);
    issued_by_runs += run["issued"].asInt64();
  }
  // The period asked for twice was billed once: the other run found it invoiced.
  const auto clients_billed = static_cast<int64_t>(clients.size());
  CHECK(issued_by_runs == 3 * clients_billed);

  const Issued all = issued(api);
  CHECK(all.numbers.size() == static_cast<std::size_t>(3 * clients_billed + 2 * kManualPerThread));
  require_gapless(all);
  for (const auto& [key, count] : all.per_client_period) {
    if (key.second == "manual") continue;
    INFO(key.first << " " << key.second);
    CHECK(count == 1);
  }
  const Json::Value numbering = api.get("/v1/invoice-numbering").json();
  CHECK(numbering["next_number"].asInt64() == static_cast<int64_t>(all.numbers.size()) + 1);
}

TEST_CASE(
    "a host killed in the middle of a run leaves only whole invoices, and a re-run "
    "completes it without billing anyone twice",
    "[billing][crash]") {
  TempDir plugins;
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "slow-gate", plugins.path() / "slow");
  Json::Value delay;
  delay["delay_ms"] = 10;
  set_config_defaults(plugins.path() / "slow" / "slow-gate.json", delay);
  ApiSession api(
      {"--plugins-dir", PSAHOST_PLUGIN_DIR, "--plugins-dir", (plugins.path() / "slow").string()});
  const auto clients = seed_clients(api, 250, 2);
  verify_numbering(api);
  const std::string period = period_from_now(-1);
  const auto started = api.post("/v1/billing-runs", R"({"period":")" + period + R"("})");
  REQUIRE(started.status == 202);
  const std::string run_id = started.json()["id"].asString();
  // Killed once a batch has committed and before the run ended.
  Json::Value seen;
  REQUIRE(eventually(
      [&] {
        seen = api.get("/v1/billing-runs/" + run_id).json();
        return seen["issued"].asInt() > 0;
      },
      std::chrono::seconds(30)));
  INFO(seen.toStyledString());
  REQUIRE(seen["status"] == "running");
  api.server().kill_hard();
  api.restart_after_crash();

  const Json::Value interrupted = api.get("/v1/billing-runs/" + run_id).json();
  CHECK(interrupted["status"] == "interrupted");
  const Issued partial = issued(api);
  REQUIRE_FALSE(partial.numbers.empty());
  REQUIRE(partial.numbers.size() < clients.size());
  require_gapless(partial);
  SqliteFile db(api.server().data_dir() / "psahost.db");
  // Whole invoices only: each has its line, and the counter moved exactly as far as they go.
  CHECK(db.count("SELECT COUNT(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM invoice_lines "
                 "l WHERE l.invoice_id = i.id)") == 0);
  CHECK(db.count("SELECT COUNT(*) FROM invoices") ==
        db.count("SELECT COUNT(*) FROM events WHERE type = 'invoice.issued'"));
  CHECK(api.get("/v1/invoice-numbering").json()["next_number"].asInt64() ==
        static_cast<int64_t>(partial.numbers.size()) + 1);

  const Json::Value rerun = run_billing(api, period);
  CHECK(rerun["status"] == "completed");
  CHECK(rerun["issued"].asInt64() == static_cast<int64_t>(clients.size() - partial.numbers.size()));
  CHECK(rerun["reasons"]["already_invoiced"].asInt64() ==
        static_cast<int64_t>(partial.numbers.size()));
  const Issued all = issued(api);
  CHECK(all.numbers.size() == clients.size());
  require_gapless(all);
  for (const auto& id : clients) {
    INFO(id);
    CHECK(all.per_client_period.at({id, period}) == 1);
  }
}
