// Inbound webhooks against the real binary: signatures checked before anything is stored, a 2xx
// only after the commit, repeats stored once, and the connector's changes applied through the
// API's own rules (the billing gate included), with failures retried, parked and replayable.
#include "core/crypto.hpp"
#include "support/api_session.hpp"
#include "support/wait.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

namespace {

constexpr const char* kProbeSecret = "probe-webhook-key-0123456789";

// A host with the standard-webhooks connection "sw" and the test connector's connection "probe".
struct Inbound {
  TempDir plugins;
  std::vector<std::string> plugin_dirs = plugin_args(plugins.path(), {"webhook-probe"});
  ApiSession api;
  explicit Inbound(std::vector<std::string> extra = {}) : api(with(plugin_dirs, extra)) {
    add_connection(api.server().data_dir(), "standard-webhooks", "sw", kWebhookSecret, plugin_dirs);
    add_connection(api.server().data_dir(), "webhook-probe", "probe", kProbeSecret, plugin_dirs);
  }
  static std::vector<std::string> with(std::vector<std::string> a,
                                       const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  HttpResponse post_standard(const std::string& id, const std::string& body,
                             int64_t timestamp = unix_now()) {
    return api.client().post("/webhooks/sw", body,
                             standard_webhook_headers(kWebhookSecret, id, timestamp, body));
  }
  HttpResponse post_probe(const std::string& body) {
    return api.client().post(
        "/webhooks/probe", body,
        {{"x-probe-signature",
          psahost::crypto::base64_encode(psahost::crypto::hmac_sha256(kProbeSecret, body))},
         {"content-type", "application/json"}});
  }
  Json::Value inbox(const std::string& query = "") {
    const auto r = api.get("/v1/inbox" + query);
    REQUIRE(r.status == 200);
    return r.json()["items"];
  }
  // The entry once the connector has had it (processed or parked).
  Json::Value settled(int64_t id) {
    Json::Value entry;
    eventually([&] {
      entry = api.get("/v1/inbox/" + std::to_string(id)).json();
      return entry["status"].asString() != "pending";
    });
    return entry;
  }
};

std::string client_upsert(const std::string& external_id, const std::string& name) {
  return R"({"type":"client.upsert","data":{"ref":{"external_id":")" + external_id +
         R"("},"name":")" + name + R"(","type":"customer"}})";
}

}  // namespace

TEST_CASE("an event signed by the npm reference library is stored once and becomes a client",
          "[webhooks]") {
  Inbound in;
  const std::string body = client_upsert("250", "Contoso");
  const auto headers = npm_signed_headers(kWebhookSecret, "msg_contoso_1", unix_now(), body);
  const auto first = in.api.client().post("/webhooks/sw", body, headers);
  INFO(first.body);
  CHECK(first.status == 200);
  CHECK(first.body.empty());  // what Xero's intent-to-receive check wants, and enough for all
  // The sender retries (it did not hear us, say): the same message id is acknowledged again and
  // stored once.
  CHECK(in.api.client().post("/webhooks/sw", body, headers).status == 200);

  const auto entries = in.inbox();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["dedupe_key"].asString() == "id:msg_contoso_1");
  const auto entry = in.settled(entries[0]["id"].asInt64());
  INFO(entry.toStyledString());
  CHECK(entry["status"].asString() == "processed");
  CHECK(entry["outcome"][0]["outcome"].asString() == "applied");
  const std::string client_id = entry["outcome"][0]["object_id"].asString();
  const auto client = in.api.get("/v1/clients/" + client_id).json();
  CHECK(client["name"].asString() == "Contoso");
  CHECK(client["external_ids"]["standard-webhooks"].asString() == "250");
  CHECK(in.api.get("/metrics").body.find("psahost_inbox_entries_total{outcome=\"processed\"} 1") !=
        std::string::npos);
}

TEST_CASE("a bad, missing, foreign or stale signature is 401 and stores nothing", "[webhooks]") {
  Inbound in;
  const std::string body = client_upsert("251", "Fabrikam");
  auto headers = standard_webhook_headers(kWebhookSecret, "msg_x", unix_now(), body);

  auto tampered = headers;
  tampered["webhook-signature"][5] = tampered["webhook-signature"][5] == 'A' ? 'B' : 'A';
  CHECK(in.api.client().post("/webhooks/sw", body, tampered).status == 401);
  CHECK(in.api.client().post("/webhooks/sw", body + " ", headers).status == 401);
  CHECK(in.api.client().post("/webhooks/sw", body, {{"content-type", "application/json"}}).status ==
        401);
  const std::string other_secret = "whsec_" + psahost::crypto::base64_encode(std::string(32, 'x'));
  CHECK(in.api.client()
            .post("/webhooks/sw", body,
                  standard_webhook_headers(other_secret, "msg_x", unix_now(), body))
            .status == 401);
  const auto stale = in.post_standard("msg_old", body, unix_now() - 301);
  CHECK(stale.status == 401);
  CHECK(stale.json()["type"].asString() == "urn:psahost:problem:invalid-signature");
  CHECK(in.post_standard("msg_future", body, unix_now() + 301).status == 401);
  // Only a v1 entry counts.
  auto v2 = headers;
  v2["webhook-signature"] = "v2," + headers["webhook-signature"].substr(3);
  CHECK(in.api.client().post("/webhooks/sw", body, v2).status == 401);
  // The HMAC scheme of the test connector: the key's MAC over the raw body, nothing else.
  CHECK(in.api.client().post("/webhooks/probe", body, {{"x-probe-signature", "bm90IGl0"}}).status ==
        401);

  CHECK(in.inbox().empty());
}

