// Autotask webhooks against the real binary and a fake Autotask zone: X-Hook-Signature over the
// body as Autotask signs it (re-escaped), repeats stored once per (Guid, Id, SequenceNumber),
// companies and tickets synced in SequenceNumber order per webhook with partial Fields read from
// the REST API; time entries, for which Autotask publishes no webhook, read with their ticket's
// webhook and by the catch-up poll; and an approval made in Autotask judged by our billing gate,
// with the refusal written back as a ticket note.
#include "connectors/autotask/site.hpp"
#include "support/billing.hpp"
#include "support/sqlite_file.hpp"

using namespace psahost::test;

TEST_CASE(
    "an Autotask webhook signed over its re-escaped body is accepted and stored once per Guid, "
    "Id and SequenceNumber",
    "[autotask]") {
  AutotaskSite site;
  const std::string name = "Müller & Söhne <Käse> 'Ost' \"GmbH\" 🧀";
  Json::Value fields = at_company(500, name);
  fields.removeMember("id");
  const auto w = AutotaskFake::webhook("Create", "Company", 500, fields, 1, "guid-a");
  // What is signed is not what is sent: the signature only matches the re-escaped form.
  REQUIRE(w.signed_form != w.body);
  CHECK(w.signed_form.find("M\\u00FCller \\u0026 S\\u00F6hne \\u003CK\\u00E4se\\u003E") !=
        std::string::npos);
  const auto first = site.deliver(w);
  INFO(first.body);
  CHECK(first.status == 200);
  // Autotask retries after 30 s: the same Guid, Id and SequenceNumber is stored once, even
  // with another EventTime, and so is one signed over the raw body.
  CHECK(site.deliver(w).status == 200);
  Json::Value later = json_of(w.body);
  later["EventTime"] = "2026-03-02T10:15:30.000Z";
  CHECK(site.api.client()
            .post("/webhooks/at", psa::json::write(later),
                  AutotaskFake::signed_headers(psa::json::write(later)))
            .status == 200);
  auto entries = site.settled();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["status"].asString() == "processed");
  const Json::Value client = site.client_of("500");
  REQUIRE(client.isObject());
  CHECK(client["name"].asString() == name);

  // A new SequenceNumber is a new event.
  fields["companyType"] = 8;
  site.send("Update", "Company", 500, fields, 2);
  entries = site.settled();
  REQUIRE(entries.size() == 2);
  CHECK(site.client_of("500")["type"].asString() == "partner");
}

TEST_CASE("a wrong secret, a missing sha1= prefix or a changed body is 401 and stores nothing",
          "[autotask]") {
  AutotaskSite site;
  const auto w = AutotaskFake::webhook("Create", "Company", 501, at_company(501, "Fabrikam & Co"),
                                       1, "guid-b");
  auto headers = AutotaskFake::signed_headers(w.signed_form, "another-secret");
  CHECK(site.api.client().post("/webhooks/at", w.body, headers).status == 401);
  headers = AutotaskFake::signed_headers(w.signed_form);
  auto bare = headers;
  bare["x-hook-signature"] = headers["x-hook-signature"].substr(5);
  CHECK(site.api.client().post("/webhooks/at", w.body, bare).status == 401);
  std::string changed = w.body;
  changed.replace(changed.find("Fabrikam"), 8, "Fabricam");
  const auto r = site.api.client().post("/webhooks/at", changed, headers);
  CHECK(r.status == 401);
  CHECK(r.json()["type"].asString() == "urn:psahost:problem:invalid-signature");
  CHECK(site.api.client()
            .post("/webhooks/at", w.body, {{"content-type", "application/json"}})
            .status == 401);
  CHECK(site.inbox().empty());
}

