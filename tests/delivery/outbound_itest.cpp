// Outbound webhooks against the real binary and a local HTTPS receiver: signed deliveries an
// independent library verifies, retries on the schedule, final answers, disabled endpoints that
// keep their messages, replays with the original webhook-id, and connectors' requests.
#include "core/clock.hpp"
#include "support/api_session.hpp"
#include "support/receiver.hpp"
#include "support/wait.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>

using namespace psahost::test;
using psahost::http::Response;

namespace {

// A host that trusts the receiver's certificate and retries quickly.
struct Outbound {
  Receiver receiver;
  TempDir plugins;
  std::vector<std::string> plugin_dirs = plugin_args(plugins.path(), {"webhook-probe"});
  ApiSession api;
  explicit Outbound(Receiver::Behaviour behaviour = {}, std::vector<std::string> extra = {})
      : receiver(std::move(behaviour)), api(args(extra)) {}

  std::vector<std::string> args(const std::vector<std::string>& extra) {
    std::vector<std::string> a = plugin_dirs;
    a.insert(a.end(), {"--outbound-ca", receiver.ca_file().string()});
    if (std::find(extra.begin(), extra.end(), "--delivery-retry-schedule") == extra.end()) {
      a.insert(a.end(), {"--delivery-retry-schedule", "0.05,0.05,0.05"});
    }
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // Subscribes the receiver's /hook to types; returns {id, secret}.
  std::pair<std::string, std::string> subscribe(const std::string& types = R"(["client.upserted"])",
                                                const std::string& path = "/hook") {
    const auto r = api.post("/v1/webhook-endpoints", R"({"url":")" + receiver.url(path) +
                                                         R"(","event_types":)" + types + "}");
    INFO(r.body);
    REQUIRE(r.status == 201);
    return {r.json()["id"].asString(), r.json()["secret"].asString()};
  }

  Json::Value deliveries(const std::string& query = "") {
    const auto r = api.get("/v1/deliveries" + query);
    REQUIRE(r.status == 200);
    return r.json()["items"];
  }

  // Waits until no delivery is pending any more; returns them all.
  Json::Value settled(const std::string& query = "") {
    Json::Value items;
    eventually(
        [&] {
          items = deliveries(query);
          for (const auto& d : items) {
            if (d["status"].asString() == "pending") return false;
          }
          return !items.empty();
        },
        std::chrono::seconds(20));
    return items;
  }
};

Receiver::Behaviour answer(int status, std::string body = "ok") {
  return [status, body](const Received&) { return Response::text(status, body); };
}

}  // namespace

TEST_CASE("every subscribed event reaches the endpoint signed, and the npm reference verifies it",
          "[delivery]") {
  Outbound out;
  const auto [endpoint, secret] = out.subscribe();
  CHECK(secret.starts_with("whsec_"));
  const std::string a = out.api.create_client("Contoso", false);
  out.api.create_client("Fabrikam", false);
  out.api.create_ticket(a);  // ticket.created: not subscribed
  REQUIRE(out.receiver.wait_for(2));
  const auto items = out.settled();
  REQUIRE(items.size() == 2);

  std::set<std::string> ids;
  for (const auto& request : out.receiver.received()) {
    INFO(request.body);
    CHECK(request.method == "POST");
    CHECK(request.target == "/hook");
    CHECK(npm_verifies(secret, request));
    CHECK_FALSE(npm_verifies("whsec_" + std::string(43, 'A') + "=", request));
    const auto body = json_of(request.body);
    CHECK(body["type"].asString() == "client.upserted");
    CHECK(body["ordering_key"].asString().starts_with("client:"));
    CHECK(request.header("webhook-id") == body["id"].asString());
    ids.insert(request.header("webhook-id"));
  }
  CHECK(ids.size() == 2);
  for (const auto& d : items) {
    CHECK(d["status"].asString() == "delivered");
    CHECK(d["endpoint_id"].asString() == endpoint);
    REQUIRE(d["attempts"].size() == 1);
    CHECK(d["attempts"][0]["status"].asInt() == 200);
    CHECK(d["attempts"][0]["latency_us"].asInt64() > 0);
  }
  CHECK(
      out.api.get("/metrics")
          .body.find("psahost_delivery_attempts_total{kind=\"webhook\",outcome=\"delivered\"} 2") !=
      std::string::npos);
}

