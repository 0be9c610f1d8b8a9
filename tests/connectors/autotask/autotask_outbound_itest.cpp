// What psahost pushes back to a fake Autotask zone: the approval status of time entries that
// came from Autotask, and one Autotask contract per contract of an Autotask company, both once
// each also when Autotask answers 500; and `psahost connections test` against it.
#include "connectors/autotask/site.hpp"
#include "support/billing.hpp"
#include "support/process.hpp"

using namespace psahost::test;

namespace {

// A client, ticket and time entry synced from Autotask; returns our entry's id.
std::string synced_entry(AutotaskSite& site, int64_t company, int64_t ticket, int64_t entry,
                         double hours) {
  site.at.put("Companies", at_company(company, "Contoso Ltd"));
  site.at.put("Tickets", at_ticket(ticket, company, "Printer offline"));
  site.at.put("Resources", at_resource());
  site.at.put("TimeEntries", at_time(entry, ticket, hours));
  // Autotask has no TimeEntry webhook: the ticket's webhook brings its time.
  site.send("Update", "Ticket", ticket, Json::Value(), 1);
  const Json::Value last = site.last_settled();
  REQUIRE(last["outcome"].size() == 3);
  return last["outcome"][2]["object_id"].asString();
}

std::string internal_notes(AutotaskSite& site, int64_t entry) {
  return site.at.get("TimeEntries", entry)["internalNotes"].asString();
}

}  // namespace

TEST_CASE(
    "approval, withdrawal and rejection decided here reach the Autotask entry once each, also "
    "after a 500",
    "[autotask]") {
  AutotaskSite site;
  const std::string entry = synced_entry(site, 600, 7600, 8900001, 0.1);
  put_labour_catalog(site.api);
  site.api.complete_billing(site.client_of("600")["id"].asString(), 15);

  site.at.fail_next("PATCH", "/TimeEntries", 503);
  REQUIRE(site.api.post("/v1/time-entries/" + entry + "/approve").status == 200);
  REQUIRE(eventually([&] { return site.at.count("PATCH", "/TimeEntries") == 2; }));
  REQUIRE(eventually([&] {
    return internal_notes(site, 8900001).find("psahost: approved") != std::string::npos;
  }));
  CHECK_THAT(internal_notes(site, 8900001),
             Catch::StartsWith("Toner from stock.\npsahost: approved on ") &&
                 Catch::EndsWith(", 15 min billed"));

  REQUIRE(site.api.post("/v1/time-entries/" + entry + "/unapprove").status == 200);
  REQUIRE(eventually([&] {
    return internal_notes(site, 8900001) ==
           "Toner from stock.\npsahost: approval withdrawn; waiting to be approved again";
  }));
  REQUIRE(
      site.api.post("/v1/time-entries/" + entry + "/reject", R"({"reason":"Not on this ticket"})")
          .status == 200);
  REQUIRE(eventually([&] {
    return internal_notes(site, 8900001) ==
           "Toner from stock.\npsahost: rejected: Not on this ticket";
  }));
  REQUIRE(site.pushes_done());
  CHECK(site.at.count("PATCH", "/TimeEntries") == 4);
  for (const auto& r : site.at.received()) {
    if (r.method != "PATCH") continue;
    CHECK(json_of(r.body)["id"].asInt64() == 8900001);
  }
}

TEST_CASE(
    "a bootstrapped contract of an Autotask company becomes one Autotask contract, activated "
    "once, also when its creation is answered 500 after it was made",
    "[autotask]") {
  AutotaskSite site;
  site.send("Create", "Company", 610, at_company(610, "Litware Inc"), 1);
  REQUIRE(site.settled().size() == 1);
  const std::string client = site.client_of("610")["id"].asString();
  site.api.complete_billing(client, 15);
  REQUIRE(site.api
              .put("/v1/catalog/products", R"({"items":[{"sku":"BK","name":"Backup, workstation",
                "unit":"workstation","part_type":"default","pricing":"per_unit",
                "prices":{"EUR":450}}]})")
              .status == 200);
  REQUIRE(
      site.api
          .put("/v1/clients/" + client + "/services", R"({"items":[{"sku":"BK","quantity":12}]})")
          .status == 200);

  site.at.fail_next("POST", "/Contracts", 500, true);
  const auto boot =
      site.api.post("/v1/contracts/bootstrap", R"({"client_ids":[")" + client + "\"]}");
  INFO(boot.body);
  REQUIRE(boot.status == 200);
  const std::string contract = boot.json()["created"][0]["contract_id"].asString();
  const Json::Value draft = site.api.get("/v1/contracts/" + contract).json();

  REQUIRE(eventually([&] { return site.at.count("POST", "/Contracts/query") >= 2; }));
  REQUIRE(site.pushes_done());
  REQUIRE(site.at.all("Contracts").size() == 1);
  CHECK(site.at.count("POST", "/Contracts") == 3);  // the create once, and two lookups
  Json::Value made = site.at.all("Contracts")[0];
  CHECK(made["contractNumber"].asString() == draft["reference_number"].asString());
  CHECK(made["companyID"].asInt64() == 610);
  CHECK(made["contractType"].asInt() == 7);
  CHECK(made["status"].asInt() == 0);
  CHECK_FALSE(made.isMember("contractCategory"));
  CHECK(made["startDate"].asString() == draft["start_date"].asString() + "T00:00:00Z");
  // Billed forever here; Autotask needs an end date, ten years on.
  CHECK(made["endDate"].asString().substr(0, 4) ==
        std::to_string(std::stoi(draft["start_date"].asString().substr(0, 4)) + 10));

  REQUIRE(site.api.post("/v1/contracts/" + contract + "/activate").status == 200);
  REQUIRE(eventually([&] { return site.at.count("PATCH", "/Contracts") == 1; }));
  REQUIRE(site.pushes_done());
  REQUIRE(site.at.all("Contracts").size() == 1);
  CHECK(site.at.all("Contracts")[0]["status"].asInt() == 1);
}

TEST_CASE("psahost connections test reaches Autotask with the API user, and says when it fails",
          "[autotask]") {
  AutotaskSite site;
  add_connection(site.api.server().data_dir(), "autotask", "at-bad", AutotaskFake::kWebhookSecret,
                 {"--base-url", site.at.base_url(), "--credentials",
                  AutotaskFake::credentials("not-the-secret")});
  const std::string data = site.api.server().data_dir().string();
  const auto ok = run_cli({"connections", "test", "--data-dir", data, "--name", "at",
                           "--outbound-ca", site.at.ca_file().string()});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("ok") && Catch::Contains("12 of 10000"));
  // The codes it will use, read from the instance's picklists (Companies, Tickets and Contracts
  // entityInformation/fields), not assumed.
  CHECK_THAT(ok.out, Catch::Contains("codes: company types prospect 2,3, partner 8; ticket "
                                     "closed 5; contract type 7"));
  CHECK(site.at.field_reads() == 3);
  const auto bad = run_cli({"connections", "test", "--data-dir", data, "--name", "at-bad",
                            "--outbound-ca", site.at.ca_file().string()});
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Catch::Contains("FAILED") && Catch::Contains("401"));
  CHECK_THAT(bad.out + bad.err, !Catch::Contains("not-the-secret"));
}