TEST_CASE(
    "company and ticket webhooks become client and ticket, with partial Fields read from the REST "
    "API, and a ticket's webhook brings its time",
    "[autotask]") {
  AutotaskSite site;
  site.at.put("Companies", at_company(510, "Litware Inc"));
  site.at.put("Tickets", at_ticket(7100, 510, "Outlook keeps asking for a password"));
  site.at.put("TimeEntries", at_time(8800001, 7100, 0.75));
  site.at.put("Resources", at_resource());
  // Only the subscribed fields came, and the ticket's company has not come at all yet.
  Json::Value partial;
  partial["title"] = "Outlook keeps asking for a password";
  site.send("Create", "Ticket", 7100, partial, 1);
  const auto entries = site.settled();
  REQUIRE(entries.size() == 1);
  const Json::Value first = site.api.get("/v1/inbox/" + entries[0]["id"].asString()).json();
  INFO(first.toStyledString());
  REQUIRE(first["outcome"].size() == 3);
  CHECK(first["outcome"][0]["op"].asString() == "client.upsert");
  CHECK(first["outcome"][1]["op"].asString() == "ticket.upsert");
  CHECK(first["outcome"][2]["op"].asString() == "time_entry.upsert");
  const auto entry =
      site.api.get("/v1/time-entries/" + first["outcome"][2]["object_id"].asString()).json();
  CHECK(entry["minutes"].asInt() == 45);
  CHECK(entry["technician"].asString() == "bwilson");
  CHECK(entry["billable"].asBool());
  CHECK(entry["note"].asString() == "Replaced the toner.  Tested a print.");
  CHECK(entry["work_date"].asString() == "2026-03-02");
  const auto ticket = site.api.get("/v1/tickets/" + entry["ticket_id"].asString()).json();
  CHECK(ticket["subject"].asString() == "Outlook keeps asking for a password");
  CHECK(ticket["client_id"].asString() == site.client_of("510")["id"].asString());
  CHECK(site.at.count("GET", "/Tickets/7100") == 1);
  CHECK(site.at.count("GET", "/Companies/510") == 1);
  // The ticket's time came whole from one query, not read again one by one.
  CHECK(site.at.count_with("POST", "/TimeEntries/query", "ticketID") == 1);
  CHECK(site.at.count("GET", "/TimeEntries/8800001") == 0);

  // The company's own webhook, after: the same client, once; the ticket completed (status 5)
  // is closed here.
  Json::Value company = at_company(510, "Litware Inc");
  site.send("Create", "Company", 510, company, 1);
  site.send("Update", "Ticket", 7100, at_ticket(7100, 510, "Outlook", 5), 2);
  REQUIRE(site.settled().size() == 3);
  CHECK(site.api.get("/v1/tickets/" + ticket["id"].asString()).json()["status"].asString() ==
        "closed");
  SqliteFile db(site.api.server().data_dir() / "psahost.db");
  CHECK(db.count("SELECT COUNT(*) FROM clients") == 1);
  CHECK(db.count("SELECT COUNT(*) FROM tickets") == 1);
  // The resource's name was read once.
  site.at.put("TimeEntries", at_time(8800002, 7100, 0.5));
  site.send("Update", "Ticket", 7100, at_ticket(7100, 510, "Outlook", 5), 3);
  REQUIRE(site.settled().size() == 4);
  CHECK(db.count("SELECT COUNT(*) FROM time_entries") == 2);
  CHECK(site.at.count("GET", "/Resources/29682885") == 1);

  // While the API answers garbage, then 500, the webhook is tried again; then it applies.
  site.at.put("TimeEntries", at_time(8800003, 7100, 0.25));
  const auto queries = site.at.count_with("POST", "/TimeEntries/query", "ticketID");
  site.at.fail_next_with("POST", "/TimeEntries/query", "ticketID", 200, true);
  site.at.fail_next_with("POST", "/TimeEntries/query", "ticketID", 500);
  site.send("Update", "Ticket", 7100, at_ticket(7100, 510, "Outlook", 5), 4);
  const Json::Value retried = site.last_settled();
  INFO(retried.toStyledString());
  CHECK(retried["status"].asString() == "processed");
  CHECK(retried["attempts"].asInt() == 3);
  CHECK(site.at.count_with("POST", "/TimeEntries/query", "ticketID") == queries + 3);
  CHECK(db.count("SELECT COUNT(*) FROM time_entries") == 3);

  // A company deleted in Autotask stays here, inactive.
  site.send("Delete", "Company", 510, Json::Value(), 3);
  REQUIRE(site.settled().size() == 6);
  CHECK(site.client_of("510")["status"].asString() == "inactive");
}

