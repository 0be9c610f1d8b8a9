// ConnectWise callbacks against the real binary and a fake ConnectWise site: the signature
// checked with the key from the callback's key_url (only on the connection's own site), repeats
// stored once, companies, tickets and time entries synced in any order, and an approval made in
// ConnectWise judged by our billing gate, with the refusal written back on the ticket.
#include "connectors/connectwise/site.hpp"
#include "support/billing.hpp"
#include "support/sqlite_file.hpp"

using namespace psahost::test;

TEST_CASE(
    "a ConnectWise callback signed with its key_url's key is stored once and becomes a client",
    "[connectwise]") {
  ConnectWiseSite site;
  const Json::Value company = cw_company(250, "Contoso Ltd");
  site.cw.put("companies", company);
  const std::string body = site.cw.callback("company", "added", company, "msg-250-1");
  const auto first = site.deliver(body);
  INFO(first.body);
  CHECK(first.status == 200);
  // ConnectWise documents no retry policy: the same MessageId again, even re-serialised, is
  // acknowledged and stored once.
  CHECK(site.deliver(body).status == 200);
  Json::Value resent = json_of(body);
  resent["FromUrl"] = site.cw.base_url() + "/";
  CHECK(site.deliver(psa::json::write(resent)).status == 200);

  const auto entries = site.settled();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["status"].asString() == "processed");
  CHECK(entries[0]["dedupe_key"].asString().find("msg-250-1") != std::string::npos);
  // The key was fetched once and kept for its URL.
  CHECK(site.cw.key_fetches() == 1);
  const Json::Value client = site.client_of("250");
  REQUIRE(client.isObject());
  CHECK(client["name"].asString() == "Contoso Ltd");
  CHECK(client["type"].asString() == "customer");
  CHECK(client["status"].asString() == "active");
}

TEST_CASE("a wrong signature is 401, and a key_url off the connection's site is 401 unfetched",
          "[connectwise]") {
  ConnectWiseSite site;
  Receiver elsewhere;  // an address an attacker would like the host to fetch
  const Json::Value company = cw_company(251, "Fabrikam Inc");
  const std::string body = site.cw.callback("company", "added", company, "msg-251");

  const auto wrong = site.api.client().post(
      "/webhooks/cw", body, ConnectWiseFake::signed_headers(body, "another-signing-key"));
  CHECK(wrong.status == 401);
  CHECK(wrong.json()["type"].asString() == "urn:psahost:problem:invalid-signature");
  CHECK(site.api.client()
            .post("/webhooks/cw", body + " ", ConnectWiseFake::signed_headers(body))
            .status == 401);
  CHECK(
      site.api.client().post("/webhooks/cw", body, {{"content-type", "application/json"}}).status ==
      401);
  const int fetched = site.cw.key_fetches();

  // Correctly signed for the key at another origin: refused before anything is fetched there.
  for (const std::string& url :
       {elsewhere.url("/v4_6_release/apis/3.0/system/callbackentry/key/7"),
        std::string("https://127.0.0.1:1/v4_6_release/apis/3.0/system/callbackentry/key/7"),
        "http" + site.cw.key_url().substr(5)}) {
    const std::string forged = site.cw.callback("company", "added", company, "msg-forged", url);
    const auto r = site.deliver(forged);
    INFO(url << ": " << r.body);
    CHECK(r.status == 401);
  }
  CHECK(elsewhere.count() == 0);
  CHECK(site.cw.key_fetches() == fetched);
  CHECK(site.inbox().empty());
  CHECK(site.client_of("251").isNull());
}

