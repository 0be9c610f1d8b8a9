// Pushing invoices to Xero when things go wrong: replays create nothing twice, a duplicate
// number fails once with the reason, 500s, garbage and lost answers are retried or looked up and
// never duplicate; events that come before their record, for another organisation or for a
// voided invoice do what they should; and a currency without cents is sent as it is.
#include "fakes/xero_fake.hpp"
#include "support/accounting.hpp"
#include "support/billing.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

namespace {

// An organisation, a host connected to it, and a client with complete billing info whose
// contact Xero has by name.
struct Pushing {
  XeroFake xero;
  ApiSession api;
  std::string client, contact;
  explicit Pushing(const std::vector<std::string>& extra = {})
      : api(accounting_serve_args(xero.receiver(), extra)) {
    add_connection(api.server().data_dir(), "xero", "xero", XeroFake::kWebhookKey,
                   xero.connection_args());
    contact = xero.add_contact(json_of(R"({"Name":"Contoso Ltd"})"));
    client = api.create_client("Contoso", true);
    verify_numbering(api);
  }
  Json::Value deliver(const std::string& body) {
    return deliver_webhook(api, "xero", body, XeroFake::signed_headers(body));
  }
  std::string pushed(const Json::Value& ours) {
    std::string id;
    REQUIRE(eventually([&] {
      id = invoice_of(api, ours["id"].asString())["external_ids"]["xero"].asString();
      return !id.empty();
    }));
    return id;
  }
  void replay(const Json::Value& delivery) {
    const auto r =
        api.post("/v1/deliveries/" + std::to_string(delivery["id"].asInt64()) + "/replay");
    INFO(r.body);
    REQUIRE(r.status == 200);
  }
};

}  // namespace

TEST_CASE(
    "pushing an invoice to Xero again creates nothing twice, whether the push or its request "
    "is replayed",
    "[connectors][xero][delivery]") {
  Pushing p;
  const Json::Value ours = issue_invoice(p.api, p.client);
  const Json::Value first = settled_deliveries(p.api, "request", 1);
  REQUIRE(first[0]["status"] == "delivered");
  CHECK(first[0]["request"]["method"] == "PUT");
  p.pushed(ours);

  p.replay(settled_deliveries(p.api, "sync", 1)[0]);
  const Json::Value after_push = settled_deliveries(p.api, "request", 2);
  CHECK(after_push[1]["request"]["method"] == "GET");
  CHECK(after_push[1]["status"] == "delivered");
  // The create again, with its Idempotency-Key: Xero answers what it answered the first time.
  p.replay(first[0]);
  REQUIRE(eventually([&] { return p.xero.requests("PUT", "/Invoices").size() == 2; }));
  const Json::Value again = settled_deliveries(p.api, "request", 2);
  CHECK(again[0]["status"] == "delivered");
  const auto puts = p.xero.requests("PUT", "/Invoices");
  CHECK(puts[0].header("idempotency-key") == puts[1].header("idempotency-key"));
  CHECK(p.xero.invoices().size() == 1);
  CHECK(p.xero.contacts().size() == 1);
}

TEST_CASE("Xero refusing our number as not unique fails the delivery once, with the reason",
          "[connectors][xero][delivery]") {
  Pushing p;
  const std::string next =
      p.api.get("/v1/invoice-numbering").json()["next_invoice_number"].asString();
  const std::string someone = p.xero.add_contact(json_of(R"({"Name":"Someone Else"})"));
  p.xero.add_invoice(next, "2026-01-05", 99, someone);
  const Json::Value ours = issue_invoice(p.api, p.client);
  REQUIRE(ours["number"] == next);
  const Json::Value d = settled_deliveries(p.api, "request", 1)[0];
  INFO(d.toStyledString());
  CHECK(d["status"] == "failed");
  CHECK(d["attempts"].size() == 1);
  CHECK(d["last_error"].asString().find("already has another invoice numbered " + next) !=
        std::string::npos);
  CHECK(d["last_error"].asString().find("Invoice # must be unique.") != std::string::npos);
  CHECK(p.xero.invoices_numbered(next).size() == 1);
  CHECK(invoice_of(p.api, ours["id"].asString())["external_ids"]["xero"].isNull());
}