TEST_CASE("an older Autotask SequenceNumber arriving after a newer one changes nothing",
          "[autotask]") {
  AutotaskSite site;
  site.at.put("Companies", at_company(520, "Northwind Traders"));
  site.at.put("Tickets", at_ticket(7200, 520, "Backup failed"));
  // Fields that describe the ticket fully are used as they come, whatever their case.
  site.send("Update", "Ticket", 7200, pascal_case(at_ticket(7200, 520, "Backup failed twice")), 12);
  // Event 11 was Autotask's retry of a delivery that failed earlier: it carries an older title.
  site.send("Update", "Ticket", 7200, pascal_case(at_ticket(7200, 520, "Backup failed")), 11);
  const auto entries = site.settled();
  REQUIRE(entries.size() == 2);
  const Json::Value first = site.api.get("/v1/inbox/" + entries[0]["id"].asString()).json();
  const std::string ticket_id = first["outcome"][1]["object_id"].asString();
  const Json::Value stale = site.last_settled();
  INFO(stale.toStyledString());
  CHECK(stale["status"].asString() == "processed");
  CHECK(stale["outcome"].empty());
  CHECK(site.at.count("GET", "/Tickets/7200") == 0);
  // A newer one applies (closing it: Autotask's status 5, Complete).
  site.send("Update", "Ticket", 7200, at_ticket(7200, 520, "Backup failed twice", 5), 13);
  REQUIRE(site.settled().size() == 3);
  CHECK(site.api.get("/v1/tickets/" + ticket_id).json()["status"].asString() == "closed");
}

// Autotask counts SequenceNumber per webhook: two webhooks on the same entity (a partner's
// second Company webhook with other fields, say) each count from their own start. Webhook body
// as in Autotask's Webhooks_Creating / REST_Webhooks pages: {"Action","Guid","EntityType","Id",
// "Fields","EventTime","SequenceNumber","PersonID"}.
TEST_CASE("a second Autotask webhook's lower SequenceNumber is not taken as older", "[autotask]") {
  AutotaskSite site;
  const std::string first_webhook = "0f6a1e5d-2b7c-4d8e-9f0a-1b2c3d4e5f60";
  const std::string second_webhook = "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d01";
  const auto send = [&](const std::string& guid, const std::string& name, int64_t sequence) {
    Json::Value fields = pascal_case(at_company(540, name));
    fields.removeMember("Id");
    const auto r =
        site.deliver(AutotaskFake::webhook("Update", "Company", 540, fields, sequence, guid));
    INFO(r.body);
    REQUIRE(r.status == 200);
  };
  send(first_webhook, "Adventure Works", 2);
  send(second_webhook, "Adventure Works Cycles", 1);
  REQUIRE(site.settled().size() == 2);
  CHECK(site.last_settled()["outcome"][0]["outcome"].asString() == "applied");
  CHECK(site.client_of("540")["name"].asString() == "Adventure Works Cycles");
  // The first webhook's number from the second one is another event, not a repeat.
  send(second_webhook, "Adventure Works Ltd", 2);
  REQUIRE(site.settled().size() == 3);
  CHECK(site.client_of("540")["name"].asString() == "Adventure Works Ltd");
  // Within one webhook, an older number is still stale.
  send(second_webhook, "Adventure Works Group", 5);
  send(second_webhook, "Adventure Works (old)", 4);
  REQUIRE(site.settled().size() == 5);
  CHECK(site.last_settled()["outcome"].empty());
  CHECK(site.client_of("540")["name"].asString() == "Adventure Works Group");
}

TEST_CASE(
    "a time entry approved in Autotask is refused here without billing info, the reason becomes "
    "one ticket note, and with billing info it is approved rounded up",
    "[autotask][billing-gate]") {
  AutotaskSite site;
  site.at.put("Companies", at_company(530, "Proseware Inc"));
  site.at.put("Tickets", at_ticket(7300, 530, "Laptop slow"));
  site.at.put("Resources", at_resource());
  // The note's first answer is lost: the retry finds the note and does not write it again.
  site.at.fail_next("POST", "/Tickets/7300/Notes", 500, true);
  const Json::Value approved_there = at_time(8800200, 7300, 0.1, true);  // 6 minutes
  site.at.put("TimeEntries", approved_there);
  site.send("Update", "Ticket", 7300, Json::Value(), 1);
  const Json::Value refused = site.last_settled();
  INFO(refused.toStyledString());
  REQUIRE(refused["outcome"].size() == 4);
  CHECK(refused["outcome"][3]["op"].asString() == "time_entry.approve");
  CHECK(refused["outcome"][3]["outcome"].asString() == "refused");
  CHECK(refused["outcome"][3]["problem"]["type"].asString() ==
        "urn:psahost:problem:billing-info-required");
  const std::string entry_id = refused["outcome"][2]["object_id"].asString();

  REQUIRE(eventually([&] { return site.at.count("POST", "/TicketNotes/query") >= 2; }));
  CHECK(site.at.count("POST", "/Tickets/7300/Notes") == 1);
  REQUIRE(site.at.notes(7300).size() == 1);
  const Json::Value note = site.at.notes(7300)[0];
  CHECK(note["title"].asString() == "Not approved in psahost");
  CHECK_THAT(note["description"].asString(),
             Catch::Contains("did not approve time entry 8800200") &&
                 Catch::Contains("Billing information for Proseware Inc"));
  CHECK(note["noteType"].asInt() == 1);
  CHECK(note["publish"].asInt() == 1);

  // The same approval again (another event for the entry): refused again, noted no second time.
  site.send("Update", "Ticket", 7300, Json::Value(), 2);
  REQUIRE(site.settled().size() == 2);
  REQUIRE(eventually([&] { return site.at.count("POST", "/TicketNotes/query") >= 3; }));
  REQUIRE(site.pushes_done());
  CHECK(site.at.notes(7300).size() == 1);

  put_labour_catalog(site.api);
  site.api.complete_billing(site.client_of("530")["id"].asString(), 15);
  site.send("Update", "Ticket", 7300, Json::Value(), 3);
  const Json::Value approved = site.last_settled();
  INFO(approved.toStyledString());
  CHECK(approved["outcome"][2]["outcome"].asString() == "applied");
  const auto entry = site.api.get("/v1/time-entries/" + entry_id).json();
  CHECK(entry["status"].asString() == "approved");
  CHECK(entry["minutes"].asInt() == 6);
  CHECK(entry["billed_minutes"].asInt() == 15);
}

