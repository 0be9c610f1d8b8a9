// The QuickBooks Online connector against a local fake of the company's API: notifications
// verified with the verifier token, a customer's billing info on the client its debtor code
// names, a billing run's invoice pushed with our number and paid there, customers made once,
// the numbering check and `psahost connections test`, all with refresh tokens that rotate.
#include "fakes/quickbooks_fake.hpp"
#include "support/accounting.hpp"
#include "support/billing.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

namespace {

struct Company {
  QuickBooksFake qbo;
  ApiSession api;
  explicit Company(const std::vector<std::string>& extra = {})
      : api(accounting_serve_args(qbo.receiver(), extra)) {
    add_connection(api.server().data_dir(), "quickbooks", "qbo", QuickBooksFake::kVerifierToken,
                   qbo.connection_args());
  }
  Json::Value deliver(const std::string& body, const std::string& type = "application/json") {
    return deliver_webhook(api, "qbo", body, QuickBooksFake::signed_headers(body, type));
  }
};

Json::Value contoso_customer() {
  return json_of(R"({"Id":"58","DisplayName":"Contoso Ltd","CompanyName":"Contoso Ltd",
      "PrimaryEmailAddr":{"Address":"billing@contoso.example"},
      "PrimaryPhone":{"FreeFormNumber":"+31 30 123 4567"},
      "BillAddr":{"Line1":"Main 1","City":"Utrecht","PostalCode":"3511AA","Country":"NL"},
      "CurrencyRef":{"value":"EUR"},"PreferredDeliveryMethod":"Email",
      "PrimaryTaxIdentifier":"NL123456789B01"})");
}

std::string this_year() {
  return period_from_now(0).substr(0, 4);
}

}  // namespace

TEST_CASE(
    "a QuickBooks notification signed with the verifier token is stored once in either shape, "
    "and one signed otherwise is 401 and stores nothing",
    "[connectors][quickbooks]") {
  Company c;
  c.qbo.add_customer(contoso_customer());
  const std::string body = QuickBooksFake::notification("Customer", "58", "Update");
  auto headers = QuickBooksFake::signed_headers(body);
  CHECK(c.api.client()
            .post("/webhooks/qbo", body,
                  QuickBooksFake::signed_headers(body, "application/json", "another-token"))
            .status == 401);
  CHECK(c.api.client().post("/webhooks/qbo", body + " ", headers).status == 401);
  CHECK(c.api.client().post("/webhooks/qbo", body, {{"content-type", "application/json"}}).status ==
        401);
  CHECK(inbox(c.api).empty());

  const auto first = c.api.client().post("/webhooks/qbo", body, headers);
  CHECK(first.status == 200);
  CHECK(first.body.empty());
  // Intuit sends it again when the answer was slow: acknowledged, stored once.
  CHECK(c.api.client().post("/webhooks/qbo", body, headers).status == 200);
  CHECK(inbox(c.api).size() == 1);

  const std::string cloud = QuickBooksFake::cloud_event("customer", "58", "updated");
  CHECK(c.api.client()
            .post("/webhooks/qbo", cloud,
                  QuickBooksFake::signed_headers(cloud, "application/cloudevents+json"))
            .status == 200);
  CHECK(inbox(c.api).size() == 2);
  // The customer is no client's here: nothing changes and nothing waits.
  for (const auto& e : inbox(c.api)) {
    const auto entry = settled_entry(c.api, e["id"].asInt64());
    CHECK(entry["status"] == "processed");
    CHECK(entry["outcome"][0]["outcome"] == "unchanged");
  }
}