// A real sandbox callback carries its key_url on another host than the one its records link
// to (sandbox-na vs na.myconnectwise.net). Here the fake answers on two names for one address:
// records at 127.0.0.1, the key at localhost. The key's host is trusted only when the
// connection names it (or, on ConnectWise's cloud, when it is the region's; see
// tests/webhooks/key_hosts_test.cpp).
TEST_CASE("a key_url on another host of the vendor is fetched only when the connection allows it",
          "[connectwise]") {
  ConnectWiseSite site;
  const std::string port = site.cw.base_url().substr(site.cw.base_url().rfind(':') + 1);
  const std::string key_url =
      "https://localhost:" + port + ConnectWiseFake::kApi + "/system/callbackentry/key/11";
  const Json::Value company = cw_company(260, "Coho Winery");
  site.cw.put("companies", company);
  const std::string body = site.cw.callback("company", "added", company, "msg-260", key_url);
  const auto refused = site.deliver(body);
  INFO(refused.body);
  CHECK(refused.status == 401);
  CHECK(site.cw.key_fetches() == 0);

  add_connection(site.api.server().data_dir(), "connectwise", "cw-sandbox", "",
                 {"--base-url", site.cw.base_url(), "--credentials", ConnectWiseFake::credentials(),
                  "--settings", R"({"key_hosts":["localhost:)" + port + R"("]})"});
  const auto accepted =
      site.api.client().post("/webhooks/cw-sandbox", body, ConnectWiseFake::signed_headers(body));
  INFO(accepted.body);
  CHECK(accepted.status == 200);
  CHECK(site.cw.key_fetches() == 1);
}

TEST_CASE("company, ticket and time entry callbacks become a client, a ticket and its time",
          "[connectwise]") {
  ConnectWiseSite site;
  site.sync("companies", "company", cw_company(300, "Litware Inc"), "m-1", "added");
  site.sync("tickets", "ticket", cw_ticket(4100, 300, "VPN down"), "m-2", "added");
  site.sync("entries", "time", cw_time(77001, 4100, 300, 42), "m-3", "added");
  const auto entries = site.settled();
  REQUIRE(entries.size() == 3);
  for (const auto& e : entries) CHECK(e["status"].asString() == "processed");

  const Json::Value last = site.last_settled();
  INFO(last.toStyledString());
  REQUIRE(last["outcome"].size() == 1);
  CHECK(last["outcome"][0]["op"].asString() == "time_entry.upsert");
  const std::string entry_id = last["outcome"][0]["object_id"].asString();
  const auto entry = site.api.get("/v1/time-entries/" + entry_id).json();
  CHECK(entry["minutes"].asInt() == 42);
  CHECK(entry["technician"].asString() == "alice");
  CHECK(entry["billable"].asBool());
  CHECK(entry["work_type"].asString() == "Remote Support");
  // Line breaks cannot be stored in a note here; they become spaces.
  CHECK(entry["note"].asString() == "Reset the spooler. Printer back online.");
  CHECK(entry["work_date"].asString() == "2026-03-02");
  CHECK(entry["status"].asString() == "submitted");
  const auto ticket = site.api.get("/v1/tickets/" + entry["ticket_id"].asString()).json();
  CHECK(ticket["subject"].asString() == "VPN down");
  CHECK(ticket["client_id"].asString() == site.client_of("300")["id"].asString());

  // The ticket closed in ConnectWise is closed here; an update repeating the entry changes
  // nothing, and one with new hours edits it.
  Json::Value closed = cw_ticket(4100, 300, "VPN down", "Closed");
  site.sync("tickets", "ticket", closed, "m-4");
  Json::Value longer = cw_time(77001, 4100, 300, 42);
  site.sync("entries", "time", longer, "m-5");
  longer["actualHours"] = 1.0;
  site.sync("entries", "time", longer, "m-6");
  const auto all = site.settled();
  REQUIRE(all.size() == 6);
  CHECK(site.api.get("/v1/tickets/" + ticket["id"].asString()).json()["status"].asString() ==
        "closed");
  CHECK(all[4]["outcome"][0]["outcome"].asString() == "unchanged");
  CHECK(site.api.get("/v1/time-entries/" + entry_id).json()["minutes"].asInt() == 60);
  CHECK(site.api.get("/v1/clients").json()["items"].size() == 1);

  // Without actualHours the span counts, less hoursDeduct; DoNotBill time is not billable.
  Json::Value spanned = cw_time(77002, 4100, 300, 90);
  spanned.removeMember("actualHours");
  spanned["hoursDeduct"] = 0.5;
  spanned["billableOption"] = "DoNotBill";
  site.sync("entries", "time", spanned, "m-7", "added");
  const Json::Value mapped = site.last_settled();
  const auto second =
      site.api.get("/v1/time-entries/" + mapped["outcome"][0]["object_id"].asString()).json();
  CHECK(second["minutes"].asInt() == 60);
  CHECK_FALSE(second["billable"].asBool());

  // A company deleted in ConnectWise stays here, inactive.
  Json::Value deleted = json_of(site.cw.callback("company", "deleted", Json::Value(), "m-8"));
  deleted["ID"] = 300;
  REQUIRE(site.deliver(psa::json::write(deleted)).status == 200);
  REQUIRE(site.settled().size() == 8);
  CHECK(site.client_of("300")["status"].asString() == "inactive");
}