namespace {

// An entry of March 2026 last changed at the given minute of the 10th.
Json::Value changed_time(int64_t id, int64_t ticket, double hours, int minute) {
  Json::Value e = at_time(id, ticket, hours);
  char at[32];
  std::snprintf(at, sizeof at, "2026-03-10T09:%02d:00.250Z", minute);
  e["lastModifiedDateTime"] = at;
  return e;
}

Json::Value connection_named(ApiSession& api, const std::string& name) {
  const Json::Value list = api.get("/v1/connections").json();
  for (const auto& c : list["items"]) {
    if (c["name"].asString() == name) {
      return api.get("/v1/connections/" + c["id"].asString()).json();
    }
  }
  return Json::Value();
}

std::size_t inbox_count(ApiSession& api, const std::string& connection) {
  return api.get("/v1/inbox?connection=" + connection).json()["items"].size();
}

}  // namespace

// Autotask's TimeEntries query (POST /TimeEntries/query with a filter on lastModifiedDateTime,
// at most MaxRecords a page; "Basic query calls (REST API)" on autotask.net) is how time reaches
// psahost: its webhook entities are Companies, Contacts, ConfigurationItems, Tickets and
// TicketNotes only.
TEST_CASE(
    "Autotask time arrives by the catch-up poll, a page at a time from a durable cursor, waits "
    "out a 429's Retry-After, and resumes after a crash without taking anything twice",
    "[autotask][poll]") {
  AutotaskSite site;
  site.at.put("Companies", at_company(560, "Fourth Coffee"));
  site.at.put("Tickets", at_ticket(7700, 560, "New laptop"));
  site.at.put("Resources", at_resource());
  for (int i = 0; i < 5; ++i) site.at.put("TimeEntries", changed_time(8800600 + i, 7700, 0.5, i));
  // Older than where this connection starts: never polled.
  site.at.put("TimeEntries", at_time(8800699, 7700, 0.25));
  // The zone's threshold answers the first query 429 with Retry-After: 1.
  site.at.fail_next("POST", "/TimeEntries/query", 429);
  add_connection(site.api.server().data_dir(), "autotask", "at-poll", AutotaskFake::kWebhookSecret,
                 {"--base-url", site.at.base_url(), "--credentials", AutotaskFake::credentials(),
                  "--settings", R"({"poll_since":"2026-03-05T00:00:00Z","poll_page_size":2})"});
  SqliteFile db(site.api.server().data_dir() / "psahost.db");
  REQUIRE(eventually([&] { return db.count("SELECT COUNT(*) FROM time_entries") == 5; },
                     std::chrono::seconds(20)));
  REQUIRE(eventually([&] {
    const Json::Value items = site.api.get("/v1/inbox?connection=at-poll").json()["items"];
    for (const auto& e : items) {
      if (e["status"].asString() != "processed") return false;
    }
    return items.size() == 5;
  }));
  const Json::Value polled = site.api.get("/v1/inbox?connection=at-poll").json();
  for (const auto& e : polled["items"]) {
    CHECK(e["dedupe_key"].asString().rfind("poll:TimeEntry/88006", 0) == 0);
  }
  // Pages of two: 2, 2, 1 (and the refused one).
  CHECK(site.at.queries("TimeEntries") >= 3);
  Json::Value conn = connection_named(site.api, "at-poll");
  INFO(conn.toStyledString());
  CHECK(conn["catch_up"]["cursor"]["since"].asString() == "2026-03-10T09:04:00Z");
  CHECK(conn["catch_up"]["cursor"]["after_id"].asInt() == 0);
  CHECK(conn["catch_up"]["webhook_state"].asString() == "active");
  CHECK(conn["catch_up"]["last_error"].isNull());

  // An entry changed in Autotask comes again; the others, read again at the cursor's second,
  // are not taken twice.
  site.at.put("TimeEntries", changed_time(8800602, 7700, 1.0, 30));
  REQUIRE(eventually([&] { return inbox_count(site.api, "at-poll") == 6; }));
  REQUIRE(eventually(
      [&] { return db.count("SELECT COUNT(*) FROM time_entries WHERE minutes = 60") == 1; }));

  // Killed while polling: started again, it goes on from its cursor.
  site.api.server().kill_hard();
  site.at.put("TimeEntries", changed_time(8800605, 7700, 0.75, 40));
  site.api.restart_after_crash();
  REQUIRE(eventually([&] { return db.count("SELECT COUNT(*) FROM time_entries") == 6; },
                     std::chrono::seconds(20)));
  CHECK(eventually([&] { return inbox_count(site.api, "at-poll") == 7; }));
  CHECK(db.count("SELECT COUNT(*) FROM time_entries") == 6);
}