TEST_CASE(
    "the full QuickBooks loop: a customer's details fill the client its debtor code names, "
    "a billing run's invoice arrives with our number for that customer, and its payment marks "
    "ours paid",
    "[connectors][quickbooks][billing]") {
  Company c;
  // Every request gets a fresh token, so every refresh must use the refresh token the last one
  // rotated in; the fake refuses a used one.
  c.qbo.tokens().set_expires_in(60);
  c.qbo.add_customer(contoso_customer());
  const std::string client = c.api.create_client("Contoso", false);
  REQUIRE(c.api.put("/v1/clients/" + client + "/billing-info", R"({"debtor_code":"58"})").status ==
          200);

  const auto entry = c.deliver(QuickBooksFake::notification("Customer", "58", "Update"));
  INFO(entry.toStyledString());
  REQUIRE(entry["status"] == "processed");
  CHECK(entry["outcome"][0]["outcome"] == "applied");
  CHECK(entry["outcome"][0]["object_id"] == client);
  Json::Value info = c.api.get("/v1/clients/" + client + "/billing-info").json();
  INFO(info.toStyledString());
  CHECK(info["business_name"] == "Contoso Ltd");
  CHECK(info["email"] == "billing@contoso.example");
  CHECK(info["phone"] == "+31 30 123 4567");
  CHECK(info["address"]["street"] == "Main 1");
  CHECK(info["address"]["city"] == "Utrecht");
  CHECK(info["address"]["zip"] == "3511AA");
  CHECK(info["address"]["country"] == "NL");
  CHECK(info["currency"] == "EUR");
  CHECK(info["invoice_delivery"] == "email");
  CHECK(info["debtor_code"] == "58");
  // QuickBooks shows tax ids masked; a masked one is not taken.
  CHECK(info["vat_number"] == "");
  CHECK_FALSE(info["complete"].asBool());
  CHECK(c.api.get("/v1/clients/" + client).json()["external_ids"]["quickbooks"] == "58");

  // The partner adds what QuickBooks does not keep.
  info.removeMember("complete");
  info.removeMember("missing");
  info["tax_rate"] = "21.00";
  info["payment_terms_days"] = 30;
  info["roundup_minutes"] = 15;
  const auto completed =
      c.api.put("/v1/clients/" + client + "/billing-info", info.toStyledString());
  INFO(completed.body);
  REQUIRE(completed.status == 200);
  REQUIRE(completed.json()["complete"].asBool());

  put_labour_catalog(c.api);
  const Json::Value numbering = c.api.get("/v1/invoice-numbering").json();
  REQUIRE(numbering["accounting"].size() == 1);
  CHECK(numbering["accounting"][0]["system"] == "quickbooks");
  CHECK(numbering["accounting"][0]["last_number"].isNull());
  verify_numbering(c.api);
  const std::string period = period_from_now(0);
  active_contract(c.api, client,
                  R"("contact_email":"it@contoso.example","start_date":")" + day_of(period, 1) +
                      R"(","invoice_interval":"monthly","when_to_bill":"upfront",)"
                      R"("parts":[{"description":"Backup","quantity":12,"price":450}])");
  approved_time(c.api, client, 45);
  const Json::Value run = run_billing(c.api, period);
  const Json::Value item = run_item(run, client);
  INFO(run.toStyledString());
  REQUIRE(item["outcome"] == "issued");
  const Json::Value ours = invoice_of(c.api, item["invoice_id"].asString());
  const std::string number = ours["number"].asString();

  REQUIRE(eventually([&] { return c.qbo.invoices_numbered(number).size() == 1; },
                     std::chrono::seconds(20)));
  const Json::Value there = c.qbo.invoices_numbered(number)[0];
  INFO(there.toStyledString());
  CHECK(there["CustomerRef"]["value"] == "58");
  CHECK(there["CurrencyRef"]["value"] == "EUR");
  CHECK(there["TxnDate"] == ours["issue_date"]);
  CHECK(there["DueDate"] == ours["due_date"]);
  REQUIRE(there["Line"].size() == 2);
  // 12 x 4.50, and 45 minutes as 0.75 h at 90.00: amounts exact, quantities as they were.
  CHECK(there["Line"][0]["Amount"].asDouble() == 54.0);
  CHECK(there["Line"][0]["SalesItemLineDetail"]["Qty"].asDouble() == 12.0);
  CHECK(there["Line"][0]["SalesItemLineDetail"]["UnitPrice"].asDouble() == 4.5);
  CHECK(there["Line"][1]["Amount"].asDouble() == 67.5);
  CHECK(there["Line"][1]["SalesItemLineDetail"]["Qty"].asDouble() == 0.75);
  CHECK(there["Line"][1]["SalesItemLineDetail"]["UnitPrice"].asDouble() == 90.0);
  CHECK(ours["total_amount"].asInt64() == 14702);
  CHECK(there["TotalAmt"].asDouble() == 147.02);
  const auto created = c.qbo.requests("POST", "/invoice?");
  REQUIRE(created.size() == 1);
  CHECK(created[0].target.find("requestid=psahost-i-" + ours["id"].asString()) !=
        std::string::npos);
  CHECK(created[0].body.find(R"("Amount":54.00)") != std::string::npos);
  CHECK(c.qbo.customers().size() == 1);  // the linked customer, not a new one
  REQUIRE(eventually([&] {
    return invoice_of(c.api, ours["id"].asString())["external_ids"]["quickbooks"] == there["Id"];
  }));

  const std::string payment = c.qbo.pay(there["Id"].asString());
  const auto paid = c.deliver(QuickBooksFake::cloud_event("payment", payment, "created"),
                              "application/cloudevents+json");
  INFO(paid.toStyledString());
  CHECK(paid["outcome"][0]["outcome"] == "applied");
  CHECK(invoice_of(c.api, ours["id"].asString())["status"] == "paid");
  // The same payment told again changes nothing.
  const auto again = c.deliver(QuickBooksFake::notification("Payment", payment, "Update"));
  CHECK(again["status"] == "processed");
  CHECK(again["outcome"].empty());

  CHECK(c.qbo.tokens().refreshes() >= 5);
  CHECK(c.qbo.tokens().refused_refreshes() == 0);
}