TEST_CASE(
    "a callback without its record is completed from the ConnectWise API with the keys, tried "
    "again while the API answers 500 or garbage",
    "[connectwise]") {
  ConnectWiseSite site;
  const Json::Value company = cw_company(310, "Adatum Corp");
  site.cw.put("companies", company);
  site.cw.fail_next("GET", "/company/companies/310", 503);
  site.cw.garble_next("GET", "/company/companies/310");
  Json::Value ids_only = json_of(site.cw.callback("company", "updated", company, "m-ids"));
  ids_only["Entity"] = "";
  REQUIRE(site.deliver(psa::json::write(ids_only)).status == 200);
  // An Entity that is not JSON at all is read from the API too.
  site.cw.put("companies", cw_company(311, "Tailspin Toys"));
  Json::Value garbled =
      json_of(site.cw.callback("company", "updated", cw_company(311, "x"), "m-g"));
  garbled["Entity"] = "{\"id\":311,";
  REQUIRE(site.deliver(psa::json::write(garbled)).status == 200);

  const auto entries = site.settled();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["status"].asString() == "processed");
  CHECK(site.client_of("310")["name"].asString() == "Adatum Corp");
  CHECK(site.client_of("311")["name"].asString() == "Tailspin Toys");
  // Two failed readings, each retried with backoff, then the record.
  CHECK(entries[0]["attempts"].asInt() == 3);
  CHECK(site.cw.count("GET", "/company/companies/310") == 3);
  CHECK(site.api.get("/healthz").status == 200);
  for (const auto& r : site.cw.received()) {
    if (r.target.find("/company/companies/") == std::string::npos) continue;
    // The host added the connection's credentials; the connector never had them.
    CHECK(r.header("authorization") ==
          "Basic " + psahost::crypto::base64_encode("acme+PUBKEY-41aa:PRIVKEY-8c1d"));
    CHECK(r.header("clientid") == "6f2e5b2c-client-id");
  }
}

// ConnectWise's Callbacks documentation names the types Company, Ticket and Time (a time entry's
// callback is "Time", not "TimeEntry"); they are matched without case, and a name it does not
// use maps nothing.
TEST_CASE("callback types are ConnectWise's own: Time is a time entry, TimeEntry is not a type",
          "[connectwise]") {
  ConnectWiseSite site;
  site.sync("companies", "Company", cw_company(330, "Fabrikam"), "m-ty-1", "added");
  site.sync("tickets", "Ticket", cw_ticket(4400, 330, "Backup failed"), "m-ty-2", "added");
  site.sync("entries", "Time", cw_time(77400, 4400, 330, 20), "m-ty-3", "added");
  const Json::Value last = site.last_settled();
  REQUIRE(last["outcome"].size() == 1);
  CHECK(last["outcome"][0]["op"].asString() == "time_entry.upsert");
  const std::string entry_id = last["outcome"][0]["object_id"].asString();
  CHECK(site.api.get("/v1/time-entries/" + entry_id).json()["minutes"].asInt() == 20);

  // Names ConnectWise does not use change nothing: the longer entry is not applied.
  const Json::Value longer = cw_time(77400, 4400, 330, 45);
  for (const std::string type : {"TimeEntry", "time_entry", "time entry"}) {
    site.sync("entries", type, longer, "m-ty-" + type);
    const Json::Value ignored = site.last_settled();
    INFO(type << ": " << ignored.toStyledString());
    CHECK(ignored["status"].asString() == "processed");
    CHECK(ignored["outcome"].size() == 0);
  }
  CHECK(site.api.get("/v1/time-entries/" + entry_id).json()["minutes"].asInt() == 20);
}

