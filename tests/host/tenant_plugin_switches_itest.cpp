// Plugin switches belong to one tenant: an admin switches a plugin off for its own tenant, and
// every other tenant keeps the plugin's rules; the host-wide switch is the operator's CLI.
#include "support/api_session.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

namespace {

std::string sales_item_for(const std::string& client) {
  return R"({"client_id":")" + client +
         R"(","description":"Router","quantity":1,"unit_price":12900,"currency":"EUR"})";
}

}  // namespace

TEST_CASE("one tenant switching the billing gate off leaves another tenant's gate in force",
          "[plugins][tenants]") {
  ApiSession a;
  const std::string b = create_token(a.server().data_dir(), "partner-b", "admin");
  const std::string a_client = a.create_client("Contoso", false);
  const auto b_created =
      a.call_as(b, "POST", "/v1/clients", R"({"name":"Fabrikam","type":"customer"})");
  REQUIRE(b_created.status == 201);
  const std::string b_client = b_created.json()["id"].asString();

  const auto off = a.post("/v1/plugins/billing-gate/disable");
  REQUIRE(off.status == 200);
  CHECK(off.json()["state"].asString() == "disabled");
  CHECK(off.json()["host_state"].asString() == "loaded");

  // A chose to go without the gate; B did not.
  CHECK(a.post("/v1/sales-items", sales_item_for(a_client)).status == 201);
  const auto refused = a.call_as(b, "POST", "/v1/sales-items", sales_item_for(b_client));
  CHECK(refused.status == 409);
  CHECK(refused.json()["type"].asString() == "urn:psahost:problem:billing-info-required");
  for (const auto& item : a.call_as(b, "GET", "/v1/plugins", "").json()["items"]) {
    if (item["id"].asString() == "billing-gate") CHECK(item["state"].asString() == "loaded");
  }

  // The switch is kept across a restart, still for A alone.
  a.restart();
  CHECK(a.post("/v1/sales-items", sales_item_for(a_client)).status == 201);
  CHECK(a.call_as(b, "POST", "/v1/sales-items", sales_item_for(b_client)).status == 409);

  REQUIRE(a.post("/v1/plugins/billing-gate/enable").status == 200);
  CHECK(a.post("/v1/sales-items", sales_item_for(a_client)).status == 409);
}

TEST_CASE("a tenant cannot switch invoice numbering off, for itself or for others",
          "[plugins][tenants]") {
  ApiSession a;
  const auto refused = a.post("/v1/plugins/invoice-numbering/disable");
  CHECK(refused.status == 409);
  CHECK(refused.json()["type"].asString() == "urn:psahost:problem:plugin-required");
  for (const auto& item : a.get("/v1/plugins").json()["items"]) {
    if (item["id"].asString() == "invoice-numbering") CHECK(item["state"].asString() == "loaded");
  }
}

TEST_CASE("the operator's CLI switch applies to every tenant at the next start",
          "[plugins][tenants]") {
  ApiSession a;
  const std::string b = create_token(a.server().data_dir(), "partner-b", "admin");
  const auto b_client =
      a.call_as(b, "POST", "/v1/clients", R"({"name":"Fabrikam","type":"customer"})")
          .json()["id"]
          .asString();
  const auto cli = run_cli(
      {"plugins", "disable", "billing-gate", "--data-dir=" + a.server().data_dir().string()});
  REQUIRE(cli.exit_code == 0);
  a.restart();
  CHECK(a.call_as(b, "POST", "/v1/sales-items", sales_item_for(b_client)).status == 201);
  const auto refused = a.call_as(b, "POST", "/v1/plugins/billing-gate/enable", "{}");
  CHECK(refused.status == 409);
  CHECK(refused.json()["type"].asString() == "urn:psahost:problem:plugin-disabled-by-operator");
}
