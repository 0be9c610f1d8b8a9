#include "support/accounting.hpp"

#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace psahost::test {

std::vector<std::string> accounting_serve_args(const Receiver& fake,
                                               const std::vector<std::string>& extra) {
  std::vector<std::string> args{"--outbound-ca", fake.ca_file().string()};
  // A default each, unless the test gives its own (an option may be given only once).
  for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{
           {"--delivery-retry-schedule", "0.05,0.1,0.2"},
           {"--inbox-backoff-ms", "20"},
           {"--delivery-timeout-ms", "3000"}}) {
    if (std::find(extra.begin(), extra.end(), option) == extra.end()) {
      args.insert(args.end(), {option, value});
    }
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

Json::Value inbox(ApiSession& api) {
  const auto r = api.get("/v1/inbox?limit=100");
  REQUIRE(r.status == 200);
  return r.json()["items"];
}

Json::Value settled_entry(ApiSession& api, int64_t id) {
  Json::Value entry;
  const bool settled = eventually(
      [&] {
        entry = api.get("/v1/inbox/" + std::to_string(id)).json();
        return entry["status"].asString() != "pending";
      },
      std::chrono::seconds(20));
  INFO(entry.toStyledString());
  REQUIRE(settled);
  return entry;
}

Json::Value deliver_webhook(ApiSession& api, const std::string& connection, const std::string& body,
                            const std::map<std::string, std::string>& headers) {
  int64_t newest_before = 0;
  for (const auto& e : inbox(api)) newest_before = std::max(newest_before, e["id"].asInt64());
  const auto r = api.client().post("/webhooks/" + connection, body, headers);
  INFO(r.body);
  REQUIRE(r.status == 200);
  int64_t id = 0;
  REQUIRE(eventually([&] {
    for (const auto& e : inbox(api)) {
      if (e["id"].asInt64() > newest_before) id = std::max(id, e["id"].asInt64());
    }
    return id > 0;
  }));
  return settled_entry(api, id);
}

Json::Value invoice_of(ApiSession& api, const std::string& invoice_id) {
  const auto r = api.get("/v1/invoices/" + invoice_id);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json();
}

Json::Value issue_invoice(ApiSession& api, const std::string& client_id, int64_t unit_price,
                          int quantity) {
  const auto r = api.post("/v1/invoices", R"({"client_id":")" + client_id +
                                              R"(","lines":[{"description":"Router","quantity":)" +
                                              std::to_string(quantity) + R"(,"unit_price":)" +
                                              std::to_string(unit_price) + "}]}");
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json();
}

Json::Value settled_deliveries(ApiSession& api, const std::string& kind, std::size_t n) {
  Json::Value items;
  const bool settled = eventually(
      [&] {
        const auto r = api.get("/v1/deliveries?kind=" + kind);
        if (r.status != 200) return false;
        items = r.json()["items"];
        if (items.size() < n) return false;
        for (const auto& d : items) {
          if (d["status"].asString() == "pending") return false;
        }
        return true;
      },
      std::chrono::seconds(20));
  INFO(items.toStyledString());
  REQUIRE(settled);
  return items;
}

}  // namespace psahost::test