TEST_CASE("a time entry arriving before its ticket and company reads them, and they sync once",
          "[connectwise]") {
  ConnectWiseSite site;
  site.cw.put("companies", cw_company(320, "Northwind Traders"));
  site.cw.put("tickets", cw_ticket(4200, 320, "Mail bounces"));
  site.sync("entries", "time", cw_time(77100, 4200, 320, 15), "m-t");
  // The ticket's and the company's own callbacks arrive after the time entry.
  site.sync("tickets", "ticket", site.cw.get("tickets", "4200"), "m-k");
  site.sync("companies", "company", site.cw.get("companies", "320"), "m-c");
  const auto entries = site.settled();
  REQUIRE(entries.size() == 3);
  for (const auto& e : entries) {
    INFO(e.toStyledString());
    CHECK(e["status"].asString() == "processed");
  }
  const auto first = site.api.get("/v1/inbox/" + entries[0]["id"].asString()).json();
  REQUIRE(first["outcome"].size() == 3);
  CHECK(first["outcome"][0]["op"].asString() == "client.upsert");
  CHECK(first["outcome"][1]["op"].asString() == "ticket.upsert");
  CHECK(first["outcome"][2]["op"].asString() == "time_entry.upsert");
  const auto ticket = site.api.get("/v1/inbox/" + entries[1]["id"].asString()).json();
  CHECK(ticket["outcome"][0]["outcome"].asString() == "unchanged");
  CHECK(ticket["outcome"][0]["object_id"] == first["outcome"][1]["object_id"]);
  SqliteFile db(site.api.server().data_dir() / "psahost.db");
  CHECK(db.count("SELECT COUNT(*) FROM clients") == 1);
  CHECK(db.count("SELECT COUNT(*) FROM tickets") == 1);
}

TEST_CASE(
    "a time entry approved in ConnectWise is refused here without billing info, the reason "
    "lands on its ticket once, and with billing info it is approved rounded up",
    "[connectwise][billing-gate]") {
  ConnectWiseSite site;
  site.sync("companies", "company", cw_company(330, "Proseware Inc"), "m-1");
  site.sync("tickets", "ticket", cw_ticket(4300, 330, "Laptop slow"), "m-2");
  // The note's first answer is lost: the retry finds the note and does not write it again.
  site.cw.fail_next("POST", "/service/tickets/4300/notes", 500, true);
  site.sync("entries", "time", cw_time(77200, 4300, 330, 7, "ApprovedByTierOne"), "m-3");
  auto entries = site.settled();
  REQUIRE(entries.size() == 3);
  const Json::Value refused = site.last_settled();
  INFO(refused.toStyledString());
  REQUIRE(refused["outcome"].size() == 2);
  CHECK(refused["outcome"][1]["outcome"].asString() == "refused");
  CHECK(refused["outcome"][1]["problem"]["type"].asString() ==
        "urn:psahost:problem:billing-info-required");
  const std::string entry_id = refused["outcome"][0]["object_id"].asString();
  CHECK(site.api.get("/v1/time-entries/" + entry_id).json()["status"].asString() == "submitted");

  // The retry looked the note up and found it.
  REQUIRE(eventually([&] { return site.cw.count("GET", "/service/tickets/4300/notes") >= 2; }));
  CHECK(site.cw.count("POST", "/service/tickets/4300/notes") == 1);
  REQUIRE(site.cw.notes("4300").size() == 1);
  const Json::Value note = site.cw.notes("4300")[0];
  CHECK_THAT(note["text"].asString(), Catch::Contains("did not approve time entry 77200") &&
                                          Catch::Contains("Billing information for Proseware Inc"));
  CHECK(note["internalAnalysisFlag"].asBool());

  // ConnectWise sends the entry again (a repeat, then another update): refused again for the
  // same reason, and said on the ticket no second time.
  site.sync("entries", "time", site.cw.get("entries", "77200"), "m-4");
  REQUIRE(site.settled().size() == 4);
  REQUIRE(eventually([&] { return site.cw.count("GET", "/service/tickets/4300/notes") >= 3; }));
  CHECK(site.cw.notes("4300").size() == 1);

  // With the client's billing info complete (roundup 15), the same approval goes through.
  put_labour_catalog(site.api);
  site.api.complete_billing(site.client_of("330")["id"].asString(), 15);
  site.sync("entries", "time", site.cw.get("entries", "77200"), "m-5");
  REQUIRE(site.settled().size() == 5);
  const Json::Value approved = site.last_settled();
  INFO(approved.toStyledString());
  CHECK(approved["outcome"][1]["outcome"].asString() == "applied");
  const auto entry = site.api.get("/v1/time-entries/" + entry_id).json();
  CHECK(entry["status"].asString() == "approved");
  CHECK(entry["minutes"].asInt() == 7);
  CHECK(entry["billed_minutes"].asInt() == 15);
  CHECK(site.cw.notes("4300").size() == 1);
}