TEST_CASE(
    "a client QuickBooks does not know gets one customer, which it is linked to and its next "
    "invoice goes to",
    "[connectors][quickbooks]") {
  Company c;
  const std::string client = c.api.create_client("Fabrikam", true);
  REQUIRE(c.api
              .put("/v1/clients/" + client + "/billing-info",
                   R"({"business_name":"Fabrikam BV","email":"ap@fabrikam.example",
      "phone":"+31 20 555 0100","address":{"street":"Dam","number":"1","city":"Amsterdam",
      "zip":"1012JS","country":"NL"},"currency":"EUR","tax_rate":"21.00",
      "payment_terms_days":14,"invoice_delivery":"email"})")
              .status == 200);
  verify_numbering(c.api);
  const Json::Value first = issue_invoice(c.api, client);
  settled_deliveries(c.api, "request", 1);
  const Json::Value second = issue_invoice(c.api, client, 5000, 3);
  settled_deliveries(c.api, "request", 2);

  const Json::Value customers = c.qbo.customers();
  REQUIRE(customers.size() == 1);
  const Json::Value& customer = customers[0];
  CHECK(customer["DisplayName"] == "Fabrikam BV");
  CHECK(customer["PrimaryEmailAddr"]["Address"] == "ap@fabrikam.example");
  CHECK(customer["BillAddr"]["Line1"] == "Dam 1");
  CHECK(customer["BillAddr"]["PostalCode"] == "1012JS");
  CHECK(c.qbo.requests("POST", "/customer?").size() == 1);
  CHECK(c.api.get("/v1/clients/" + client).json()["external_ids"]["quickbooks"] == customer["Id"]);
  for (const auto& ours : {first, second}) {
    const Json::Value there = c.qbo.invoices_numbered(ours["number"].asString());
    REQUIRE(there.size() == 1);
    CHECK(there[0]["CustomerRef"]["value"] == customer["Id"]);
  }
  CHECK(c.qbo.invoices_numbered(second["number"].asString())[0]["TotalAmt"].asDouble() == 181.5);
}

