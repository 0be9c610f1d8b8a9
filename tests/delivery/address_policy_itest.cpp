// The SSRF guard as a tenant meets it: outbound URLs at internal addresses are refused when
// registered, and a name that resolves to one is never connected to, with one error text.
#include "support/api_session.hpp"
#include "support/process.hpp"
#include "support/receiver.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using namespace psahost::test;
using psahost::http::Response;

namespace {

std::string endpoint_body(const std::string& url) {
  return R"({"url":")" + url + R"(","event_types":["*"]})";
}

}  // namespace

TEST_CASE("webhook endpoints at internal addresses are refused at registration, however spelt",
          "[delivery][ssrf]") {
  ApiSession api({"--allow-outbound-network", "none"});
  for (const std::string host :
       {"127.0.0.1", "localhost", "127.1", "0x7f000001", "2130706433", "[::1]",
        "[::ffff:127.0.0.1]", "10.1.2.3", "169.254.169.254", "[fd00::1]", "100.64.1.1"}) {
    INFO(host);
    const auto r = api.post("/v1/webhook-endpoints", endpoint_body("https://" + host + "/hook"));
    CHECK(r.status == 422);
    CHECK(r.body.find("\"url\"") != std::string::npos);
    CHECK(r.body.find("--allow-outbound-network") != std::string::npos);
  }
  CHECK(api.get("/v1/webhook-endpoints").json()["items"].empty());
  CHECK(api.post("/v1/webhook-endpoints", endpoint_body("https://hooks.example.com/in")).status ==
        201);
}

TEST_CASE("a connection's base URL at an internal address is refused naming the setting",
          "[delivery][ssrf]") {
  TempDir tmp;
  const auto r = run_cli({"connections", "add", "--data-dir", (tmp.path() / "var").string(),
                          "--tenant", "default", "--connector", "standard-webhooks", "--name",
                          "platform", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                          "--base-url", "https://127.1:9/api", "--allow-outbound-network", "none"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("base-url") != std::string::npos);
  CHECK(r.err.find("--allow-outbound-network") != std::string::npos);
}

TEST_CASE("an endpoint whose address is refused when connecting gets nothing, and one error text",
          "[delivery][ssrf]") {
  std::atomic<int> seen{0};
  Receiver receiver([&](const Received&) -> std::optional<Response> {
    ++seen;
    return Response::text(200, "internal answer");
  });
  const std::vector<std::string> base{"--outbound-ca", receiver.ca_file().string(),
                                      "--delivery-retry-schedule", "3600"};
  ApiSession api(base);
  // Registered while the operator allowed loopback (as a name could resolve anywhere later).
  REQUIRE(api.post("/v1/webhook-endpoints", endpoint_body(receiver.url("/hook"))).status == 201);
  auto strict = base;
  strict.insert(strict.end(), {"--allow-outbound-network", "none"});
  api.restart(strict);

  api.create_client("Contoso", false);
  Json::Value attempt;
  REQUIRE(eventually([&] {
    const auto items = api.get("/v1/deliveries").json()["items"];
    if (items.empty() || items[0]["attempts"].empty()) return false;
    attempt = items[0]["attempts"][0];
    return true;
  }));
  INFO(attempt.toStyledString());
  CHECK(attempt["status"].isNull());
  CHECK(attempt["response_excerpt"].isNull());
  CHECK(attempt["error"].asString() ==
        "could not connect: no connection could be made to the receiver");
  CHECK(seen == 0);
  // The operator's log says why.
  CHECK(api.server().stderr_text().find("allow-outbound-network") != std::string::npos);
}