// The TimeEntry model of ConnectWise's REST API (developer.connectwise.com, Manage REST API >
// Time > TimeEntries): "status" is one of its enum (Billed, BilledAgreement, ...) and "invoice"
// an InvoiceReference {"id","identifier","_info"} once the entry is on a ConnectWise invoice.
TEST_CASE(
    "time ConnectWise billed itself is recorded as billed there, is never approved here and "
    "never appears on an invoice of ours",
    "[connectwise][billing]") {
  ConnectWiseSite site;
  site.sync("companies", "company", cw_company(340, "Wide World Importers"), "b-1");
  site.sync("tickets", "ticket", cw_ticket(4400, 340, "Backup failed"), "b-2");
  REQUIRE(site.settled().size() == 2);
  put_labour_catalog(site.api);
  const std::string client = site.client_of("340")["id"].asString();
  site.api.complete_billing(client, 15);
  verify_numbering(site.api);

  // Approved in ConnectWise and not billed there: ours to bill.
  site.sync("entries", "time", cw_time(77300, 4400, 340, 30, "ReadyToBill"), "b-3");
  // On a ConnectWise invoice already.
  Json::Value invoiced = cw_time(77301, 4400, 340, 45, "Billed");
  invoiced["invoice"]["id"] = 9001;
  invoiced["invoice"]["identifier"] = "CW-INV-1042";
  invoiced["invoice"]["_info"]["invoice_href"] = site.cw.base_url() + "/finance/invoices/9001";
  site.sync("entries", "time", invoiced, "b-4");
  // Approved here first, then billed against its agreement in ConnectWise before our run.
  site.sync("entries", "time", cw_time(77302, 4400, 340, 20, "ApprovedByTierTwo"), "b-5");
  site.sync("entries", "time", cw_time(77302, 4400, 340, 20, "BilledAgreement"), "b-6");
  // Written off in ConnectWise: the partner chose not to charge it.
  site.sync("entries", "time", cw_time(77303, 4400, 340, 25, "WrittenOff"), "b-6w");
  const auto entries = site.settled();
  REQUIRE(entries.size() == 7);
  for (const auto& e : entries) {
    INFO(e.toStyledString());
    CHECK(e["status"].asString() == "processed");
  }
  const auto entry_of = [&](int index) {
    const Json::Value mapped = site.api.get("/v1/inbox/" + entries[index]["id"].asString()).json();
    INFO(mapped.toStyledString());
    return site.api.get("/v1/time-entries/" + mapped["outcome"][0]["object_id"].asString()).json();
  };
  const Json::Value ours = entry_of(2);
  const Json::Value billed = entry_of(3);
  const Json::Value agreement = entry_of(5);
  const Json::Value written_off = entry_of(6);
  CHECK(ours["status"].asString() == "approved");
  CHECK(ours["billed_externally"].isNull());

  INFO(billed.toStyledString());
  CHECK(billed["status"].asString() == "submitted");
  CHECK(billed["billed_externally"]["system"].asString() == "connectwise");
  CHECK(billed["billed_externally"]["reference"].asString() == "CW-INV-1042");
  CHECK(billed["billed_externally"]["status"].asString() == "Billed");
  CHECK(agreement["status"].asString() == "approved");
  CHECK(agreement["billed_externally"]["status"].asString() == "BilledAgreement");
  CHECK(agreement["billed_externally"]["reference"].isNull());
  CHECK(written_off["status"].asString() == "submitted");
  CHECK(written_off["billed_externally"]["status"].asString() == "WrittenOff");

  // Approving it here is refused, one by one or in bulk.
  const auto approve =
      site.api.post("/v1/time-entries/" + billed["id"].asString() + "/approve", "{}");
  CHECK(approve.status == 409);
  CHECK(approve.json()["type"].asString() == "urn:psahost:problem:billed-externally");
  const auto bulk =
      site.api.post("/v1/time-entries/approve", R"({"filter":{"client_id":")" + client + R"("}})");
  INFO(bulk.body);
  CHECK(bulk.status == 200);
  for (const auto& r : bulk.json()["results"]) {
    CHECK(r["id"] != billed["id"]);
    CHECK(r["id"] != written_off["id"]);
  }

  // A real billing run bills only our own entry.
  const Json::Value run = run_billing(site.api, period_from_now(0));
  const Json::Value item = run_item(run, client);
  INFO(run.toStyledString());
  REQUIRE(item["outcome"].asString() == "issued");
  const Json::Value invoice = site.api.get("/v1/invoices/" + item["invoice_id"].asString()).json();
  INFO(invoice.toStyledString());
  std::vector<std::string> billed_here;
  for (const auto& line : invoice["lines"]) {
    if (line["kind"] == "time_entry") billed_here.push_back(line["time_entry_id"].asString());
  }
  CHECK(billed_here == std::vector<std::string>{ours["id"].asString()});
  CHECK(site.api.get("/v1/time-entries/" + billed["id"].asString()).json()["invoice_id"].isNull());
  CHECK(
      site.api.get("/v1/time-entries/" + agreement["id"].asString()).json()["status"].asString() ==
      "approved");
  // Every invoice of the tenant, not only this run's: neither entry is on any.
  const Json::Value all_invoices = site.api.get("/v1/invoices").json();
  for (const auto& listed : all_invoices["items"]) {
    const Json::Value inv = site.api.get("/v1/invoices/" + listed["id"].asString()).json();
    for (const auto& line : inv["lines"]) {
      CHECK(line["time_entry_id"] != billed["id"]);
      CHECK(line["time_entry_id"] != agreement["id"]);
      CHECK(line["time_entry_id"] != written_off["id"]);
    }
  }

  // ConnectWise then bills the entry we invoiced as well: refused, and said on the ticket.
  site.sync("entries", "time", cw_time(77300, 4400, 340, 30, "Billed"), "b-7");
  REQUIRE(site.settled().size() == 8);
  const Json::Value twice = site.last_settled();
  INFO(twice.toStyledString());
  REQUIRE(twice["outcome"].size() == 2);
  CHECK(twice["outcome"][1]["outcome"].asString() == "refused");
  CHECK(twice["outcome"][1]["problem"]["type"].asString() == "urn:psahost:problem:entry-invoiced");
  REQUIRE(eventually([&] { return site.cw.notes("4400").size() == 1; }));
  CHECK_THAT(site.cw.notes("4400")[0]["text"].asString(),
             Catch::Contains("had already invoiced time entry 77300"));
}