TEST_CASE(
    "the numbering check shows QuickBooks' newest DocNumber and proposes the next, and says "
    "why when QuickBooks is down",
    "[connectors][quickbooks][numbering]") {
  Company c;
  const std::string year = this_year();
  c.qbo.add_invoice(json_of(R"({"DocNumber":"INV-)" + year + R"(-00040","TotalAmt":10.0})"));
  c.qbo.add_invoice(json_of(R"({"DocNumber":"INV-)" + year + R"(-00041","TotalAmt":10.0})"));
  const Json::Value v = c.api.get("/v1/invoice-numbering").json();
  INFO(v.toStyledString());
  REQUIRE(v["accounting"].size() == 1);
  CHECK(v["accounting"][0]["system"] == "quickbooks");
  CHECK(v["accounting"][0]["last_number"] == "INV-" + year + "-00041");
  CHECK(v["accounting"][0]["seq"].asInt64() == 41);
  CHECK(v["proposed_next_number"].asInt64() == 42);

  c.qbo.faults().add({"GET", "/query", 10, Fault::Kind::status, 503, "down"});
  const Json::Value down = c.api.get("/v1/invoice-numbering").json();
  CHECK(down["accounting"][0]["error"].asString().find("503") != std::string::npos);
}

TEST_CASE(
    "psahost connections test reaches the QuickBooks company with the refresh token the "
    "running host rotated, and says what is wrong when it cannot",
    "[connectors][quickbooks][cli]") {
  Company c;
  c.qbo.tokens().set_expires_in(60);
  // The running host refreshes (and stores the rotated token) for the numbering check.
  REQUIRE(c.api.get("/v1/invoice-numbering").json()["accounting"][0]["error"].isNull());
  REQUIRE(c.qbo.tokens().refreshes() == 1);
  const std::vector<std::string> args{
      "connections", "test", "--data-dir",    c.api.server().data_dir().string(),
      "--name",      "qbo",  "--outbound-ca", c.qbo.receiver().ca_file().string()};
  const auto ok = run_cli(args);
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("ok      qbo: QuickBooks company Larry's Bakery (realm 9130354321)") !=
        std::string::npos);
  CHECK(c.qbo.tokens().refreshes() == 2);
  CHECK(c.qbo.tokens().refused_refreshes() == 0);
  // The secrets never show.
  CHECK(ok.out.find("qbo-client-secret") == std::string::npos);
  CHECK(ok.out.find("rt-") == std::string::npos);

  add_connection(c.api.server().data_dir(), "quickbooks", "qbo-other", "another-verifier-token",
                 {"--base-url", c.qbo.origin(), "--settings", R"({"realm_id":"1234"})"});
  auto other = args;
  other[5] = "qbo-other";
  const auto failed = run_cli(other);
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code == 1);
  CHECK(failed.out.find("FAILED  qbo-other: QuickBooks answered 401") != std::string::npos);
}