TEST_CASE("5xx, 429 and network failures are retried with the original webhook-id", "[delivery]") {
  std::atomic<int> n{0};
  Outbound out([&](const Received&) -> std::optional<Response> {
    const int i = ++n;
    if (i == 1) return Response::text(500, "busy");
    if (i == 2) {
      Response r = Response::text(429, "slow down");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    if (i == 3) return Response::text(503, "maintenance");
    return Response::text(204, "");
  });
  out.subscribe();
  out.api.create_client("Contoso", false);
  const auto items = out.settled();
  REQUIRE(items.size() == 1);
  const auto& d = items[0];
  INFO(d.toStyledString());
  CHECK(d["status"].asString() == "delivered");
  REQUIRE(d["attempts"].size() == 4);
  CHECK(d["attempts"][0]["status"].asInt() == 500);
  CHECK(d["attempts"][1]["status"].asInt() == 429);
  CHECK(d["attempts"][3]["status"].asInt() == 204);
  // Retry-After: 1 outweighs the 50 ms schedule: the third attempt was planned at least a
  // second after the second started (what was recorded, not how long the test took).
  const auto second = psahost::parse_rfc3339(d["attempts"][1]["started_at"].asString());
  const auto third = psahost::parse_rfc3339(d["attempts"][2]["started_at"].asString());
  REQUIRE(second);
  REQUIRE(third);
  CHECK(*third - *second >= std::chrono::milliseconds(900));
  std::set<std::string> ids;
  for (const auto& r : out.receiver.received()) ids.insert(r.header("webhook-id"));
  CHECK(ids.size() == 1);
}

TEST_CASE("a 4xx is final, a 410 disables the endpoint and its messages wait for it",
          "[delivery]") {
  Outbound out(answer(400, "we do not want this"));
  const auto [endpoint, secret] = out.subscribe();
  out.api.create_client("Contoso", false);
  auto items = out.settled();
  REQUIRE(items.size() == 1);
  CHECK(items[0]["status"].asString() == "failed");
  CHECK(items[0]["attempts"].size() == 1);
  CHECK(items[0]["attempts"][0]["response_excerpt"].asString() == "we do not want this");

  out.receiver.set_behaviour(answer(410, "gone"));
  out.api.create_client("Fabrikam", false);
  REQUIRE(eventually([&] {
    return out.api.get("/v1/webhook-endpoints/" + endpoint).json()["status"].asString() ==
           "disabled";
  }));
  const auto ep = out.api.get("/v1/webhook-endpoints/" + endpoint).json();
  CHECK(ep["disabled_by"].asString() == "host");
  CHECK(ep["disabled_reason"].asString().find("410") != std::string::npos);

  // While disabled, new events queue up for it instead of being lost...
  out.receiver.set_behaviour(answer(200));
  out.api.create_client("Northwind", false);
  REQUIRE(eventually([&] { return out.deliveries("?status=pending").size() == 1; }));
  const std::size_t before = out.receiver.count();
  // ...and go out once it is enabled again, without anyone finding them.
  REQUIRE(out.api.patch("/v1/webhook-endpoints/" + endpoint, R"({"status":"active"})").status ==
          200);
  REQUIRE(out.receiver.wait_for(before + 1));
  // Recorded once the answer is in, a moment after the receiver saw the request.
  CHECK(eventually([&] { return out.deliveries("?status=pending").empty(); }));
}

TEST_CASE("a receiver that never answers times out and is retried, and a 10 MB answer is cut off",
          "[delivery]") {
  std::atomic<int> n{0};
  Outbound out(
      [&](const Received&) -> std::optional<Response> {
        const int i = ++n;
        if (i == 1) return std::nullopt;  // hold the connection, never answer
        if (i == 2) return Response::text(500, std::string(10 * 1024 * 1024, 'x'));
        return Response::text(200, "ok");
      },
      {"--delivery-timeout-ms", "400"});
  out.subscribe();
  out.api.create_client("Contoso", false);
  const auto items = out.settled();
  REQUIRE(items.size() == 1);
  const auto& attempts = items[0]["attempts"];
  INFO(items[0].toStyledString());
  REQUIRE(attempts.size() == 3);
  CHECK(attempts[0]["status"].isNull());
  CHECK(attempts[0]["error"].asString().find("timeout") != std::string::npos);
  CHECK(attempts[1]["status"].asInt() == 500);
  CHECK(attempts[1]["truncated"].asBool());
  CHECK(attempts[1]["response_excerpt"].asString().size() <= 1024);
  CHECK(items[0]["status"].asString() == "delivered");
}

TEST_CASE("a replay sends the delivery again with its original webhook-id", "[delivery]") {
  Outbound out;
  out.subscribe();
  out.api.create_client("Contoso", false);
  auto items = out.settled();
  REQUIRE(items.size() == 1);
  const std::string id = items[0]["id"].asString();
  REQUIRE(out.api.post("/v1/deliveries/" + id + "/replay").status == 200);
  REQUIRE(out.receiver.wait_for(2));
  const auto got = out.receiver.received();
  CHECK(got[0].header("webhook-id") == got[1].header("webhook-id"));
  CHECK(got[0].body == got[1].body);
  CHECK(out.api.post("/v1/deliveries/999999/replay").status == 404);
}

TEST_CASE(
    "an endpoint failing past the limit is disabled, warned about first, and recoverable "
    "by replaying since a time",
    "[delivery]") {
  Outbound out(answer(500, "down"), {"--endpoint-disable-after", "1", "--delivery-retry-schedule",
                                     "0.3,0.3,0.3,0.3,0.3,0.3"});
  const auto [endpoint, secret] = out.subscribe(R"(["client.upserted"])");
  const auto [watcher, watcher_secret] =
      out.subscribe(R"(["webhook_endpoint.failing","webhook_endpoint.disabled"])", "/watch");
  const std::string since = psahost::now_rfc3339();
  out.receiver.set_behaviour(
      [](const Received& r) { return Response::text(r.target == "/watch" ? 200 : 500, "down"); });
  out.api.create_client("Contoso", false);
  REQUIRE(eventually(
      [&] {
        return out.api.get("/v1/webhook-endpoints/" + endpoint).json()["status"].asString() ==
               "disabled";
      },
      std::chrono::seconds(20)));
  REQUIRE(eventually([&] {
    std::set<std::string> types;
    for (const auto& r : out.receiver.received()) {
      if (r.target == "/watch") {
        types.insert(json_of(r.body)["type"].asString());
      }
    }
    return types.count("webhook_endpoint.failing") && types.count("webhook_endpoint.disabled");
  }));
  // The partner fixes the receiver, enables the endpoint and replays what failed meanwhile.
  out.receiver.set_behaviour(answer(200));
  REQUIRE(out.api.patch("/v1/webhook-endpoints/" + endpoint, R"({"status":"active"})").status ==
          200);
  const auto replay = out.api.post("/v1/webhook-endpoints/" + endpoint + "/replay",
                                   R"({"since":")" + since + R"("})");
  INFO(replay.body);
  REQUIRE(replay.status == 200);
  REQUIRE(eventually([&] {
    for (const auto& d : out.deliveries("?endpoint_id=" + endpoint)) {
      if (d["status"].asString() != "delivered") return false;
    }
    return true;
  }));
  CHECK(out.api.post("/v1/webhook-endpoints/" + endpoint + "/replay", R"({"since":"yesterday"})")
            .status == 422);
}

TEST_CASE("a connector's requests go out through the outbox with its idempotency key and verdict",
          "[delivery][connectors]") {
  Outbound out([](const Received& r) -> std::optional<Response> {
    const auto body = json_of(r.body);
    if (body["name"].asString() == "Duplicate Ltd") return Response::text(409, "exists");
    return Response::json(201, [] {
      Json::Value v;
      v["id"] = "ext-42";
      return v;
    }());
  });
  add_connection(out.api.server().data_dir(), "webhook-probe", "probe", "probe-secret-123", [&] {
    auto a = out.plugin_dirs;
    a.push_back("--base-url");
    a.push_back(out.receiver.origin());
    return a;
  }());
  const std::string client = out.api.create_client("Contoso", false);
  REQUIRE(out.receiver.wait_for(1));
  const auto request = out.receiver.received()[0];
  CHECK(request.target == "/clients");
  CHECK(request.header("idempotency-key") == "client-" + client);
  const auto items = out.settled("?kind=request");
  REQUIRE(items.size() == 1);
  CHECK(items[0]["status"].asString() == "delivered");
  // sync.result linked the id the system gave: a webhook naming it finds the client.
  REQUIRE(out.api.post("/v1/clients", R"({"name":"Duplicate Ltd"})").status == 201);
  REQUIRE(eventually([&] { return out.settled("?kind=request").size() == 2; }));
  const auto all = out.settled("?kind=request");
  const auto& duplicate = all[1];
  INFO(duplicate.toStyledString());
  // A duplicate is final: the connector said so, and it is not retried.
  CHECK(duplicate["status"].asString() == "failed");
  CHECK(duplicate["attempts"].size() == 1);
  CHECK(duplicate["last_error"].asString().find("already has this client") != std::string::npos);

  // What the connector knows no retry will mend ends the sync delivery at once, with its reason.
  REQUIRE(out.api.post("/v1/clients", R"({"name":"Unpushable Ltd"})").status == 201);
  Json::Value failed;
  REQUIRE(eventually([&] {
    for (const auto& d : out.deliveries("?kind=sync&status=failed")) failed = d;
    return !failed.isNull();
  }));
  CHECK(failed["attempt_count"].asInt() == 1);
  CHECK(failed["last_error"].asString().find("takes no names this long") != std::string::npos);
}

TEST_CASE("endpoint input is checked field by field and nothing is stored", "[delivery]") {
  Outbound out;
  auto r = out.api.post("/v1/webhook-endpoints",
                        R"({"url":"http://127.0.0.1/hook","event_types":["client.upserted"]})");
  CHECK(r.status == 422);
  CHECK(r.body.find("\"url\"") != std::string::npos);
  r = out.api.post("/v1/webhook-endpoints",
                   R"({"url":"https://example.com/hook","event_types":["Client Upserted"]})");
  CHECK(r.status == 422);
  CHECK(r.body.find("event_types[0]") != std::string::npos);
  r = out.api.post("/v1/webhook-endpoints", R"({"url":"https://example.com/hook"})");
  CHECK(r.status == 422);
  r = out.api.post("/v1/webhook-endpoints",
                   R"({"url":"https://example.com/hook","event_types":["*"],"secret":"mine"})");
  CHECK(r.status == 422);
  CHECK(out.api.get("/v1/webhook-endpoints").json()["items"].empty());
}
