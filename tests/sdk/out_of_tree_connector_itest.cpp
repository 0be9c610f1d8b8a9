// What docs/writing-a-connector.md promises an outside developer: the example connector, built
// in an empty folder against the installed SDK only, loads into psahost, receives its system's
// signed webhooks, fetches what they only name with the connection's credentials, and reports a
// refusal back, all against a local fake of that system.
#include "core/crypto.hpp"
#include "support/api_session.hpp"
#include "support/receiver.hpp"
#include "support/sdk_example.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;
using psahost::http::Response;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDeskKey = "desk-webhook-key-123";

// Example Desk's API as the example's header comment describes it; it wants the bearer token
// the connection was given.
std::optional<Response> example_desk(const Received& r) {
  if (r.header("authorization") != "Bearer desk-token") return Response::text(401, "who are you");
  if (r.method == "GET" && r.target == "/api/me") return Response::text(200, "{}");
  if (r.method == "GET" && r.target == "/api/customers/42") {
    return Response::text(200, R"({"id":"42","name":"Contoso"})", "application/json");
  }
  if (r.method == "POST" && r.target.starts_with("/api/tickets/")) {
    return Response::text(201, "{}", "application/json");
  }
  return Response::text(404, "no such thing");
}

}  // namespace

TEST_CASE("the example connector built out of tree from the installed SDK syncs with its system",
          "[sdk][connectors]") {
  TempDir tmp;
  const fs::path plugin_dir = build_sdk_example("desk-connector", tmp.path());
  REQUIRE(fs::exists(plugin_dir / "desk-connector.json"));

  Receiver desk(example_desk);
  const std::vector<std::string> plugin_dirs{"--plugins-dir", PSAHOST_PLUGIN_DIR, "--plugins-dir",
                                             plugin_dir.string()};
  std::vector<std::string> args = plugin_dirs;
  args.insert(args.end(),
              {"--outbound-ca", desk.ca_file().string(), "--delivery-retry-schedule", "0.05,0.1"});
  ApiSession api(args);
  std::vector<std::string> extra = plugin_dirs;
  extra.insert(extra.end(), {"--base-url", desk.origin(), "--credentials",
                             R"({"type":"bearer","token":"desk-token"})"});
  add_connection(api.server().data_dir(), "desk-connector", "desk", kDeskKey, extra);

  // The partner checks the connection before relying on it.
  std::vector<std::string> test = {
      "connections", "test", "--data-dir",    api.server().data_dir().string(),
      "--name",      "desk", "--outbound-ca", desk.ca_file().string()};
  test.insert(test.end(), plugin_dirs.begin(), plugin_dirs.end());
  const auto checked = run_cli(test);
  INFO(checked.out << checked.err);
  CHECK(checked.exit_code == 0);
  CHECK(checked.out.find("ok") == 0);

  const auto send = [&](const std::string& body) {
    return api.client().post(
        "/webhooks/desk", body,
        {{"x-desk-signature",
          psahost::crypto::base64_encode(psahost::crypto::hmac_sha256(kDeskKey, body))},
         {"content-type", "application/json"}});
  };
  CHECK(api.client()
            .post("/webhooks/desk", R"({"event_id":"e0","type":"customer.updated"})",
                  {{"x-desk-signature", "bm90IHNpZ25lZA=="}})
            .status == 401);
  REQUIRE(send(R"({"event_id":"e1","type":"customer.updated","data":{"id":"42"}})").status == 200);
  REQUIRE(send(R"({"event_id":"e2","type":"ticket.created","data":{"id":"T1","customer_id":"42",
      "subject":"Printer offline"}})")
              .status == 200);
  REQUIRE(send(R"({"event_id":"e3","type":"time.logged","data":{"id":"L1","ticket_id":"T1",
      "minutes":20,"agent":"alice","approved":true}})")
              .status == 200);

  // The customer's name was fetched from Example Desk with the connection's token.
  Json::Value clients;
  REQUIRE(eventually([&] {
    clients = api.get("/v1/clients").json()["items"];
    return clients.size() == 1;
  }));
  CHECK(clients[0]["name"] == "Contoso");
  CHECK(clients[0]["external_ids"]["desk-connector"] == "42");

  // Approving the time was refused (Contoso has no billing info), and Example Desk hears why
  // on the ticket.
  REQUIRE(eventually([&] {
    for (const auto& r : desk.received()) {
      if (r.method == "POST" && r.target == "/api/tickets/T1/notes") return true;
    }
    return false;
  }));
  for (const auto& r : desk.received()) {
    if (r.target != "/api/tickets/T1/notes") continue;
    INFO(r.body);
    CHECK(json_of(r.body)["text"].asString().find("Billing information") != std::string::npos);
    CHECK(!r.header("idempotency-key").empty());
  }
  const auto inbox = api.get("/v1/inbox?connection=desk").json()["items"];
  REQUIRE(inbox.size() == 3);
  CHECK(inbox[2]["outcome"][1]["outcome"] == "refused");
  // Nothing of the connection's secret or token was logged.
  CHECK(api.server().stderr_text().find("desk-token") == std::string::npos);
  CHECK(api.server().stderr_text().find(kDeskKey) == std::string::npos);
}
