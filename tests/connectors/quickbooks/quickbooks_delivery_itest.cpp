// Pushing invoices to QuickBooks when things go wrong: replays create nothing twice, a duplicate
// number fails once with the reason, 500s, garbage and lost answers are retried or looked up and
// never duplicate, and notifications that come before their record, or for another company, or
// for a voided invoice, do what they should.
#include "fakes/quickbooks_fake.hpp"
#include "support/accounting.hpp"
#include "support/billing.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

namespace {

// A company, a host connected to it, and a client with complete billing info whose customer
// QuickBooks has by name.
struct Pushing {
  QuickBooksFake qbo;
  ApiSession api;
  std::string client, customer;
  explicit Pushing(const std::vector<std::string>& extra = {})
      : api(accounting_serve_args(qbo.receiver(), extra)) {
    add_connection(api.server().data_dir(), "quickbooks", "qbo", QuickBooksFake::kVerifierToken,
                   qbo.connection_args());
    customer = qbo.add_customer(json_of(R"({"DisplayName":"Contoso Ltd"})"));
    client = api.create_client("Contoso", true);
    verify_numbering(api);
  }
  Json::Value deliver(const std::string& body) {
    return deliver_webhook(api, "qbo", body, QuickBooksFake::signed_headers(body));
  }
  // The QuickBooks invoice our invoice became, once its id is stored here.
  std::string pushed(const Json::Value& ours) {
    std::string id;
    REQUIRE(eventually([&] {
      id = invoice_of(api, ours["id"].asString())["external_ids"]["quickbooks"].asString();
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
    "pushing an invoice to QuickBooks again creates nothing twice, whether the push or its "
    "request is replayed",
    "[connectors][quickbooks][delivery]") {
  Pushing p;
  const Json::Value ours = issue_invoice(p.api, p.client);
  const Json::Value first = settled_deliveries(p.api, "request", 1);
  REQUIRE(first[0]["status"] == "delivered");
  const std::string id = p.pushed(ours);
  CHECK(p.qbo.invoice(id)["CustomerRef"]["value"] == p.customer);

  // The push again: it finds the invoice by its number and reads it instead of creating it.
  p.replay(settled_deliveries(p.api, "sync", 1)[0]);
  const Json::Value after_push = settled_deliveries(p.api, "request", 2);
  CHECK(after_push[1]["request"]["method"] == "GET");
  CHECK(after_push[1]["status"] == "delivered");
  // The create again, with its requestid: QuickBooks answers what it answered the first time.
  p.replay(first[0]);
  REQUIRE(eventually([&] { return p.qbo.requests("POST", "/invoice?").size() == 2; }));
  const Json::Value again = settled_deliveries(p.api, "request", 2);
  CHECK(again[0]["status"] == "delivered");
  CHECK(p.qbo.invoices_numbered(ours["number"].asString()).size() == 1);
  CHECK(p.qbo.invoices().size() == 1);
  CHECK(p.qbo.customers().size() == 1);
}

TEST_CASE("QuickBooks refusing our number as a duplicate fails the delivery once, with the reason",
          "[connectors][quickbooks][delivery]") {
  Pushing p;
  const std::string next =
      p.api.get("/v1/invoice-numbering").json()["next_invoice_number"].asString();
  REQUIRE_FALSE(next.empty());
  const std::string someone = p.qbo.add_customer(json_of(R"({"DisplayName":"Someone Else"})"));
  p.qbo.add_invoice(json_of(R"({"DocNumber":")" + next + R"(","CustomerRef":{"value":")" + someone +
                            R"("},"TotalAmt":99.0})"));
  const Json::Value ours = issue_invoice(p.api, p.client);
  REQUIRE(ours["number"] == next);
  const Json::Value d = settled_deliveries(p.api, "request", 1)[0];
  INFO(d.toStyledString());
  CHECK(d["status"] == "failed");
  CHECK(d["attempts"].size() == 1);
  CHECK(d["last_error"].asString().find("already has another invoice numbered " + next) !=
        std::string::npos);
  CHECK(d["last_error"].asString().find("(6140)") != std::string::npos);
  CHECK(p.qbo.invoices_numbered(next).size() == 1);
  CHECK(invoice_of(p.api, ours["id"].asString())["external_ids"]["quickbooks"].isNull());
}

TEST_CASE(
    "500s and garbage from QuickBooks are retried and the invoice is created once, and psahost "
    "keeps serving",
    "[connectors][quickbooks][delivery]") {
  Pushing p;
  // The lookup before the create fails once: the push itself is tried again.
  p.qbo.faults().add({"GET", "/query", 1, Fault::Kind::status, 500, "{}"});
  p.qbo.faults().add({"POST", "/invoice?", 2, Fault::Kind::status, 500,
                      R"({"Fault":{"Error":[{"Message":"An application error has occurred",)"
                      R"("code":"10000"}],"type":"SystemFault"}})"});
  // Then QuickBooks creates it but answers something no one can read.
  p.qbo.faults().add({"POST", "/invoice?", 1, Fault::Kind::garbage, 200, "", true});
  const Json::Value ours = issue_invoice(p.api, p.client);
  const Json::Value pushes = settled_deliveries(p.api, "sync", 1);
  CHECK(pushes[0]["status"] == "delivered");
  CHECK(pushes[0]["attempts"].size() == 2);
  const Json::Value d = settled_deliveries(p.api, "request", 1)[0];
  INFO(d.toStyledString());
  CHECK(d["status"] == "delivered");
  CHECK(d["attempts"].size() == 3);
  CHECK(d["attempts"][0]["status"] == 500);
  CHECK(d["attempts"][2]["status"] == 200);
  const std::string id = p.pushed(ours);
  CHECK(p.qbo.invoices_numbered(ours["number"].asString()).size() == 1);
  CHECK(p.qbo.invoice(id)["DocNumber"] == ours["number"]);
  CHECK(p.api.get("/healthz").status == 200);
}

TEST_CASE(
    "an answer QuickBooks never sends for an invoice it created is looked up by number, and "
    "the invoice is not sent again",
    "[connectors][quickbooks][delivery]") {
  Pushing p({"--delivery-timeout-ms", "500"});
  p.qbo.faults().add({"POST", "/invoice?", 1, Fault::Kind::no_answer, 0, "", true});
  const Json::Value ours = issue_invoice(p.api, p.client);
  const Json::Value d = settled_deliveries(p.api, "request", 1)[0];
  INFO(d.toStyledString());
  CHECK(d["status"] == "delivered");
  CHECK(d["attempts"].size() == 1);
  CHECK(d["attempts"][0]["status"].isNull());
  p.pushed(ours);
  CHECK(p.qbo.requests("POST", "/invoice?").size() == 1);
  CHECK(p.qbo.invoices().size() == 1);
}

TEST_CASE(
    "an invoice QuickBooks made while its answer was lost, sent again after it forgot the "
    "requestid, is found as ours behind the duplicate number and not failed",
    "[connectors][quickbooks][delivery]") {
  Pushing p({"--delivery-timeout-ms", "500"});
  p.qbo.keep_request_ids(false);
  p.qbo.faults().add({"POST", "/invoice?", 1, Fault::Kind::no_answer, 0, "", true});
  // The look-up after the lost answer (the second invoice query; the push made the first) fails
  // too, so the invoice is sent again.
  p.qbo.faults().add({"GET", "FROM%20Invoice", 1, Fault::Kind::status, 503, "{}", false, 1});
  const Json::Value ours = issue_invoice(p.api, p.client);
  const Json::Value d = settled_deliveries(p.api, "request", 1)[0];
  INFO(d.toStyledString());
  CHECK(d["status"] == "delivered");
  REQUIRE(d["attempts"].size() == 2);
  CHECK(d["attempts"][0]["status"].isNull());
  CHECK(d["attempts"][1]["status"] == 400);
  const std::string id = p.pushed(ours);
  CHECK(p.qbo.requests("POST", "/invoice?").size() == 2);
  REQUIRE(p.qbo.invoices().size() == 1);
  CHECK(p.qbo.invoice(id)["DocNumber"] == ours["number"]);
}

TEST_CASE("a payment QuickBooks does not show yet waits, then marks the invoice paid once it does",
          "[connectors][quickbooks][webhooks]") {
  Pushing p({"--inbox-backoff-ms", "300"});
  const Json::Value ours = issue_invoice(p.api, p.client);
  const std::string invoice = p.pushed(ours);
  const std::string payment = p.qbo.next_id();
  const std::string body = QuickBooksFake::notification("Payment", payment, "Create");
  REQUIRE(p.api.client().post("/webhooks/qbo", body, QuickBooksFake::signed_headers(body)).status ==
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
  CHECK(entry["last_error"].asString().find("does not show payment " + payment) !=
        std::string::npos);
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "issued");

  REQUIRE(p.qbo.pay(invoice) == payment);
  const Json::Value done = settled_entry(p.api, entry["id"].asInt64());
  CHECK(done["status"] == "processed");
  CHECK(done["outcome"][0]["outcome"] == "applied");
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "paid");
}

TEST_CASE(
    "an invoice voided in QuickBooks voids ours, and a notification for another company "
    "changes nothing",
    "[connectors][quickbooks][webhooks]") {
  Pushing p;
  const Json::Value ours = issue_invoice(p.api, p.client);
  const std::string invoice = p.pushed(ours);
  p.qbo.void_invoice(invoice);
  const Json::Value other =
      p.deliver(QuickBooksFake::notification("Invoice", invoice, "Void", "4620816365179422850"));
  CHECK(other["status"] == "processed");
  CHECK(other["outcome"].empty());
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "issued");

