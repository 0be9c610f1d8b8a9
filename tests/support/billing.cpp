#include "support/billing.hpp"

#include "domain/billing_calendar.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

namespace psahost::test {

std::string period_from_now(int months) {
  return domain::Period::of(domain::today_utc()).plus_months(months).text();
}

std::string day_of(const std::string& period, int day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s-%02d", period.c_str(), day);
  return buf;
}

void put_labour_catalog(ApiSession& api) {
  const auto r = api.put("/v1/catalog/products", R"({"items":[{"sku":"LABOUR","name":"Support",
      "unit":"hour","pricing":"per_hour","prices":{"EUR":9000},"default_labour":true}]})");
  INFO(r.body);
  REQUIRE(r.status == 200);
}

std::string active_contract(ApiSession& api, const std::string& client_id,
                            const std::string& members) {
  const auto created =
      api.post("/v1/contracts",
               R"({"client_id":")" + client_id + R"(","name":"Managed services",)" + members + "}");
  INFO(created.body);
  REQUIRE(created.status == 201);
  const std::string id = created.json()["id"].asString();
  const auto activated = api.post("/v1/contracts/" + id + "/activate");
  INFO(activated.body);
  REQUIRE(activated.status == 200);
  return id;
}

std::string approved_time(ApiSession& api, const std::string& client_id, int minutes) {
  const std::string entry = api.register_time(api.create_ticket(client_id), minutes);
  const auto r = api.post("/v1/time-entries/" + entry + "/approve");
  INFO(r.body);
  REQUIRE(r.status == 200);
  return entry;
}

Json::Value verify_numbering(ApiSession& api, const std::string& body) {
  const auto r = api.post("/v1/invoice-numbering/verify", body);
  INFO(r.body);
  REQUIRE(r.status == 200);
  const Json::Value v = r.json();
  REQUIRE(v["verified"].asBool());
  return v;
}

Json::Value wait_for_run(HttpsClient& client, const std::string& token, const std::string& id) {
  const std::map<std::string, std::string> auth = {{"authorization", "Bearer " + token}};
  Json::Value run;
  const bool ended = eventually(
      [&] {
        const auto r = client.get("/v1/billing-runs/" + id + "?limit=1000", auth);
        if (r.status != 200) return false;
        run = r.json();
        const std::string status = run["status"].asString();
        return status != "queued" && status != "running";
      },
      std::chrono::seconds(60));
  INFO(run.toStyledString());
  REQUIRE(ended);
  return run;
}

Json::Value run_billing(ApiSession& api, const std::string& period, bool dry_run) {
  const auto r = api.post("/v1/billing-runs", R"({"period":")" + period + R"(","dry_run":)" +
                                                  (dry_run ? "true" : "false") + "}");
  INFO(r.body);
  REQUIRE(r.status == 202);
  REQUIRE(r.header("location") == "/v1/billing-runs/" + r.json()["id"].asString());
  return wait_for_run(api.client(), api.token(), r.json()["id"].asString());
}

Json::Value run_item(const Json::Value& run, const std::string& client_id,
                     const std::string& billing_entity) {
  for (const auto& item : run["items"]) {
    if (item["client_id"].asString() == client_id &&
        item["billing_entity"].asString() == billing_entity) {
      return item;
    }
  }
  return Json::Value();
}

}  // namespace psahost::test