// A customer merged into another, in the two shapes Intuit publishes: the CloudEvents example of
// "Customer merged" on developer.intuit.com (QuickBooks Online > Webhooks > Understanding the
// data object: type qbo.customer.merged.v1, intuitentityid the survivor, data.deletedid the
// merged-away customer), and the classic eventNotifications entity with operation "Merge" and
// deletedId.
TEST_CASE(
    "a QuickBooks customer merge moves the client's link from the merged-away customer to the "
    "survivor, in either shape",
    "[connectors][quickbooks]") {
  Company c;
  c.qbo.add_customer(contoso_customer());  // 58
  const std::string client = c.api.create_client("Contoso", false);
  REQUIRE(c.api.put("/v1/clients/" + client + "/billing-info", R"({"debtor_code":"58"})").status ==
          200);
  REQUIRE(c.deliver(QuickBooksFake::notification("Customer", "58", "Update"))["status"] ==
          "processed");
  REQUIRE(c.api.get("/v1/clients/" + client).json()["external_ids"]["quickbooks"] == "58");

  Json::Value group = contoso_customer();
  group.removeMember("Id");
  group["DisplayName"] = "Contoso Group";
  group["CompanyName"] = "Contoso Group";
  const std::string survivor = c.qbo.add_customer(group);
  const std::string merged =
      R"([{"specversion":"1.0","id":"b5e0c7a2-51f3-4c2e-9d1a-0f7e3c2b1a90-Customer-)" + survivor +
      R"(","source":"intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",)"
      R"("type":"qbo.customer.merged.v1","datacontenttype":"application/json",)"
      R"("time":"2026-12-04T15:25:05Z","intuitentityid":")" +
      survivor + R"(","intuitaccountid":")" + QuickBooksFake::kRealm +
      R"(","data":{"deletedid":"58"}}])";
  const auto entry = c.deliver(merged, "application/cloudevents+json");
  INFO(entry.toStyledString());
  REQUIRE(entry["status"] == "processed");
  REQUIRE(entry["outcome"].size() == 2);
  CHECK(entry["outcome"][0]["op"] == "external_ref.link");
  CHECK(entry["outcome"][1]["object_id"] == client);
  CHECK(c.api.get("/v1/clients/" + client).json()["external_ids"]["quickbooks"] == survivor);
  CHECK(c.api.get("/v1/clients/" + client + "/billing-info").json()["business_name"] ==
        "Contoso Group");
  // Its debtor code was the merged-away customer's id: it is the survivor's now.
  CHECK(c.api.get("/v1/clients/" + client + "/billing-info").json()["debtor_code"] == survivor);

  // The classic shape: an eventNotifications entity with operation "Merge" and deletedId.
  const auto classic_merge = [](const std::string& into, const std::string& away) {
    return R"({"eventNotifications":[{"realmId":")" + std::string(QuickBooksFake::kRealm) +
           R"(","dataChangeEvent":{"entities":[{"name":"Customer","id":")" + into +
           R"(","operation":"Merge","lastUpdated":"2026-12-04T15:30:00.000Z","deletedId":")" +
           away + R"("}]}}]})";
  };
  const auto another_customer = [&](const char* name) {
    Json::Value customer = group;
    customer["DisplayName"] = name;
    customer["CompanyName"] = name;
    return c.qbo.add_customer(customer);
  };
  // The survivor merged again, into a third customer.
  const std::string third = another_customer("Contoso Holding");
  const auto again = c.deliver(classic_merge(third, survivor));
  INFO(again.toStyledString());
  REQUIRE(again["status"] == "processed");
  CHECK(c.api.get("/v1/clients/" + client).json()["external_ids"]["quickbooks"] == third);
  CHECK(c.api.get("/v1/clients/" + client + "/billing-info").json()["debtor_code"] == third);

  // A debtor code the partner chose is theirs: a merge moves the link, not the code.
  REQUIRE(
      c.api.put("/v1/clients/" + client + "/billing-info", R"({"debtor_code":"D-1001"})").status ==
      200);
  const std::string fourth = another_customer("Contoso Worldwide");
  REQUIRE(c.deliver(classic_merge(fourth, third))["status"] == "processed");
  CHECK(c.api.get("/v1/clients/" + client).json()["external_ids"]["quickbooks"] == fourth);
  CHECK(c.api.get("/v1/clients/" + client + "/billing-info").json()["debtor_code"] == "D-1001");
  // A merge of customers no client is linked to changes nothing and waits for nothing.
  const auto nothing = c.deliver(classic_merge(third, "9999"));
  INFO(nothing.toStyledString());
  CHECK(nothing["status"] == "processed");
  CHECK(c.api.get("/v1/clients/" + client).json()["external_ids"]["quickbooks"] == fourth);
}
