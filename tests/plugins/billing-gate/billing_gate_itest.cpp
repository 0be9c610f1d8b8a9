// The seed's first rule through HTTPS: a client without complete billing info keeps being
// served (tickets, time registration) but cannot be billed until its billing info is complete.
#include "support/api_session.hpp"

#include <catch2/catch.hpp>

#include <json/reader.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

using namespace psahost::test;

namespace {

void require_billing_refusal(const HttpResponse& r, const std::string& client_id) {
  INFO(r.body);
  REQUIRE(r.status == 409);
  CHECK(r.header("content-type") == "application/problem+json");
  const auto body = r.json();
  const std::string type = body["type"].asString();
  CHECK(type.size() > 21);
  CHECK(type.substr(type.size() - 21) == "billing-info-required");
  CHECK(body["prompt"]["action"].asString() == "add_billing_info");
  CHECK(body["prompt"]["client_id"].asString() == client_id);
  CHECK_FALSE(body["detail"].asString().empty());
}

// Billable time is approved only at a labour rate (the time-approval plugin's rule): these
// tests are about billing info, so every client here has one from the catalog.
void put_default_labour(ApiSession& api) {
  const auto r = api.put("/v1/catalog/products", R"({"items":[{"sku":"LABOUR","name":"Support",
      "unit":"hour","pricing":"per_hour","prices":{"EUR":9000},"default_labour":true}]})");
  INFO(r.body);
  REQUIRE(r.status == 200);
}

}  // namespace

TEST_CASE("time entry approval is refused while the client has no billing info", "[billing-gate]") {
  ApiSession api;
  put_default_labour(api);
  const std::string client = api.create_client("Contoso", false);
  const std::string ticket = api.create_ticket(client);
  const std::string entry = api.register_time(ticket, 7);  // registering is never refused

  require_billing_refusal(api.post("/v1/time-entries/" + entry + "/approve"), client);
  // Nothing changed.
  const auto after = api.get("/v1/time-entries/" + entry).json();
  CHECK(after["status"].asString() == "submitted");
  CHECK(after["billed_minutes"].isNull());

  // Partial billing info is still not enough, and the prompt says what is missing.
  REQUIRE(api.put("/v1/clients/" + client + "/billing-info",
                  R"({"business_name":"Contoso Ltd","email":"billing@contoso.example"})")
              .status == 200);
  const auto partial = api.post("/v1/time-entries/" + entry + "/approve");
  require_billing_refusal(partial, client);
  const auto missing = partial.json()["prompt"]["missing"];
  CHECK(missing.size() >= 3);

  api.complete_billing(client, 15);
  const auto ok = api.post("/v1/time-entries/" + entry + "/approve");
  INFO(ok.body);
  REQUIRE(ok.status == 200);
  CHECK(ok.json()["status"].asString() == "approved");
  CHECK(ok.json()["minutes"].asInt() == 7);
  CHECK(ok.json()["billed_minutes"].asInt() == 15);  // the client's roundup of 15 minutes
}

TEST_CASE("creating a sales item is refused for a client without billing info", "[billing-gate]") {
  ApiSession api;
  const std::string client = api.create_client("Fabrikam", false);
  const std::string item =
      R"({"client_id":")" + client +
      R"(","description":"Router","quantity":1,"unit_price":12900,"currency":"EUR"})";
  require_billing_refusal(api.post("/v1/sales-items", item), client);
  api.complete_billing(client);
  const auto created = api.post("/v1/sales-items", item);
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["unit_price"].asInt64() == 12900);
  CHECK(created.json()["status"].asString() == "draft");
}

TEST_CASE("a sales item cannot be moved to a client without billing info but can be edited",
          "[billing-gate]") {
  ApiSession api;
  const std::string billed = api.create_client("Northwind", true);
  const std::string unbilled = api.create_client("Tailspin", false);
  const auto created = api.post("/v1/sales-items", R"({"client_id":")" + billed +
                                                       R"(","description":"Switch","quantity":2,
      "unit_price":5000,"currency":"EUR"})");
  REQUIRE(created.status == 201);
  const std::string id = created.json()["id"].asString();

  require_billing_refusal(
      api.patch("/v1/sales-items/" + id, R"({"client_id":")" + unbilled + "\"}"), unbilled);
  CHECK(api.get("/v1/sales-items/" + id).json()["client_id"].asString() == billed);

  const auto edited =
      api.patch("/v1/sales-items/" + id, R"({"quantity":3,"description":"Switches"})");
  REQUIRE(edited.status == 200);
  CHECK(edited.json()["quantity"].asInt() == 3);

  api.complete_billing(unbilled);
  const auto moved = api.patch("/v1/sales-items/" + id, R"({"client_id":")" + unbilled + "\"}");
  REQUIRE(moved.status == 200);
  CHECK(moved.json()["client_id"].asString() == unbilled);
}

