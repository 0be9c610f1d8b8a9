// The Xero connector against a local fake of the organisation's API: the intent-to-receive
// handshake, events verified with the webhook key as text, a contact's billing info on the
// client its debtor code names, a billing run's invoice pushed with our number and paid there,
// contacts made once, the numbering check and `psahost connections test`, all with refresh
// tokens that rotate.
#include "core/crypto.hpp"
#include "fakes/signing.hpp"
#include "fakes/xero_fake.hpp"
#include "support/accounting.hpp"
#include "support/billing.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

namespace {

struct Organisation {
  XeroFake xero;
  ApiSession api;
  explicit Organisation(const std::vector<std::string>& extra = {})
      : api(accounting_serve_args(xero.receiver(), extra)) {
    add_connection(api.server().data_dir(), "xero", "xero", XeroFake::kWebhookKey,
                   xero.connection_args());
  }
  Json::Value deliver(const std::string& body) {
    return deliver_webhook(api, "xero", body, XeroFake::signed_headers(body));
  }
};

Json::Value contoso_contact() {
  return json_of(R"({"Name":"Contoso Ltd","AccountNumber":"C-1001",
      "EmailAddress":"billing@contoso.example","TaxNumber":"NL123456789B01",
      "DefaultCurrency":"EUR","Website":"https://contoso.example",
      "PaymentTerms":{"Sales":{"Day":14,"Type":"DAYSAFTERBILLDATE"}},
      "Phones":[{"PhoneType":"DEFAULT","PhoneCountryCode":"31","PhoneAreaCode":"30",
                 "PhoneNumber":"123 4567"},{"PhoneType":"MOBILE","PhoneNumber":"06 1234"}],
      "Addresses":[{"AddressType":"STREET","AddressLine1":"Elsewhere 9","City":"Zeist",
                    "PostalCode":"3701AA","Country":"Netherlands"},
                   {"AddressType":"POBOX","AddressLine1":"Main 1","City":"Utrecht",
                    "PostalCode":"3511AA","Country":"Netherlands"}]})");
}

std::string this_year() {
  return period_from_now(0).substr(0, 4);
}

}  // namespace

TEST_CASE(
    "Xero's intent to receive: a correctly signed request without events is answered 200 "
    "with an empty body and no cookie, a mis-signed one 401",
    "[connectors][xero][webhooks]") {
  Organisation o;
  const std::string check = XeroFake::intent_to_receive();
  const auto good = o.api.client().post("/webhooks/xero", check, XeroFake::signed_headers(check));
  CHECK(good.status == 200);
  CHECK(good.body.empty());
  CHECK(good.header("set-cookie").empty());
  // Xero's deliberately wrong signature, a missing one, and the key decoded from the base64 it
  // looks like (Xero signs with its text) are all refused.
  const std::string other = XeroFake::intent_to_receive();
  CHECK(o.api.client()
            .post("/webhooks/xero", other, XeroFake::signed_headers(other, "not-the-key"))
            .status == 401);
  CHECK(
      o.api.client().post("/webhooks/xero", other, {{"content-type", "application/json"}}).status ==
      401);
  std::string decoded;
  REQUIRE(psahost::crypto::base64_decode(XeroFake::kWebhookKey, decoded));
  CHECK(o.api.client()
            .post("/webhooks/xero", other,
                  {{"x-xero-signature", hmac_sha256_base64(decoded, other)},
                   {"content-type", "application/json"}})
            .status == 401);
  // Even with no events the signature is checked over the raw body.
  CHECK(
      o.api.client().post("/webhooks/xero", check + " ", XeroFake::signed_headers(check)).status ==
      401);

  // An event, sent twice as Xero does when it did not hear back: stored once.
  const std::string event = XeroFake::event("CONTACT", "00000000-0000-4000-8000-000000000999");
  CHECK(o.api.client().post("/webhooks/xero", event, XeroFake::signed_headers(event)).status ==
        200);
  CHECK(o.api.client().post("/webhooks/xero", event, XeroFake::signed_headers(event)).status ==
        200);
  CHECK(inbox(o.api).size() == 2);  // the check and the event
  const auto entry = settled_entry(o.api, inbox(o.api)[0]["id"].asInt64());
  CHECK(entry["status"] == "processed");
  CHECK(entry["outcome"].empty());
}