TEST_CASE(
    "500s and garbage from Xero are retried and the invoice is created once, and a lost "
    "answer is looked up instead of sent again",
    "[connectors][xero][delivery]") {
  SECTION("500s, then created with a garbage answer") {
    Pushing p;
    p.xero.faults().add({"GET", "/Invoices?", 1, Fault::Kind::status, 503, "{}"});
    p.xero.faults().add({"PUT", "/Invoices", 2, Fault::Kind::status, 500,
                         R"({"Title":"An error occurred","Status":500})"});
    p.xero.faults().add({"PUT", "/Invoices", 1, Fault::Kind::garbage, 200, "", true});
    const Json::Value ours = issue_invoice(p.api, p.client);
    CHECK(settled_deliveries(p.api, "sync", 1)[0]["attempts"].size() == 2);
    const Json::Value d = settled_deliveries(p.api, "request", 1)[0];
    INFO(d.toStyledString());
    CHECK(d["status"] == "delivered");
    CHECK(d["attempts"].size() == 3);
    p.pushed(ours);
    CHECK(p.xero.invoices().size() == 1);
    CHECK(p.api.get("/healthz").status == 200);
  }
  SECTION("no answer at all after the invoice was made") {
    Pushing p({"--delivery-timeout-ms", "500"});
    p.xero.faults().add({"PUT", "/Invoices", 1, Fault::Kind::no_answer, 0, "", true});
    const Json::Value ours = issue_invoice(p.api, p.client);
    const Json::Value d = settled_deliveries(p.api, "request", 1)[0];
    INFO(d.toStyledString());
    CHECK(d["status"] == "delivered");
    CHECK(d["attempts"].size() == 1);
    p.pushed(ours);
    CHECK(p.xero.requests("PUT", "/Invoices").size() == 1);
    CHECK(p.xero.invoices().size() == 1);
  }
}

TEST_CASE(
    "a contact event that comes before Xero shows the contact waits, then fills the client "
    "its account number names",
    "[connectors][xero][webhooks]") {
  Pushing p({"--inbox-backoff-ms", "300"});
  const std::string late = p.api.create_client("Tailspin", false);
  REQUIRE(p.api.put("/v1/clients/" + late + "/billing-info", R"({"debtor_code":"T-9"})").status ==
          200);
  const std::string contact = p.xero.next_id();
  const std::string body = XeroFake::event("CONTACT", contact, "CREATE");
  REQUIRE(p.api.client().post("/webhooks/xero", body, XeroFake::signed_headers(body)).status ==
          200);
  Json::Value entry;
  REQUIRE(eventually([&] {
    const auto items = inbox(p.api);
    if (items.empty()) return false;
    entry = items[0];
    return entry["attempts"].asInt() >= 1;
  }));
  INFO(entry.toStyledString());
  CHECK(entry["status"] == "pending");
  CHECK(entry["last_error"].asString().find("does not show contact " + contact) !=
        std::string::npos);
  REQUIRE(p.xero.add_contact(json_of(R"({"Name":"Tailspin Toys","AccountNumber":"T-9",
      "EmailAddress":"ap@tailspin.example"})")) == contact);
  const Json::Value done = settled_entry(p.api, entry["id"].asInt64());
  CHECK(done["status"] == "processed");
  CHECK(done["outcome"][0]["object_id"] == late);
  const Json::Value info = p.api.get("/v1/clients/" + late + "/billing-info").json();
  CHECK(info["email"] == "ap@tailspin.example");
  CHECK(info["business_name"] == "Tailspin Toys");
}

TEST_CASE(
    "an invoice voided in Xero voids ours, and events for another organisation change nothing",
    "[connectors][xero][webhooks]") {
  Pushing p;
  const Json::Value ours = issue_invoice(p.api, p.client);
  const std::string invoice = p.pushed(ours);
  p.xero.void_invoice(invoice);
  const Json::Value other = p.deliver(
      XeroFake::event("INVOICE", invoice, "UPDATE", "b0000000-0000-4000-8000-000000000001"));
  CHECK(other["status"] == "processed");
  CHECK(other["outcome"].empty());
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "issued");
  // Xero may send the event type in another case.
  const Json::Value voided = p.deliver(XeroFake::event("invoice", invoice, "Update"));
  INFO(voided.toStyledString());
  CHECK(voided["outcome"][0]["outcome"] == "applied");
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "void");
}

TEST_CASE("an invoice in a currency without minor units goes to Xero in whole units",
          "[connectors][xero][delivery]") {
  Pushing p;
  const std::string client = p.api.create_client("Nakatomi", true);
  REQUIRE(p.api
              .put("/v1/clients/" + client + "/billing-info",
                   R"({"business_name":"Nakatomi KK","email":"ap@nakatomi.example",
      "address":{"street":"Century","number":"2121","city":"Tokyo","zip":"100-0001",
      "country":"JP"},"currency":"JPY","tax_rate":"10.00","payment_terms_days":30,
      "invoice_delivery":"email"})")
              .status == 200);
  const Json::Value ours = issue_invoice(p.api, client, 12900, 2);
  CHECK(ours["currency"] == "JPY");
  p.pushed(ours);
  const auto puts = p.xero.requests("PUT", "/Invoices");
  REQUIRE(puts.size() == 1);
  CHECK(puts[0].body.find(R"("UnitAmount":12900})") != std::string::npos);
  CHECK(puts[0].body.find(R"("LineAmount":25800,)") != std::string::npos);
  CHECK(puts[0].body.find(R"("TaxAmount":2580,)") != std::string::npos);
  const Json::Value there = p.xero.invoices_numbered(ours["number"].asString())[0];
  CHECK(there["CurrencyCode"] == "JPY");
  CHECK(there["Total"].asDouble() == 28380.0);
}
