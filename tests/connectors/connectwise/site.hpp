// A psahost with a ConnectWise connection "cw" to a fake ConnectWise site, and the records and
// callbacks the ConnectWise tests send it.
#pragma once

#include "connectors/connectwise/connectwise_fake.hpp"
#include "support/api_session.hpp"
#include "support/wait.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

namespace psahost::test {

struct ConnectWiseSite {
  ConnectWiseFake cw;
  ApiSession api{{"--outbound-ca", cw.ca_file().string(), "--inbox-backoff-ms", "20",
                  "--delivery-retry-schedule", "0.05,0.1,0.2"}};

  ConnectWiseSite() {
    add_connection(api.server().data_dir(), "connectwise", "cw", "",
                   {"--base-url", cw.base_url(), "--credentials", ConnectWiseFake::credentials(),
                    "--settings", R"({"agreement_type":"Managed Services"})"});
  }

  // Posts a callback signed as ConnectWise signs it.
  HttpResponse deliver(const std::string& body) {
    return api.client().post("/webhooks/cw", body, ConnectWiseFake::signed_headers(body));
  }
  // Puts the record at the fake and posts its callback; REQUIREs the 200.
  void sync(const std::string& kind, const std::string& type, const Json::Value& record,
            const std::string& message_id, const std::string& action = "updated") {
    cw.put(kind, record);
    const auto r = deliver(cw.callback(type, action, record, message_id));
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  Json::Value inbox() {
    const auto r = api.get("/v1/inbox?connection=cw");
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
    const auto r = api.get("/v1/inbox/" + items[items.size() - 1]["id"].asString());
    return r.json();
  }

  // Whether every push to ConnectWise came to an end (delivered or failed), none still waiting.
  bool pushes_done() {
    return eventually([&] {
      const Json::Value pending = api.get("/v1/deliveries?status=pending").json();
      return pending["items"].empty();
    });
  }

  // Our object linked to a ConnectWise id, looked up through the list routes.
  Json::Value client_of(const std::string& external_id) {
    const Json::Value list = api.get("/v1/clients").json();
    for (const auto& c : list["items"]) {
      if (c["external_ids"]["connectwise"].asString() == external_id) return c;
    }
    return Json::Value();
  }
};

inline Json::Value cw_company(int id, const std::string& name, int default_contact = 0) {
  Json::Value c;
  c["id"] = id;
  c["identifier"] = name.substr(0, name.find(' '));
  c["name"] = name;
  c["status"]["id"] = 1;
  c["status"]["name"] = "Active";
  c["types"][0]["id"] = 1;
  c["types"][0]["name"] = "Client";
  c["deletedFlag"] = false;
  if (default_contact) c["defaultContact"]["id"] = default_contact;
  return c;
}

inline Json::Value cw_ticket(int id, int company, const std::string& summary,
                             const std::string& status = "New") {
  Json::Value t;
  t["id"] = id;
  t["summary"] = summary;
  t["company"]["id"] = company;
  t["board"]["id"] = 1;
  t["board"]["name"] = "Service Desk";
  t["status"]["name"] = status;
  t["closedFlag"] = status == "Closed";
  return t;
}

inline Json::Value cw_time(int id, int ticket, int company, int minutes,
                           const std::string& status = "Open") {
  Json::Value e;
  e["id"] = id;
  e["company"]["id"] = company;
  e["chargeToId"] = ticket;
  e["chargeToType"] = "ServiceTicket";
  e["member"]["id"] = 12;
  e["member"]["identifier"] = "alice";
  e["member"]["name"] = "Alice Ng";
  e["timeStart"] = "2026-03-02T09:00:00Z";
  char end[32];
  std::snprintf(end, sizeof end, "2026-03-02T%02d:%02d:00Z", 9 + minutes / 60, minutes % 60);
  e["timeEnd"] = end;
  e["actualHours"] = minutes / 60.0;
  e["billableOption"] = "Billable";
  e["notes"] = "Reset the spooler.\nPrinter back online.";
  e["internalNotes"] = "Customer asked for a callback.";
  e["workType"]["name"] = "Remote Support";
  e["status"] = status;
  return e;
}

}  // namespace psahost::test