TEST_CASE(
    "the full Xero loop: a contact's details fill the client its debtor code names, a billing "
    "run's invoice arrives with our number for that contact, and its payment marks ours paid",
    "[connectors][xero][billing]") {
  Organisation o;
  o.xero.tokens().set_expires_in(60);
  const std::string contact = o.xero.add_contact(contoso_contact());
  const std::string client = o.api.create_client("Contoso", false);
  REQUIRE(
      o.api.put("/v1/clients/" + client + "/billing-info", R"({"debtor_code":"C-1001"})").status ==
      200);

  const auto entry = o.deliver(XeroFake::event("CONTACT", contact));
  INFO(entry.toStyledString());
  REQUIRE(entry["status"] == "processed");
  CHECK(entry["outcome"][0]["outcome"] == "applied");
  CHECK(entry["outcome"][0]["object_id"] == client);
  Json::Value info = o.api.get("/v1/clients/" + client + "/billing-info").json();
  INFO(info.toStyledString());
  CHECK(info["business_name"] == "Contoso Ltd");
  CHECK(info["email"] == "billing@contoso.example");
  CHECK(info["vat_number"] == "NL123456789B01");
  CHECK(info["phone"] == "+31 30 123 4567");
  CHECK(info["website"] == "https://contoso.example");
  // The postal address, which is where invoices go.
  CHECK(info["address"]["street"] == "Main 1");
  CHECK(info["address"]["city"] == "Utrecht");
  CHECK(info["address"]["country"] == "NL");
  CHECK(info["currency"] == "EUR");
  CHECK(info["payment_terms_days"] == 14);
  CHECK(info["debtor_code"] == "C-1001");
  CHECK_FALSE(info["complete"].asBool());
  CHECK(o.api.get("/v1/clients/" + client).json()["external_ids"]["xero"] == contact);

  // Xero keeps no tax rate or delivery for a contact: the partner adds them.
  info.removeMember("complete");
  info.removeMember("missing");
  info["tax_rate"] = "21.00";
  info["invoice_delivery"] = "email";
  info["roundup_minutes"] = 10;
  const auto completed =
      o.api.put("/v1/clients/" + client + "/billing-info", info.toStyledString());
  INFO(completed.body);
  REQUIRE(completed.status == 200);
  REQUIRE(completed.json()["complete"].asBool());

  put_labour_catalog(o.api);
  verify_numbering(o.api);
  const std::string period = period_from_now(0);
  active_contract(o.api, client,
                  R"("contact_email":"it@contoso.example","start_date":")" + day_of(period, 1) +
                      R"(","invoice_interval":"monthly","when_to_bill":"upfront",)"
                      R"("parts":[{"description":"Backup","quantity":12,"price":450}])");
  approved_time(o.api, client, 10);
  const Json::Value run = run_billing(o.api, period);
  const Json::Value item = run_item(run, client);
  INFO(run.toStyledString());
  REQUIRE(item["outcome"] == "issued");
  const Json::Value ours = invoice_of(o.api, item["invoice_id"].asString());
  const std::string number = ours["number"].asString();

  REQUIRE(eventually([&] { return o.xero.invoices_numbered(number).size() == 1; },
                     std::chrono::seconds(20)));
  const Json::Value there = o.xero.invoices_numbered(number)[0];
  INFO(there.toStyledString());
  CHECK(there["Type"] == "ACCREC");
  CHECK(there["Contact"]["ContactID"] == contact);
  CHECK(there["CurrencyCode"] == "EUR");
  CHECK(there["Status"] == "AUTHORISED");
  CHECK(there["LineAmountTypes"] == "Exclusive");
  CHECK(there["DateString"] == ours["issue_date"].asString() + "T00:00:00");
  CHECK(there["DueDateString"] == ours["due_date"].asString() + "T00:00:00");
  REQUIRE(there["LineItems"].size() == 2);
  const Json::Value& part = there["LineItems"][0];
  CHECK(part["Quantity"].asDouble() == 12.0);
  CHECK(part["UnitAmount"].asDouble() == 4.5);
  CHECK(part["LineAmount"].asDouble() == 54.0);
  CHECK(part["TaxAmount"].asDouble() == 11.34);
  CHECK(part["AccountCode"] == "200");
  CHECK(part["TaxType"] == "OUTPUT");
  // Ten minutes are no exact number of hours: one line of the exact amount, which says what it
  // was made of.
  const Json::Value& time = there["LineItems"][1];
  CHECK(time["Quantity"].asDouble() == 1.0);
  CHECK(time["UnitAmount"].asDouble() == 15.0);
  CHECK(time["Description"].asString().find("(10 min at 90.00/h)") != std::string::npos);
  CHECK(ours["total_amount"].asInt64() == 8349);
  CHECK(there["Total"].asDouble() == 83.49);
  const auto created = o.xero.requests("PUT", "/Invoices");
  REQUIRE(created.size() == 1);
  CHECK(created[0].header("idempotency-key") == "psahost-i-" + ours["id"].asString());
  CHECK(created[0].body.find(R"("UnitAmount":4.50)") != std::string::npos);
  CHECK(o.xero.contacts().size() == 1);
  REQUIRE(eventually([&] {
    return invoice_of(o.api, ours["id"].asString())["external_ids"]["xero"] == there["InvoiceID"];
  }));

  o.xero.pay(there["InvoiceID"].asString());
  const auto paid = o.deliver(XeroFake::event("INVOICE", there["InvoiceID"].asString()));
  INFO(paid.toStyledString());
  CHECK(paid["outcome"][0]["outcome"] == "applied");
  CHECK(invoice_of(o.api, ours["id"].asString())["status"] == "paid");

  CHECK(o.xero.tokens().refreshes() >= 5);
  CHECK(o.xero.tokens().refused_refreshes() == 0);
}