TEST_CASE("invalid JSON after a valid signature is 400 and stores nothing", "[webhooks]") {
  Inbound in;
  const auto r = in.post_standard("msg_broken", R"({"type":"client.upsert",)");
  CHECK(r.status == 400);
  CHECK(r.json()["type"].asString() == "urn:psahost:problem:malformed-json");
  CHECK(in.post_probe("not json").status == 400);
  CHECK(in.inbox().empty());
}

TEST_CASE("an unknown connection is 404 whatever it is signed with", "[webhooks]") {
  Inbound in;
  const std::string body = client_upsert("252", "Northwind");
  const auto r = in.api.client().post(
      "/webhooks/nobody", body, standard_webhook_headers(kWebhookSecret, "m", unix_now(), body));
  CHECK(r.status == 404);
  CHECK(r.json()["type"].asString() == "urn:psahost:problem:unknown-connection");
  CHECK(in.api.client().post("/webhooks/nobody", body).status == 404);
  CHECK(in.inbox().empty());
}

TEST_CASE("a body over the limit is 413 and a control character in a header is 400", "[webhooks]") {
  Inbound in({"--body-limit", "4096"});
  const std::string big = R"({"type":"noise","data":")" + std::string(5000, 'x') + R"("})";
  CHECK(in.post_standard("msg_big", big).status == 413);
  // The host closes a connection after a 413; the rest goes on a new one.
  HttpsClient fresh(in.api.server().port());

  const std::string body = client_upsert("253", "Adatum");
  auto headers = standard_webhook_headers(kWebhookSecret, "msg_ctl", unix_now(), body);
  headers["x-note"] = std::string(
      "a\x01"
      "b");
  const auto r = fresh.post("/webhooks/sw", body, headers);
  CHECK(r.status == 400);
  // Either answer may close the connection: look with a new one.
  HttpsClient look(in.api.server().port());
  CHECK(look.get("/v1/inbox", {{"authorization", "Bearer " + in.api.token()}})
            .json()["items"]
            .empty());
}

TEST_CASE("a connector's natural key deduplicates a delivery sent twice with new ids",
          "[webhooks]") {
  Inbound in;
  const std::string body =
      R"({"event_id":"e-77","changes":[{"op":"client.upsert","ref":{"external_id":"c-77"},"name":"Tailspin"}]})";
  CHECK(in.post_probe(body).status == 200);
  CHECK(in.post_probe(body).status == 200);
  // Same event id, other bytes (a re-serialised resend): still the same delivery.
  const std::string resent =
      R"({"changes":[{"op":"client.upsert","ref":{"external_id":"c-77"},"name":"Tailspin"}], "event_id":"e-77"})";
  CHECK(in.post_probe(resent).status == 200);
  REQUIRE(in.inbox("?connection=probe").size() == 1);
}

