// A psahost with an Autotask connection "at" to a fake Autotask zone, and the records and
// webhooks the Autotask tests send it. Records are in the REST API's shapes (camelCase members,
// numbers for ids and picklist values, null where unset; autotask.net/help/DeveloperHelp, the
// "Companies", "Tickets" and "TimeEntries" entity pages); webhooks in the shape of "Creating a
// webhook" (PascalCase envelope, the subscribed Fields). "at" polls every 200 ms from when it was
// made, so the fixtures' time (March 2026) reaches it only through a Ticket webhook.
#pragma once

#include "connectors/autotask/autotask_fake.hpp"
#include "support/api_session.hpp"
#include "support/wait.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

#include <cctype>

namespace psahost::test {

struct AutotaskSite {
  AutotaskFake at;
  ApiSession api{{"--outbound-ca", at.ca_file().string(), "--inbox-backoff-ms", "20",
                  "--delivery-retry-schedule", "0.05,0.1,0.2", "--poll-interval-ms", "200"}};
  // Autotask's webhooks are one per entity (a Company webhook, a Ticket webhook, ...), each with
  // its own Guid, which every event it sends carries.
  static std::string webhook_guid(const std::string& entity_type) {
    if (entity_type == "Company") return "5a3f0c52-7d0e-4b6f-9c1e-2f8f6b1d0a11";
    if (entity_type == "Ticket") return "9e1b7c44-3a2d-4f5e-8b6a-0c7d2e9f4b22";
    return "c47d2e10-8f3b-4a6c-9d5e-1b2a3c4d5e33";
  }

  AutotaskSite() {
    add_connection(api.server().data_dir(), "autotask", "at", AutotaskFake::kWebhookSecret,
                   {"--base-url", at.base_url(), "--credentials", AutotaskFake::credentials()});
  }

  HttpResponse deliver(const AutotaskFake::Webhook& w) {
    return api.client().post("/webhooks/at", w.body, AutotaskFake::signed_headers(w.signed_form));
  }
  // Posts a webhook about a record (signed as Autotask signs it); REQUIREs the 200.
  void send(const std::string& action, const std::string& entity_type, int64_t id,
            const Json::Value& fields, int64_t sequence) {
    const auto r = deliver(AutotaskFake::webhook(action, entity_type, id, fields, sequence,
                                                 webhook_guid(entity_type)));
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  Json::Value inbox() {
    const auto r = api.get("/v1/inbox?connection=at");
    REQUIRE(r.status == 200);
    return r.json()["items"];
  }
  // Every entry once the connector has had it (processed or parked).
  Json::Value settled() {
    Json::Value items;
    REQUIRE(eventually([&] {
      items = inbox();
      for (const auto& e : items) {
        if (e["status"].asString() == "pending") return false;
      }
      return true;
    }));
    return items;
  }
  Json::Value last_settled() {
    const Json::Value items = settled();
    REQUIRE(items.size() > 0);
    return api.get("/v1/inbox/" + items[items.size() - 1]["id"].asString()).json();
  }
  // Whether every push to Autotask came to an end (delivered or failed), none still waiting.
  bool pushes_done() {
    return eventually([&] {
      const Json::Value pending = api.get("/v1/deliveries?status=pending").json();
      return pending["items"].empty();
    });
  }
  Json::Value client_of(const std::string& external_id) {
    const Json::Value list = api.get("/v1/clients").json();
    for (const auto& c : list["items"]) {
      if (c["external_ids"]["autotask"].asString() == external_id) return c;
    }
    return Json::Value();
  }
};

inline Json::Value at_company(int64_t id, const std::string& name) {
  Json::Value c;
  c["id"] = static_cast<Json::Int64>(id);
  c["companyName"] = name;
  c["companyType"] = 1;
  c["isActive"] = true;
  c["companyNumber"] = "C" + std::to_string(id);
  return c;
}

inline Json::Value at_ticket(int64_t id, int64_t company, const std::string& title,
                             int status = 1) {
  Json::Value t;
  t["id"] = static_cast<Json::Int64>(id);
  t["companyID"] = static_cast<Json::Int64>(company);
  t["title"] = title;
  t["status"] = status;
  t["ticketNumber"] = "T20260302." + std::to_string(id % 10000);
  return t;
}

inline Json::Value at_time(int64_t id, int64_t ticket, double hours, bool approved = false) {
  Json::Value e;
  e["id"] = static_cast<Json::Int64>(id);
  e["ticketID"] = static_cast<Json::Int64>(ticket);
  e["resourceID"] = 29682885;
  e["hoursWorked"] = hours;
  e["summaryNotes"] = "Replaced the toner.\r\nTested a print.";
  e["internalNotes"] = "Toner from stock.";
  e["dateWorked"] = "2026-03-02T00:00:00";
  e["isNonBillable"] = false;
  e["billingApprovalDateTime"] =
      approved ? Json::Value("2026-03-03T08:00:00Z") : Json::Value(Json::nullValue);
  e["createDateTime"] = "2026-03-02T16:40:11.263Z";
  e["lastModifiedDateTime"] = approved ? "2026-03-03T08:00:00.117Z" : "2026-03-02T16:40:11.263Z";
  e["startDateTime"] = Json::nullValue;
  e["endDateTime"] = Json::nullValue;
  e["hoursToBill"] = hours;
  e["timeEntryType"] = 2;
  e["taskID"] = Json::nullValue;
  return e;
}

// A record's fields as a webhook may name them, in PascalCase (TicketID, HoursWorked, ...).
inline Json::Value pascal_case(const Json::Value& record) {
  Json::Value out(Json::objectValue);
  for (const auto& name : record.getMemberNames()) {
    std::string pascal = name;
    pascal[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(pascal[0])));
    out[pascal] = record[name];
  }
  return out;
}

inline Json::Value at_resource() {
  Json::Value r;
  r["id"] = 29682885;
  r["userName"] = "bwilson";
  r["firstName"] = "Bea";
  r["lastName"] = "Wilson";
  return r;
}

}  // namespace psahost::test