// Autotask's "Creating a webhook" page: a webhook has a Deactivation URL, called when the
// webhook is deactivated or deleted. Its body is not published, so it is taken as a hint only.
TEST_CASE(
    "Autotask's deactivation notice shows on the connection, tells the partner and catches up "
    "by polling, and an unknown connection has no such address",
    "[autotask][poll]") {
  AutotaskSite site;
  site.at.put("Companies", at_company(570, "Alpine Ski House"));
  site.at.put("Tickets", at_ticket(7800, 570, "Lift pass printer"));
  site.at.put("Resources", at_resource());
  // Its first poll is answered with a proxy's HTML page, the next with a 500: each is tried
  // again, and nothing is taken from them.
  const std::string first_sweep = "2026-03-01T00:00:00Z";
  site.at.fail_next_with("POST", "/TimeEntries/query", first_sweep, 200, true);
  site.at.fail_next_with("POST", "/TimeEntries/query", first_sweep, 500);
  add_connection(site.api.server().data_dir(), "autotask", "at-late", AutotaskFake::kWebhookSecret,
                 {"--base-url", site.at.base_url(), "--credentials", AutotaskFake::credentials(),
                  "--settings", R"({"poll_since":"2026-03-01T00:00:00Z"})"});
  REQUIRE(eventually([&] {
    return connection_named(site.api, "at-late")["catch_up"]["last_polled_at"].isString();
  }));
  const auto r =
      site.api.client().post("/webhooks/at-late/deactivated", R"({"WebhookID":3,"IsActive":false})",
                             {{"content-type", "application/json"}});
  INFO(r.body);
  CHECK(r.status == 200);
  const Json::Value conn = connection_named(site.api, "at-late");
  CHECK(conn["catch_up"]["webhook_state"].asString() == "deactivated");
  CHECK(conn["catch_up"]["webhook_state_at"].isString());
  // The partner is told: the event is there for its endpoints and plugins.
  SqliteFile db(site.api.server().data_dir() / "psahost.db");
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'connection.webhook_deactivated'") == 1);
  // The notice is unsigned: a flood of repeats tells the partner once and polls no sooner.
  for (int i = 0; i < 20; ++i) {
    CHECK(site.api.client()
              .post("/webhooks/at-late/deactivated", "{}", {{"content-type", "application/json"}})
              .status == 200);
  }
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'connection.webhook_deactivated'") == 1);
  CHECK(connection_named(site.api, "at-late")["catch_up"]["webhook_state_at"] ==
        conn["catch_up"]["webhook_state_at"]);
  // What the webhook missed comes by the poll.
  site.at.put("TimeEntries", changed_time(8800700, 7800, 0.5, 5));
  REQUIRE(eventually([&] { return db.count("SELECT COUNT(*) FROM time_entries") == 1; },
                     std::chrono::seconds(20)));
  CHECK(site.at.count_with("POST", "/TimeEntries/query", first_sweep) >= 3);
  CHECK(inbox_count(site.api, "at-late") == 1);

  CHECK(site.api.client()
            .post("/webhooks/nobody/deactivated", "{}", {{"content-type", "application/json"}})
            .status == 404);
}