TEST_CASE("changes from a webhook obey the billing gate like the API does",
          "[webhooks][billing-gate]") {
  Inbound in;
  // A client without billing info, its ticket and time: all through one webhook.
  const std::string body = R"({"type":"changes","data":{"changes":[
    {"op":"client.upsert","ref":{"external_id":"c1"},"name":"Litware"},
    {"op":"ticket.upsert","ref":{"external_id":"t1"},"client":{"external_id":"c1"},"subject":"VPN down"},
    {"op":"time_entry.upsert","ref":{"external_id":"te1"},"ticket":{"external_id":"t1"},"minutes":7,"technician":"bob"},
    {"op":"time_entry.approve","entry":{"external_id":"te1"}}]}})";
  REQUIRE(in.post_standard("msg_batch", body).status == 200);
  const auto entry = in.settled(in.inbox()[0]["id"].asInt64());
  INFO(entry.toStyledString());
  REQUIRE(entry["status"].asString() == "processed");
  const auto& outcome = entry["outcome"];
  REQUIRE(outcome.size() == 4);
  CHECK(outcome[0]["outcome"].asString() == "applied");
  CHECK(outcome[1]["outcome"].asString() == "applied");
  CHECK(outcome[2]["outcome"].asString() == "applied");
  // Registering time is never blocked; approving it is, until billing info is complete.
  CHECK(outcome[3]["outcome"].asString() == "refused");
  CHECK(outcome[3]["status"].asInt() == 409);
  CHECK(outcome[3]["problem"]["type"].asString() == "urn:psahost:problem:billing-info-required");
  CHECK(outcome[3]["problem"]["prompt"]["action"].asString() == "add_billing_info");
  const std::string entry_id = outcome[2]["object_id"].asString();
  CHECK(in.api.get("/v1/time-entries/" + entry_id).json()["status"].asString() == "submitted");

  // The same delivery arriving again (a resend with a new id) creates nothing twice.
  REQUIRE(in.post_standard("msg_batch_again", body).status == 200);
  const auto again = in.settled(in.inbox()[1]["id"].asInt64());
  CHECK(again["outcome"][0]["object_id"] == outcome[0]["object_id"]);
  CHECK(again["outcome"][2]["object_id"] == outcome[2]["object_id"]);
  CHECK(in.api.get("/v1/clients").json()["items"].size() == 1);

  // Once billing info is complete, the PSA's approval goes through.
  in.api.complete_billing(outcome[0]["object_id"].asString());
  in.api.put("/v1/catalog/products", R"({"items":[{"sku":"LABOUR","name":"Remote support",
    "unit":"hour","part_type":"default","pricing":"per_hour","prices":{"EUR":9000},"default_labour":true}]})");
  REQUIRE(
      in.post_standard("msg_approve",
                       R"({"type":"time_entry.approve","data":{"entry":{"external_id":"te1"}}})")
          .status == 200);
  const auto approved = in.settled(in.inbox()[2]["id"].asInt64());
  INFO(approved.toStyledString());
  CHECK(approved["outcome"][0]["outcome"].asString() == "applied");
  const auto te = in.api.get("/v1/time-entries/" + entry_id).json();
  CHECK(te["status"].asString() == "approved");
  CHECK(te["billed_minutes"].asInt() == 15);
}

TEST_CASE(
    "a change naming an object not synced yet lets later deliveries go first, and a failing "
    "connector is parked and replayable",
    "[webhooks]") {
  Inbound in({"--inbox-backoff-ms", "20", "--inbox-max-attempts", "3"});
  // The ticket arrives before its client (out of order): it waits for the client, which goes
  // ahead of it.
  REQUIRE(
      in.post_probe(R"({"event_id":"t","changes":[{"op":"ticket.upsert","ref":{"external_id":"t9"},
      "client":{"external_id":"c9"},"subject":"Mail"}]})")
          .status == 200);
  REQUIRE(
      in.post_probe(R"({"event_id":"c","changes":[{"op":"client.upsert","ref":{"external_id":"c9"},
      "name":"Proseware"}]})")
          .status == 200);
  auto entries = in.inbox("?connection=probe");
  REQUIRE(entries.size() == 2);
  // The client's entry went ahead of the ticket's, which waited for it, then was applied: no
  // one had to replay anything.
  const auto client = in.settled(entries[1]["id"].asInt64());
  CHECK(client["status"].asString() == "processed");
  const auto ticket = in.settled(entries[0]["id"].asInt64());
  INFO(ticket.toStyledString());
  CHECK(ticket["status"].asString() == "processed");
  CHECK(ticket["attempts"].asInt() >= 2);
  CHECK(ticket["outcome"][0]["outcome"].asString() == "applied");

  // A replay sends an entry through again, whatever became of it.
  REQUIRE(in.api.post("/v1/inbox/" + entries[0]["id"].asString() + "/replay").status == 200);
  const auto replayed = in.settled(entries[0]["id"].asInt64());
  CHECK(replayed["status"].asString() == "processed");
  CHECK(replayed["outcome"][0]["outcome"].asString() == "unchanged");

  // A connector that throws is retried, then parked with its error; the host keeps serving.
  REQUIRE(in.post_probe(R"({"event_id":"f","fail":"the mapping broke"})").status == 200);
  // One that hangs past its timeout_ms (300) is treated the same.
  REQUIRE(in.post_probe(R"({"event_id":"h","sleep_ms":1500})").status == 200);
  entries = in.inbox("?connection=probe");
  REQUIRE(entries.size() == 4);
  const auto failed = in.settled(entries[2]["id"].asInt64());
  CHECK(failed["status"].asString() == "parked");
  CHECK(failed["attempts"].asInt() == 3);
  CHECK(failed["last_error"].asString().find("the mapping broke") != std::string::npos);
  const auto hung = in.settled(entries[3]["id"].asInt64());
  CHECK(hung["status"].asString() == "parked");
  CHECK(hung["last_error"].asString().find("timed out") != std::string::npos);
  CHECK(in.api.get("/healthz").status == 200);
  CHECK(in.inbox("?status=parked").size() == 2);
}
