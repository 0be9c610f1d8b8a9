// What psahost pushes back to a fake ConnectWise site: the approval status of time entries that
// came from ConnectWise, and one agreement per contract of a ConnectWise company, both once
// each also when ConnectWise answers 500; and `psahost connections test` against it.
#include "connectors/connectwise/site.hpp"
#include "support/billing.hpp"
#include "support/process.hpp"

using namespace psahost::test;

namespace {

// A client, ticket and time entry synced from ConnectWise; returns our entry's id.
std::string synced_entry(ConnectWiseSite& site, int company, int ticket, int entry, int minutes) {
  site.sync("companies", "company", cw_company(company, "Contoso Ltd", 31),
            "c-" + std::to_string(company));
  site.sync("tickets", "ticket", cw_ticket(ticket, company, "Printer offline"),
            "t-" + std::to_string(ticket));
  site.sync("entries", "time", cw_time(entry, ticket, company, minutes),
            "e-" + std::to_string(entry));
  const Json::Value last = site.last_settled();
  REQUIRE(last["outcome"].size() == 1);
  return last["outcome"][0]["object_id"].asString();
}

std::string internal_notes(ConnectWiseSite& site, int entry) {
  return site.cw.get("entries", std::to_string(entry))["internalNotes"].asString();
}

}  // namespace

TEST_CASE(
    "approval, withdrawal and rejection decided here reach the ConnectWise entry once each, "
    "also after a 500",
    "[connectwise]") {
  ConnectWiseSite site;
  const std::string entry = synced_entry(site, 400, 4400, 78001, 7);
  put_labour_catalog(site.api);
  site.api.complete_billing(site.client_of("400")["id"].asString(), 15);
  // Time registered here on the same ticket never came from ConnectWise: nothing goes there.
  const std::string ticket =
      site.api.get("/v1/time-entries/" + entry).json()["ticket_id"].asString();
  const std::string local = site.api.register_time(ticket, 20);
  REQUIRE(site.api.post("/v1/time-entries/" + local + "/approve").status == 200);

  site.cw.fail_next("PATCH", "/time/entries/78001", 500);
  const auto approved = site.api.post("/v1/time-entries/" + entry + "/approve");
  INFO(approved.body);
  REQUIRE(approved.status == 200);
  REQUIRE(eventually([&] { return site.cw.count("PATCH", "/time/entries/78001") == 2; }));
  REQUIRE(eventually(
      [&] { return internal_notes(site, 78001).find("psahost: approved") != std::string::npos; }));
  std::string notes = internal_notes(site, 78001);
  // The technician's own internal notes stay; psahost's line says what was billed.
  CHECK_THAT(notes, Catch::StartsWith("Customer asked for a callback.\npsahost: approved on ") &&
                        Catch::EndsWith(", 15 min billed"));

  REQUIRE(site.api.post("/v1/time-entries/" + entry + "/unapprove").status == 200);
  REQUIRE(eventually([&] { return site.cw.count("PATCH", "/time/entries/78001") == 3; }));
  REQUIRE(
      site.api.post("/v1/time-entries/" + entry + "/reject", R"({"reason":"Duplicate of #4401"})")
          .status == 200);
  REQUIRE(eventually([&] { return site.cw.count("PATCH", "/time/entries/78001") == 4; }));
  REQUIRE(eventually([&] {
    return internal_notes(site, 78001) ==
           "Customer asked for a callback.\npsahost: rejected: Duplicate of #4401";
  }));
  CHECK(site.cw.count("PATCH", "/time/entries/") == 4);  // the local entry: never

  // An approval that came from ConnectWise is not echoed back to it.
  Json::Value approved_there = cw_time(78002, 4400, 400, 30, "ApprovedByTierTwo");
  site.sync("entries", "time", approved_there, "e-78002");
  REQUIRE(site.last_settled()["outcome"][1]["outcome"].asString() == "applied");
  CHECK(site.cw.count("PATCH", "/time/entries/78002") == 0);
}

TEST_CASE(
    "a bootstrapped contract of a ConnectWise company becomes one agreement, activated once, "
    "also when its creation is answered 500 after it was made",
    "[connectwise]") {
  ConnectWiseSite site;
  site.sync("companies", "company", cw_company(410, "Litware Inc", 55), "c-410");
  REQUIRE(site.settled().size() == 1);
  const std::string client = site.client_of("410")["id"].asString();
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

  site.cw.fail_next("POST", "/finance/agreements", 500, true);
  const auto boot =
      site.api.post("/v1/contracts/bootstrap", R"({"client_ids":[")" + client + "\"]}");
  INFO(boot.body);
  REQUIRE(boot.status == 200);
  REQUIRE(boot.json()["created"].size() == 1);
  const std::string contract = boot.json()["created"][0]["contract_id"].asString();
  const Json::Value draft = site.api.get("/v1/contracts/" + contract).json();

  // The first POST made the agreement and its answer was lost; the retry found it by the
  // contract's reference number and made no second one.
  REQUIRE(eventually([&] { return site.cw.count("GET", "/finance/agreements") >= 2; }));
  REQUIRE(site.cw.agreements().size() == 1);
  CHECK(site.cw.count("POST", "/finance/agreements") == 1);
  Json::Value agreement = site.cw.agreements()[0];
  CHECK(agreement["customerPO"].asString() == draft["reference_number"].asString());
  CHECK(agreement["company"]["id"].asInt() == 410);
  CHECK(agreement["contact"]["id"].asInt() == 55);
  CHECK(agreement["type"]["name"].asString() == "Managed Services");
  CHECK(agreement["agreementStatus"].asString() == "Inactive");
  CHECK(agreement["noEndingDateFlag"].asBool());

  const auto active = site.api.post("/v1/contracts/" + contract + "/activate");
  INFO(active.body);
  REQUIRE(active.status == 200);
  REQUIRE(eventually([&] { return site.cw.count("PATCH", "/finance/agreements/") == 1; }));
  REQUIRE(site.cw.agreements().size() == 1);
  CHECK(site.cw.agreements()[0]["agreementStatus"].asString() == "Active");
  CHECK(site.cw.count("POST", "/finance/agreements") == 1);

  // A contract of a client that is not a ConnectWise company is not ConnectWise's business.
  const std::string local = site.api.create_client("Local Only BV", true);
  REQUIRE(
      site.api.put("/v1/clients/" + local + "/services", R"({"items":[{"sku":"BK","quantity":2}]})")
          .status == 200);
  REQUIRE(site.api.post("/v1/contracts/bootstrap", R"({"client_ids":[")" + local + "\"]}").status ==
          200);
  REQUIRE(site.pushes_done());
  CHECK(site.cw.agreements().size() == 1);
  CHECK(site.cw.count("GET", "/finance/agreements") == 3);  // created twice, activated once
}