  const Json::Value voided = p.deliver(QuickBooksFake::notification("Invoice", invoice, "Void"));
  INFO(voided.toStyledString());
  CHECK(voided["outcome"][0]["outcome"] == "applied");
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "void");
  // A voided invoice shows no balance, which is not a payment.
  const Json::Value updated = p.deliver(QuickBooksFake::notification("Invoice", invoice, "Update"));
  CHECK(updated["outcome"].empty());
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "void");
}

TEST_CASE("a void that comes while the push's answer is lost waits for the link, then voids ours",
          "[connectors][quickbooks][webhooks]") {
  Pushing p({"--delivery-timeout-ms", "1500", "--inbox-backoff-ms", "100"});
  p.qbo.faults().add({"POST", "/invoice?", 1, Fault::Kind::no_answer, 0, "", true});
  const Json::Value ours = issue_invoice(p.api, p.client);
  const std::string number = ours["number"].asString();
  REQUIRE(eventually([&] { return p.qbo.invoices_numbered(number).size() == 1; }));
  const std::string invoice = p.qbo.invoices_numbered(number)[0]["Id"].asString();
  p.qbo.void_invoice(invoice);
  const std::string body = QuickBooksFake::notification("Invoice", invoice, "Void");
  REQUIRE(p.api.client().post("/webhooks/qbo", body, QuickBooksFake::signed_headers(body)).status ==
          200);
  Json::Value entry;
  REQUIRE(eventually([&] {
    const auto items = inbox(p.api);
    if (items.empty()) return false;
    entry = items[0];
    return entry["attempts"].asInt() >= 1;
  }));
  INFO(entry.toStyledString());
  CHECK(entry["last_error"].asString().find("waiting for invoice " + number) != std::string::npos);
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "issued");

  // The answer times out; the voided invoice no longer has our total, so the lookup cannot
  // claim it, and the create goes again with its requestid: QuickBooks answers the first answer.
  CHECK(p.pushed(ours) == invoice);
  const Json::Value done = settled_entry(p.api, entry["id"].asInt64());
  CHECK(done["status"] == "processed");
  CHECK(invoice_of(p.api, ours["id"].asString())["status"] == "void");
  CHECK(p.qbo.invoices().size() == 1);
}