TEST_CASE("tickets are never refused for missing billing info", "[billing-gate]") {
  ApiSession api;
  const std::string client = api.create_client("Litware", false);
  const std::string ticket = api.create_ticket(client);
  CHECK(api.post("/v1/tickets/" + ticket + "/responses", R"({"body":"Rebooted the printer"})")
            .status == 200);
  CHECK(api.get("/v1/tickets/" + ticket).json()["status"].asString() == "responded");
  api.register_time(ticket, 30);
  CHECK(api.post("/v1/tickets/" + ticket + "/resolve").json()["status"].asString() == "resolved");
  CHECK(api.post("/v1/tickets/" + ticket + "/close").json()["status"].asString() == "closed");
  const auto entries = api.get("/v1/tickets/" + ticket + "/time-entries").json();
  CHECK(entries["items"].size() == 1);
}

TEST_CASE("the platform's admission review gives the same verdict as the API", "[billing-gate]") {
  ApiSession api;
  put_default_labour(api);
  const std::string client = api.create_client("Proseware", false);
  const std::string review = R"({"uid":"rev-1","operation":"time_entry.approve",
      "object":{"client_id":")" +
                             client + R"(","minutes":20}})";
  const auto denied = api.post("/v1/admission", review);
  REQUIRE(denied.status == 200);  // a verdict, even a refusal, is HTTP 200
  CHECK(denied.json()["uid"].asString() == "rev-1");
  CHECK_FALSE(denied.json()["allowed"].asBool());
  CHECK(denied.json()["prompt"]["action"].asString() == "add_billing_info");
  api.complete_billing(client);
  CHECK(api.post("/v1/admission", review).json()["allowed"].asBool());

  const auto bad =
      api.post("/v1/admission", R"({"uid":"x","operation":"time.approve","object":{}})");
  CHECK(bad.status == 422);
  CHECK(bad.json()["errors"][0]["field"].asString() == "operation");
}

TEST_CASE("invalid billing info is refused field by field and nothing is stored",
          "[billing-gate]") {
  ApiSession api;
  const std::string client = api.create_client("Lucerne", false);
  const auto r = api.put("/v1/clients/" + client + "/billing-info",
                         R"({"business_name":"Lucerne","email":"not-an-email","currency":"EURO",
      "address":{"country":"XX"},"tax_rate":21,"payment_terms_days":-5})");
  REQUIRE(r.status == 422);
  std::set<std::string> fields;
  const auto problem = r.json();
  for (const auto& e : problem["errors"]) fields.insert(e["field"].asString());
  for (const char* f : {"email", "currency", "address.country", "tax_rate", "payment_terms_days"}) {
    INFO(f);
    CHECK(fields.count(f) == 1);
  }
  const auto stored = api.get("/v1/clients/" + client + "/billing-info");
  CHECK(stored.status == 404);
  CHECK(stored.json()["prompt"]["action"].asString() == "add_billing_info");
}

TEST_CASE("another tenant's objects are 404 and roles without the right get 403",
          "[billing-gate]") {
  ApiSession api;
  const std::string client = api.create_client("Margie's Travel", true);
  const std::string ticket = api.create_ticket(client);
  const std::string entry = api.register_time(ticket, 10);
  const std::string other = create_token(api.server().data_dir(), "other-partner", "admin");
  CHECK(api.call_as(other, "GET", "/v1/clients/" + client).status == 404);
  CHECK(api.call_as(other, "GET", "/v1/time-entries/" + entry).status == 404);
  CHECK(api.call_as(other, "POST", "/v1/time-entries/" + entry + "/approve").status == 404);
  CHECK(api.call_as(other, "GET", "/v1/clients").json()["items"].size() == 0);
  const auto body = api.call_as(other, "GET", "/v1/clients/" + client).body;
  CHECK(body.find("Margie") == std::string::npos);

  const std::string tech = create_token(api.server().data_dir(), "default", "technician");
  CHECK(api.call_as(tech, "POST", "/v1/time-entries/" + entry + "/approve").status == 403);
  CHECK(api.call_as(tech, "POST", "/v1/tickets/" + ticket + "/time-entries",
                    R"({"minutes":5,"technician":"bob"})")
            .status == 201);
  CHECK(api.get("/v1/clients/cli_doesnotexist").status == 404);
}