TEST_CASE(
    "a client Xero does not know gets one contact, with its debtor code as account number, "
    "which it is linked to and its next invoice goes to",
    "[connectors][xero]") {
  Organisation o;
  const std::string client = o.api.create_client("Fabrikam", true);
  REQUIRE(o.api
              .put("/v1/clients/" + client + "/billing-info",
                   R"({"business_name":"Fabrikam BV","email":"ap@fabrikam.example",
      "debtor_code":"F-77","address":{"street":"Dam","number":"1","city":"Amsterdam",
      "zip":"1012JS","country":"NL"},"currency":"EUR","tax_rate":"21.00",
      "payment_terms_days":14,"invoice_delivery":"email"})")
              .status == 200);
  verify_numbering(o.api);
  const Json::Value first = issue_invoice(o.api, client);
  settled_deliveries(o.api, "request", 1);
  const Json::Value second = issue_invoice(o.api, client, 5000, 3);
  settled_deliveries(o.api, "request", 2);

  const Json::Value contacts = o.xero.contacts();
  REQUIRE(contacts.size() == 1);
  const Json::Value& contact = contacts[0];
  CHECK(contact["Name"] == "Fabrikam BV");
  CHECK(contact["AccountNumber"] == "F-77");
  CHECK(contact["Addresses"][0]["AddressLine1"] == "Dam 1");
  const auto made = o.xero.requests("PUT", "/Contacts");
  REQUIRE(made.size() == 1);
  CHECK(made[0].header("idempotency-key") == "psahost-c-" + client);
  CHECK(o.api.get("/v1/clients/" + client).json()["external_ids"]["xero"] == contact["ContactID"]);
  for (const auto& ours : {first, second}) {
    const Json::Value there = o.xero.invoices_numbered(ours["number"].asString());
    REQUIRE(there.size() == 1);
    CHECK(there[0]["Contact"]["ContactID"] == contact["ContactID"]);
  }
}

TEST_CASE(
    "the numbering check shows the number of Xero's newest sales invoice and proposes the next",
    "[connectors][xero][numbering]") {
  Organisation o;
  const std::string year = this_year();
  const std::string someone = o.xero.add_contact(json_of(R"({"Name":"Someone"})"));
  o.xero.add_invoice("INV-" + year + "-00039", year + "-01-05", 10, someone);
  // Of the newest date, the latest number, whichever was made last.
  o.xero.add_invoice("INV-" + year + "-00041", year + "-01-20", 10, someone);
  o.xero.add_invoice("INV-" + year + "-00040", year + "-01-20", 10, someone);
  const Json::Value v = o.api.get("/v1/invoice-numbering").json();
  INFO(v.toStyledString());
  REQUIRE(v["accounting"].size() == 1);
  CHECK(v["accounting"][0]["system"] == "xero");
  CHECK(v["accounting"][0]["last_number"] == "INV-" + year + "-00041");
  CHECK(v["proposed_next_number"].asInt64() == 42);
  const auto asked = o.xero.requests("GET", "/Invoices?");
  REQUIRE_FALSE(asked.empty());
  CHECK(asked.back().header("xero-tenant-id") == XeroFake::kTenantId);
}

TEST_CASE(
    "psahost connections test reaches the Xero organisation with the refresh token the "
    "running host rotated, and says what is wrong when it cannot",
    "[connectors][xero][cli]") {
  Organisation o;
  o.xero.tokens().set_expires_in(60);
  REQUIRE(o.api.get("/v1/invoice-numbering").json()["accounting"][0]["error"].isNull());
  REQUIRE(o.xero.tokens().refreshes() == 1);
  const std::vector<std::string> args{
      "connections", "test", "--data-dir",    o.api.server().data_dir().string(),
      "--name",      "xero", "--outbound-ca", o.xero.receiver().ca_file().string()};
  const auto ok = run_cli(args);
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("ok      xero: Xero organisation Demo Company (NZ) answered") !=
        std::string::npos);
  CHECK(o.xero.tokens().refreshes() == 2);
  CHECK(o.xero.tokens().refused_refreshes() == 0);

  // Another organisation's id: the token is good, the tenant is not this app's.
  auto connection = o.xero.connection_args();
  connection[3] = R"({"tenant_id":"b0000000-0000-4000-8000-000000000001"})";
  add_connection(o.api.server().data_dir(), "xero", "xero-other", "another-webhook-key",
                 connection);
  auto other = args;
  other[5] = "xero-other";
  const auto failed = run_cli(other);
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code == 1);
  CHECK(failed.out.find("FAILED  xero-other: Xero answered 403") != std::string::npos);
}
