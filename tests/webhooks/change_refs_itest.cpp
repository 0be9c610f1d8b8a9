// How changes find the client they are about: by an external id once linked, by the debtor code
// its billing info carries (and then linked to the external id, which the client shows), and,
// with if_linked, not at all without the change being retried.
#include "support/api_session.hpp"
#include "support/wait.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

namespace {

struct Changes {
  ApiSession api{{"--inbox-backoff-ms", "20"}};
  int sent = 0;
  Changes() { add_connection(api.server().data_dir(), "standard-webhooks", "sw", kWebhookSecret); }

  // Sends the changes as one Standard Webhooks event and returns its inbox entry once the
  // connector had it (or, when settle is false, as soon as it was tried once).
  Json::Value send(const std::string& changes, bool settle = true) {
    const std::string body = R"({"type":"changes","data":{"changes":)" + changes + "}}";
    const std::string id = "msg_" + std::to_string(++sent);
    const auto r = api.client().post(
        "/webhooks/sw", body, standard_webhook_headers(kWebhookSecret, id, unix_now(), body));
    REQUIRE(r.status == 200);
    Json::Value entry;
    REQUIRE(eventually([&] {
      const auto items = api.get("/v1/inbox").json()["items"];
      for (const auto& item : items) {
        if (item["dedupe_key"].asString() != "id:" + id) continue;
        entry = api.get("/v1/inbox/" + std::to_string(item["id"].asInt64())).json();
        return settle ? entry["status"].asString() != "pending" : entry["attempts"].asInt() > 0;
      }
      return false;
    }));
    return entry;
  }

  std::string client_with_debtor_code(const std::string& name, const std::string& code) {
    const std::string id = api.create_client(name, false);
    const auto r =
        api.put("/v1/clients/" + id + "/billing-info", R"({"debtor_code":")" + code + R"("})");
    INFO(r.body);
    REQUIRE(r.status == 200);
    return id;
  }
};

std::string put_email(const std::string& client_ref, const std::string& email,
                      bool if_linked = false) {
  return R"([{"op":"billing_info.put","client":)" + client_ref +
         R"(,"merge":true,"billing_info":{"email":")" + email + R"("})" +
         (if_linked ? R"(,"if_linked":true)" : "") + "}]";
}

}  // namespace

TEST_CASE(
    "a client found by its debtor code is linked to the external id, which it then shows and "
    "is found by",
    "[webhooks][changes]") {
  Changes c;
  const std::string client = c.client_with_debtor_code("Contoso", "C-1001");
  const auto first =
      c.send(put_email(R"({"external_id":"cust-9","debtor_code":"C-1001"})", "a@contoso.example"));
  INFO(first.toStyledString());
  CHECK(first["status"] == "processed");
  CHECK(first["outcome"][0]["outcome"] == "applied");
  CHECK(first["outcome"][0]["object_id"] == client);
  const auto info = c.api.get("/v1/clients/" + client + "/billing-info").json();
  CHECK(info["email"] == "a@contoso.example");
  CHECK(info["debtor_code"] == "C-1001");  // merged, not replaced
  CHECK(c.api.get("/v1/clients/" + client).json()["external_ids"]["standard-webhooks"] == "cust-9");

  // The link alone finds it now.
  const auto second = c.send(put_email(R"({"external_id":"cust-9"})", "b@contoso.example"));
  CHECK(second["outcome"][0]["object_id"] == client);
  CHECK(c.api.get("/v1/clients/" + client + "/billing-info").json()["email"] ==
        "b@contoso.example");
}

TEST_CASE(
    "with if_linked a customer no client is linked to changes nothing and is not retried, "
    "and without it the change waits",
    "[webhooks][changes]") {
  Changes c;
  const std::string a = c.client_with_debtor_code("Alpha", "D-2");
  const std::string b = c.client_with_debtor_code("Beta", "D-2");
  // Unknown, and a debtor code two clients share: neither is guessed.
  for (const std::string ref : {R"({"external_id":"cust-x","debtor_code":"nobody"})",
                                R"({"external_id":"cust-y","debtor_code":"D-2"})"}) {
    const auto entry = c.send(put_email(ref, "x@example.com", true));
    INFO(entry.toStyledString());
    CHECK(entry["status"] == "processed");
    CHECK(entry["attempts"] == 1);
    CHECK(entry["outcome"][0]["outcome"] == "unchanged");
    CHECK(entry["outcome"][0]["object_id"].isNull());
  }
  for (const auto& id : {a, b}) {
    CHECK(c.api.get("/v1/clients/" + id + "/billing-info").json()["email"] == "");
    CHECK(c.api.get("/v1/clients/" + id).json()["external_ids"].empty());
  }
  const auto waiting = c.send(put_email(R"({"external_id":"cust-z"})", "z@example.com"), false);
  INFO(waiting.toStyledString());
  CHECK(waiting["status"] == "pending");
  CHECK(waiting["last_error"].asString().find("not known yet") != std::string::npos);
}