TEST_CASE("psahost connections test reaches ConnectWise with the keys, and says when they fail",
          "[connectwise]") {
  ConnectWiseSite site;
  add_connection(site.api.server().data_dir(), "connectwise", "cw-bad", "",
                 {"--base-url", site.cw.base_url(), "--credentials",
                  ConnectWiseFake::credentials("a-wrong-private-key")});
  const std::string data = site.api.server().data_dir().string();
  const auto ok = run_cli({"connections", "test", "--data-dir", data, "--name", "cw",
                           "--outbound-ca", site.cw.ca_file().string()});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("ok") && Catch::Contains("v2025.1.10431"));
  CHECK_THAT(ok.out, Catch::Contains("codes: time approved in ApprovedByTierOne,"
                                     "ApprovedByTierTwo,ReadyToBill (ConnectWise's TimeEntry "
                                     "model); settled there (billed or written off) in "
                                     "Billed,BilledAgreement,WrittenOff"));
  const auto bad = run_cli({"connections", "test", "--data-dir", data, "--name", "cw-bad",
                            "--outbound-ca", site.cw.ca_file().string()});
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Catch::Contains("FAILED") && Catch::Contains("401"));
  CHECK_THAT(bad.out + bad.err, !Catch::Contains("a-wrong-private-key"));
  // Without the fake's CA the site is not trusted: a failure, not a crash.
  const auto untrusted = run_cli({"connections", "test", "--data-dir", data, "--name", "cw"});
  CHECK(untrusted.exit_code == 1);
  CHECK_THAT(untrusted.out, Catch::Contains("FAILED"));
}