TEST_CASE("two approvals of one entry at once leave exactly one approval", "[billing-gate]") {
  ApiSession api;
  put_default_labour(api);
  const std::string client = api.create_client("Alpine Ski House", true);
  const std::string entry = api.register_time(api.create_ticket(client), 21);
  std::vector<int> statuses(8);
  std::vector<bool> changed(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      HttpsClient c(api.server().port());
      const auto r = c.post("/v1/time-entries/" + entry + "/approve", "{}",
                            {{"authorization", "Bearer " + api.token()}});
      statuses[i] = r.status;
      changed[i] = r.status == 200 && r.json()["changed"].asBool();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(std::count(changed.begin(), changed.end(), true) == 1);
  for (int s : statuses) CHECK((s == 200 || s == 409));
  const auto after = api.get("/v1/time-entries/" + entry).json();
  CHECK(after["status"].asString() == "approved");
  CHECK(after["billed_minutes"].asInt() == 30);
  CHECK(after["version"].asInt() == 2);
}

TEST_CASE("onboarding lists clients missing billing info and clients with services but no contract",
          "[billing-gate][onboarding]") {
  ApiSession api;
  REQUIRE(api.put("/v1/catalog/products", R"({"items":[{"sku":"CP-BACKUP-WS","name":"Backup",
      "unit":"workstation","part_type":"default","pricing":"per_unit","prices":{"EUR":450}}]})")
              .status == 200);
  const std::string a = api.create_client("Coho Winery", false);
  const std::string b = api.create_client("Fourth Coffee", true);
  REQUIRE(api.put("/v1/clients/" + b + "/services",
                  R"({"items":[{"sku":"CP-BACKUP-WS","quantity":12}]})")
              .status == 200);
  const auto status = api.get("/v1/onboarding").json();
  CHECK(status["clients"].asInt() == 2);
  CHECK(status["missing_billing_info"]["count"].asInt() == 1);
  CHECK(status["missing_billing_info"]["items"][0]["client_id"].asString() == a);
  CHECK(status["without_contract"]["count"].asInt() == 1);
  CHECK(status["without_contract"]["items"][0]["client_id"].asString() == b);
  CHECK_FALSE(status["invoice_numbering"]["verified"].asBool());
  CHECK_FALSE(status["ready_to_bill"].asBool());

  api.complete_billing(a);
  CHECK(api.get("/v1/onboarding").json()["missing_billing_info"]["count"].asInt() == 0);

  const auto cli =
      run_cli({"onboarding", "status", "--data-dir", api.server().data_dir().string()});
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find("Services assigned but no contract: 1") != std::string::npos);
}

TEST_CASE("the demo partner shows the seed's situation", "[onboarding][demo]") {
  TempDir tmp;
  const auto seeded = run_cli({"demo", "seed", "--data-dir", (tmp.path() / "var").string()});
  INFO(seeded.err);
  REQUIRE(seeded.exit_code == 0);
  CHECK(run_cli({"demo", "seed", "--data-dir", (tmp.path() / "var").string()}).exit_code == 2);
  const auto status =
      run_cli({"onboarding", "status", "--json", "--data-dir", (tmp.path() / "var").string()});
  REQUIRE(status.exit_code == 0);
  Json::Value json;
  Json::CharReaderBuilder builder;
  std::istringstream in(status.out);
  REQUIRE(Json::parseFromStream(builder, in, &json, nullptr));
  CHECK(json["clients"].asInt() == 30);
  CHECK(json["missing_billing_info"]["count"].asInt() > 5);
  CHECK(json["without_contract"]["count"].asInt() > 10);
}

TEST_CASE("a held sales item cannot be approved by hand while billing info is missing",
          "[billing-gate]") {
  ApiSession api;
  const std::string client = api.create_client("Bellows College", false);
  const std::string integration = create_token(api.server().data_dir(), "default", "integration");
  const auto held = api.call_as(integration, "POST", "/v1/sales-items",
                                R"({"client_id":")" + client +
                                    R"(","description":"Usage","quantity":3,"unit_price":100,
      "currency":"EUR"})");
  REQUIRE(held.status == 201);
  const std::string id = held.json()["id"].asString();
  require_billing_refusal(api.patch("/v1/sales-items/" + id, R"({"status":"approved"})"), client);
  CHECK(api.get("/v1/sales-items/" + id).json()["status"].asString() == "draft");
  // Other edits of the held item are fine.
  CHECK(api.patch("/v1/sales-items/" + id, R"({"quantity":4})").status == 200);
}

TEST_CASE("blank names and malformed list items are refused naming the field", "[billing-gate]") {
  ApiSession api;
  const std::string client = api.create_client("School of Fine Art", true);
  const auto blank = api.patch("/v1/clients/" + client, R"({"name":"  "})");
  REQUIRE(blank.status == 422);
  CHECK(blank.json()["errors"][0]["field"].asString() == "name");
  CHECK(api.get("/v1/clients/" + client).json()["name"].asString() == "School of Fine Art");

  const auto services = api.put("/v1/clients/" + client + "/services", R"({"items":[1]})");
  REQUIRE(services.status == 422);
  CHECK(services.json()["errors"][0]["field"].asString() == "items[0]");
  const auto products = api.put("/v1/catalog/products", R"({"items":["x"]})");
  REQUIRE(products.status == 422);
  CHECK(products.json()["errors"][0]["field"].asString() == "items[0]");
  const auto unknown =
      api.put("/v1/clients/" + client + "/services", R"({"items":[{"sku":"NOPE","quantity":1}]})");
  REQUIRE(unknown.status == 422);
  CHECK(unknown.json()["errors"][0]["field"].asString() == "items[0].sku");
}
