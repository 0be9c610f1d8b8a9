// Ticket-time approval through HTTPS against the real binary: roundup, rates, the workflow
// (approve, reject, resubmit, un-approve, invoiced), concurrency, bulk and the admission review.
#include "support/api_session.hpp"
#include "support/billing.hpp"
#include "support/problem.hpp"
#include "support/sqlite_file.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace psahost::test;

namespace {

// The host's database file, read only to count events and audit rows; everything the tests
// change goes through the API.
class Db : public SqliteFile {
 public:
  explicit Db(ApiSession& api) : SqliteFile(api.server().data_dir() / "psahost.db") {}

  int events(const std::string& entry, const std::string& type) {
    return static_cast<int>(
        count("SELECT COUNT(*) FROM events WHERE object_id = ? AND type = ?", {entry, type}));
  }
};

void put_catalog(ApiSession& api, const std::string& labour_prices = R"({"EUR":9000,"USD":9500})") {
  const auto r = api.put("/v1/catalog/products", R"({"items":[{"sku":"LABOUR","name":"Support",
      "unit":"hour","pricing":"per_hour","prices":)" +
                                                     labour_prices +
                                                     R"(,"default_labour":true},
      {"sku":"ONSITE","name":"On-site work","unit":"hour","pricing":"per_hour",
       "prices":{"EUR":11000}}]})");
  INFO(r.body);
  REQUIRE(r.status == 200);
}

std::string billing_in(const std::string& currency, int roundup = 15) {
  std::string body = complete_billing_body(roundup);
  body.replace(body.find("\"EUR\""), 5, "\"" + currency + "\"");
  return body;
}

std::string client_with(ApiSession& api, const std::string& name, const std::string& currency,
                        int roundup = 15) {
  const std::string id = api.create_client(name, false);
  const auto r = api.put("/v1/clients/" + id + "/billing-info", billing_in(currency, roundup));
  INFO(r.body);
  REQUIRE(r.status == 200);
  return id;
}

std::string register_time(ApiSession& api, const std::string& ticket, const std::string& body) {
  const auto r = api.post("/v1/tickets/" + ticket + "/time-entries", body);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json()["id"].asString();
}

Json::Value entry(ApiSession& api, const std::string& id) {
  const auto r = api.get("/v1/time-entries/" + id);
  REQUIRE(r.status == 200);
  return r.json();
}

Json::Value approve_ok(ApiSession& api, const std::string& id) {
  const auto r = api.post("/v1/time-entries/" + id + "/approve");
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json();
}

// A draft contract for the client, made through the API as the wizard makes one, with a priced
// labour part per SKU.
std::string draft_contract(ApiSession& api, const std::string& client,
                           const std::map<std::string, int64_t>& prices) {
  std::string parts;
  for (const auto& [sku, price] : prices) {
    if (!parts.empty()) parts += ",";
    parts += R"({"sku":")" + sku + R"(","description":")" + sku + R"(","quantity":1,"price":)" +
             std::to_string(price) + "}";
  }
  const auto r = api.post("/v1/contracts", R"({"client_id":")" + client +
                                               R"(","name":"Support","start_date":"2020-01-01",)"
                                               R"("currency":"EUR","parts":[)" +
                                               parts + "]}");
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json()["id"].asString();
}

std::map<std::string, Json::Value> by_id(const Json::Value& answer) {
  std::map<std::string, Json::Value> out;
  for (const auto& r : answer["results"]) out[r["id"].asString()] = r;
  return out;
}

}  // namespace

TEST_CASE("approved minutes are rounded up to the client's roundup per entry", "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  struct Case {
    int roundup, minutes, billed;
  };
  const std::vector<Case> table = {{15, 7, 15}, {15, 21, 30}, {15, 36, 45}, {15, 45, 45},
                                   {10, 1, 10}, {10, 11, 20}, {10, 20, 20}, {1, 7, 7}};
  std::map<int, std::string> tickets;
  for (int roundup : {15, 10, 1}) {
    tickets[roundup] =
        api.create_ticket(client_with(api, "Roundup " + std::to_string(roundup), "EUR", roundup));
  }
  for (const auto& c : table) {
    CAPTURE(c.roundup, c.minutes, c.billed);
    const std::string id = api.register_time(tickets[c.roundup], c.minutes);
    const auto approved = approve_ok(api, id);
    CHECK(approved["changed"].asBool());
    CHECK(approved["status"].asString() == "approved");
    CHECK(approved["minutes"].asInt() == c.minutes);  // registered minutes are kept
    CHECK(approved["billed_minutes"].asInt() == c.billed);
    CHECK(approved["rate"].asInt64() == 9000);
    CHECK(approved["currency"].asString() == "EUR");
    CHECK_FALSE(approved["approved_by"].asString().empty());
    CHECK_FALSE(approved["approved_at"].asString().empty());
    CHECK(approved["version"].asInt() == 2);
    CHECK(entry(api, id)["billed_minutes"].asInt() == c.billed);
  }
  // Billing info without a roundup gets the default of 10.
  const std::string plain = api.create_client("Default roundup", false);
  std::string body = complete_billing_body(15);
  body.replace(body.find(R"("roundup_minutes":15,)"), 21, "");
  REQUIRE(api.put("/v1/clients/" + plain + "/billing-info", body).status == 200);
  const std::string id = api.register_time(api.create_ticket(plain), 11);
  CHECK(approve_ok(api, id)["billed_minutes"].asInt() == 20);
}

TEST_CASE("the rate comes from the catalog's default labour product in the client's currency",
          "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  const std::string eur = api.create_ticket(client_with(api, "Euro client", "EUR"));
  const std::string usd = api.create_ticket(client_with(api, "Dollar client", "USD"));
  const auto a = approve_ok(api, api.register_time(eur, 30));
  CHECK(a["rate"].asInt64() == 9000);
  CHECK(a["currency"].asString() == "EUR");
  CHECK(a["rate_source"].asString() == "catalog");
  const auto b = approve_ok(api, api.register_time(usd, 30));
  CHECK(b["rate"].asInt64() == 9500);
  CHECK(b["currency"].asString() == "USD");
  // A work type with no contract part of its own is charged at the default labour rate.
  const auto c = approve_ok(
      api, register_time(api, eur, R"({"minutes":30,"technician":"bob","work_type":"ONSITE"})"));
  CHECK(c["rate"].asInt64() == 9000);
}

TEST_CASE("an active contract's labour part for the kind of work sets the rate before the catalog",
          "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  const std::string client = client_with(api, "Contract client", "EUR");
  const std::string ticket = api.create_ticket(client);
  const std::string contract = draft_contract(api, client, {{"LABOUR", 7500}, {"ONSITE", 12000}});

  // A draft contract does not price anything yet.
  CHECK(approve_ok(api, api.register_time(ticket, 30))["rate"].asInt64() == 9000);

  const auto activated = api.post("/v1/contracts/" + contract + "/activate");
  INFO(activated.body);
  REQUIRE(activated.status == 200);
  const auto general = approve_ok(api, api.register_time(ticket, 30));
  CHECK(general["rate"].asInt64() == 7500);
  CHECK(general["currency"].asString() == "EUR");
  CHECK(general["rate_source"].asString() == "contract");
  const auto onsite = approve_ok(
      api, register_time(api, ticket, R"({"minutes":50,"technician":"bob","work_type":"ONSITE"})"));
  CHECK(onsite["rate"].asInt64() == 12000);
  CHECK(onsite["billed_minutes"].asInt() == 60);

  // Without a catalog default labour product, the contract alone still prices the work.
  const auto r = api.put("/v1/catalog/products", R"({"items":[{"sku":"LABOUR","name":"Support",
      "unit":"hour","pricing":"per_hour","prices":{"EUR":9000},"default_labour":false}]})");
  REQUIRE(r.status == 200);
  CHECK(approve_ok(
            api, register_time(api, ticket,
                               R"({"minutes":5,"technician":"bob","work_type":"LABOUR"})"))["rate"]
            .asInt64() == 7500);
}

TEST_CASE("billable time without any labour rate is refused with a prompt to set one",
          "[time-approval]") {
  ApiSession api;
  const std::string client = client_with(api, "No rate", "EUR");
  const std::string ticket = api.create_ticket(client);
  const std::string billable = api.register_time(ticket, 20);
  const auto refused = api.post("/v1/time-entries/" + billable + "/approve");
  require_problem(refused, 409, "labour-rate-required");
  CHECK(refused.json()["prompt"]["action"].asString() == "set_labour_rate");
  CHECK(refused.json()["prompt"]["client_id"].asString() == client);
  CHECK_FALSE(refused.json()["detail"].asString().empty());
  const auto unchanged = entry(api, billable);
  CHECK(unchanged["status"].asString() == "submitted");
  CHECK(unchanged["version"].asInt() == 1);

  // Non-billable time needs no rate: approved, registered minutes kept, nothing billed.
  const std::string free =
      register_time(api, ticket, R"({"minutes":20,"technician":"alice","billable":false})");
  const auto approved = approve_ok(api, free);
  CHECK(approved["status"].asString() == "approved");
  CHECK(approved["minutes"].asInt() == 20);
  CHECK(approved["billed_minutes"].isNull());
  CHECK(approved["rate"].isNull());

  // A price in another currency is no rate for this client.
  put_catalog(api, R"({"USD":9500})");
  require_problem(api.post("/v1/time-entries/" + billable + "/approve"), 409,
                  "labour-rate-required");
  put_catalog(api);
  CHECK(approve_ok(api, billable)["rate"].asInt64() == 9000);
}

TEST_CASE("rejecting needs a reason and an edited rejected entry is resubmitted",
          "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  Db db(api);
  const std::string id = api.register_time(api.create_ticket(api.create_client("Rej", true)), 7);
  const auto no_reason = api.post("/v1/time-entries/" + id + "/reject", "{}");
  require_problem(no_reason, 422, "validation-failed");
  CHECK(no_reason.json()["errors"][0]["field"].asString() == "reason");

  const auto rejected =
      api.post("/v1/time-entries/" + id + "/reject", R"({"reason":"Wrong ticket"})");
  INFO(rejected.body);
  REQUIRE(rejected.status == 200);
  CHECK(rejected.json()["status"].asString() == "rejected");
  CHECK(rejected.json()["rejected_reason"].asString() == "Wrong ticket");
  require_problem(api.post("/v1/time-entries/" + id + "/approve"), 409, "invalid-transition");

  const auto edited = api.patch("/v1/time-entries/" + id, R"({"minutes":21,"note":"fixed"})");
  INFO(edited.body);
  REQUIRE(edited.status == 200);
  CHECK(edited.json()["status"].asString() == "submitted");
  CHECK(edited.json()["minutes"].asInt() == 21);
  CHECK(edited.json()["rejected_reason"].isNull());
  CHECK(edited.json()["version"].asInt() == 3);

  const auto approved = approve_ok(api, id);
  CHECK(approved["billed_minutes"].asInt() == 30);
  for (const char* type : {"time_entry.submitted", "time_entry.rejected", "time_entry.resubmitted",
                           "time_entry.approved"}) {
    CAPTURE(type);
    CHECK(db.events(id, type) == 1);
  }
  CHECK(db.run("SELECT COUNT(*) FROM audit_log WHERE object_id = ?", {id}) == "3");
  CHECK(db.run("SELECT after FROM audit_log WHERE object_id = ? AND action = "
               "'time_entry.approve'",
               {id})
            .find("\"billed_minutes\":30") != std::string::npos);
}

TEST_CASE("an approved entry can be unapproved until it is invoiced and invoiced time is immutable",
          "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  Db db(api);
  const std::string ticket = api.create_ticket(api.create_client("Unapp", true));
  const std::string id = api.register_time(ticket, 36);
  approve_ok(api, id);
  require_problem(api.patch("/v1/time-entries/" + id, R"({"minutes":40})"), 409,
                  "invalid-transition");
  const auto undone = api.post("/v1/time-entries/" + id + "/unapprove");
  INFO(undone.body);
  REQUIRE(undone.status == 200);
  CHECK(undone.json()["status"].asString() == "submitted");
  CHECK(undone.json()["billed_minutes"].isNull());
  CHECK(undone.json()["approved_by"].isNull());
  CHECK(db.events(id, "time_entry.unapproved") == 1);
  require_problem(api.post("/v1/time-entries/" + id + "/unapprove"), 409, "invalid-transition");
  CHECK(approve_ok(api, id)["billed_minutes"].asInt() == 45);

  // Invoiced the way time is: by a billing run over the month it was registered in.
  verify_numbering(api);
  run_billing(api, period_from_now(0));
  const auto before = entry(api, id);
  REQUIRE(before["status"].asString() == "invoiced");
  require_problem(api.post("/v1/time-entries/" + id + "/unapprove"), 409, "entry-invoiced");
  require_problem(api.patch("/v1/time-entries/" + id, R"({"minutes":10})"), 409, "entry-invoiced");
  require_problem(api.post("/v1/time-entries/" + id + "/reject", R"({"reason":"late"})"), 409,
                  "entry-invoiced");
  require_problem(api.post("/v1/time-entries/" + id + "/approve"), 409, "entry-invoiced");
  CHECK(entry(api, id) == before);
}

TEST_CASE("two approvers sending the same version get one approval and one conflict",
          "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  Db db(api);
  const std::string ticket = api.create_ticket(api.create_client("Race", true));
  // A few rounds, since which of the two loses depends on timing; the outcome must not.
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const std::string e = api.register_time(ticket, 21);
    std::vector<int> statuses(2);
    std::vector<std::string> types(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        HttpsClient c(api.server().port());
        const auto r = c.post("/v1/time-entries/" + e + "/approve", R"({"version":1})",
                              {{"authorization", "Bearer " + api.token()}});
        statuses[i] = r.status;
        types[i] = r.json()["type"].asString();
      });
    }
    for (auto& t : threads) t.join();
    std::sort(statuses.begin(), statuses.end());
    CHECK(statuses == std::vector<int>{200, 409});
    CHECK(std::count(types.begin(), types.end(), urn("conflict")) == 1);
    CHECK(entry(api, e)["version"].asInt() == 2);
    CHECK(db.events(e, "time_entry.approved") == 1);
  }
}

TEST_CASE("approving an already approved entry is a no-op that says so", "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  Db db(api);
  const std::string id = api.register_time(api.create_ticket(api.create_client("Twice", true)), 7);
  const auto first = approve_ok(api, id);
  const auto second = approve_ok(api, id);
  CHECK_FALSE(second["changed"].asBool());
  CHECK(second["detail"].asString().find("already approved") != std::string::npos);
  CHECK(second["version"] == first["version"]);
  CHECK(second["approved_at"] == first["approved_at"]);
  CHECK(db.events(id, "time_entry.approved") == 1);
  // A stale version is a conflict, not a silent success.
  require_problem(api.post("/v1/time-entries/" + id + "/approve", R"({"version":1})"), 409,
                  "conflict");
}

TEST_CASE("bulk approval by list reports per entry what happened and why", "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  const std::string ready = api.create_client("Ready", true);
  const std::string unbilled = api.create_client("Unbilled", false);
  const std::string pounds = client_with(api, "Pounds", "GBP");  // no GBP labour price
  const std::string t_ready = api.create_ticket(ready);
  const std::string a1 = api.register_time(t_ready, 7);
  const std::string a2 = api.register_time(t_ready, 21);
  const std::string done = api.register_time(t_ready, 10);
  approve_ok(api, done);
  const std::string rejected = api.register_time(t_ready, 10);
  REQUIRE(api.post("/v1/time-entries/" + rejected + "/reject", R"({"reason":"dup"})").status ==
          200);
  const std::string b1 = api.register_time(api.create_ticket(unbilled), 30);
  const std::string t_pounds = api.create_ticket(pounds);
  const std::string p_billable = api.register_time(t_pounds, 30);
  const std::string p_free =
      register_time(api, t_pounds, R"({"minutes":30,"technician":"al","billable":false})");
  const std::string other = create_token(api.server().data_dir(), "other-partner", "admin");
  const auto other_client = api.call_as(other, "POST", "/v1/clients", R"({"name":"Theirs"})");
  const auto other_ticket = api.call_as(
      other, "POST", "/v1/tickets",
      R"({"client_id":")" + other_client.json()["id"].asString() + R"(","subject":"x"})");
  const auto theirs =
      api.call_as(other, "POST",
                  "/v1/tickets/" + other_ticket.json()["id"].asString() + "/time-entries",
                  R"({"minutes":5,"technician":"eve"})")
          .json()["id"]
          .asString();

  const std::vector<std::string> ids = {a1,         a2,     done,   rejected,    b1,
                                        p_billable, p_free, theirs, "te_missing"};
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "\"" : ",\"") + id + "\"";
  const auto r = api.post("/v1/time-entries/approve", R"({"ids":[)" + list + "]}");
  INFO(r.body);
  REQUIRE(r.status == 200);
  const auto answer = r.json();
  REQUIRE(answer["results"].size() == ids.size());
  CHECK(answer["results"][0]["id"].asString() == a1);  // in the order asked
  auto rows = by_id(answer);
  CHECK(rows[a1]["outcome"].asString() == "approved");
  CHECK(rows[a1]["billed_minutes"].asInt() == 15);
  CHECK(rows[a1]["rate"].asInt64() == 9000);
  CHECK(rows[a2]["outcome"].asString() == "approved");
  CHECK(rows[a2]["billed_minutes"].asInt() == 30);
  CHECK(rows[done]["outcome"].asString() == "already_approved");
  CHECK(rows[rejected]["outcome"].asString() == "refused");
  CHECK(rows[rejected]["type"].asString() == urn("invalid-transition"));
  CHECK(rows[b1]["outcome"].asString() == "refused");
  CHECK(rows[b1]["type"].asString() == urn("billing-info-required"));
  CHECK(rows[b1]["prompt"]["action"].asString() == "add_billing_info");
  CHECK(rows[p_billable]["outcome"].asString() == "refused");
  CHECK(rows[p_billable]["type"].asString() == urn("labour-rate-required"));
  CHECK(rows[p_billable]["prompt"]["action"].asString() == "set_labour_rate");
  CHECK_FALSE(rows[p_billable]["reason"].asString().empty());
  CHECK(rows[p_free]["outcome"].asString() == "approved");  // no rate needed
  CHECK(rows[p_free]["billed_minutes"].isNull());
  CHECK(rows[theirs]["outcome"].asString() == "not_found");
  CHECK(rows["te_missing"]["outcome"].asString() == "not_found");
  CHECK(answer["counts"]["approved"].asInt() == 3);
  CHECK(answer["counts"]["refused"].asInt() == 3);
  CHECK(answer["counts"]["not_found"].asInt() == 2);
  CHECK(entry(api, b1)["status"].asString() == "submitted");
  CHECK(entry(api, p_billable)["status"].asString() == "submitted");
  CHECK(api.call_as(other, "GET", "/v1/time-entries/" + theirs).json()["status"].asString() ==
        "submitted");
}

TEST_CASE("bulk approval by filter approves the submitted entries it selects", "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  const std::string c1 = api.create_client("Filter one", true);
  const std::string c2 = api.create_client("Filter two", true);
  const std::string t1 = api.create_ticket(c1);
  const std::string t1b = api.create_ticket(c1);
  const std::string t2 = api.create_ticket(c2);
  const std::string old_entry =
      register_time(api, t1, R"({"minutes":10,"technician":"al","work_date":"2026-01-05"})");
  const std::string new_entry =
      register_time(api, t1, R"({"minutes":10,"technician":"al","work_date":"2026-02-05"})");
  const std::string other_ticket =
      register_time(api, t1b, R"({"minutes":10,"technician":"al","work_date":"2026-02-06"})");
  const std::string other_client = api.register_time(t2, 10);

  auto bulk = [&](const std::string& body) {
    const auto r = api.post("/v1/time-entries/approve", body);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json();
  };
  auto period =
      bulk(R"({"filter":{"client_id":")" + c1 + R"(","from":"2026-02-01","to":"2026-02-28"}})");
  CHECK(period["results"].size() == 2);
  CHECK(by_id(period)[new_entry]["outcome"].asString() == "approved");
  CHECK(by_id(period)[other_ticket]["outcome"].asString() == "approved");
  CHECK(entry(api, old_entry)["status"].asString() == "submitted");

  auto ticket = bulk(R"({"filter":{"ticket_id":")" + t1 + R"("}})");
  CHECK(ticket["results"].size() == 1);
  CHECK(ticket["results"][0]["id"].asString() == old_entry);
  CHECK(entry(api, other_client)["status"].asString() == "submitted");

  // Pages: limit and next_after walk through what the filter selects.
  for (int i = 0; i < 3; ++i) api.register_time(t2, 5);
  auto page = bulk(R"({"filter":{"client_id":")" + c2 + R"("},"limit":2})");
  CHECK(page["results"].size() == 2);
  REQUIRE(page["next_after"].isString());
  auto rest = bulk(R"({"filter":{"client_id":")" + c2 + R"("},"limit":2,"after":")" +
                   page["next_after"].asString() + "\"}");
  CHECK(rest["results"].size() == 2);
  CHECK(rest["next_after"].isNull());
  CHECK(bulk(R"({"filter":{"client_id":")" + c2 + R"("}})")["results"].size() == 0);
}

TEST_CASE("the admission review gives the platform the API's verdicts", "[time-approval]") {
  ApiSession api;
  const std::string client = api.create_client("Platform", false);
  const std::string entry_id = api.register_time(api.create_ticket(client), 20);
  auto review = [&](const std::string& object) {
    const auto r = api.post("/v1/admission", R"({"uid":"u1","operation":"time_entry.approve",
        "object":)" + object + "}");
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json();
  };
  const std::string object = R"({"client_id":")" + client + R"(","minutes":20})";

  auto denied = review(object);
  CHECK_FALSE(denied["allowed"].asBool());
  CHECK(denied["type"].asString() == urn("billing-info-required"));
  const auto api_says = api.post("/v1/time-entries/" + entry_id + "/approve");
  require_problem(api_says, 409, "billing-info-required");

  api.complete_billing(client);
  denied = review(object);
  CHECK_FALSE(denied["allowed"].asBool());
  CHECK(denied["type"].asString() == urn("labour-rate-required"));
  CHECK(denied["prompt"]["action"].asString() == "set_labour_rate");
  CHECK(denied["prompt"]["client_id"].asString() == client);
  require_problem(api.post("/v1/time-entries/" + entry_id + "/approve"), 409,
                  "labour-rate-required");
  CHECK(review(R"({"client_id":")" + client + R"(","minutes":20,"billable":false})")["allowed"]
            .asBool());

  put_catalog(api);
  CHECK(review(object)["allowed"].asBool());
  approve_ok(api, entry_id);
}

TEST_CASE("bad time input is refused naming it and nothing changes", "[time-approval]") {
  ApiSession api;
  put_catalog(api);
  const std::string client = api.create_client("Bad input", true);
  const std::string ticket = api.create_ticket(client);
  const std::string id = api.register_time(ticket, 30);
  const auto before = entry(api, id);

  auto field_of = [](const HttpResponse& r) { return r.json()["errors"][0]["field"].asString(); };
  for (const char* minutes : {"0", "-5", "1441", "\"ten\"", "12.5"}) {
    CAPTURE(minutes);
    const auto edit =
        api.patch("/v1/time-entries/" + id, std::string(R"({"minutes":)") + minutes + "}");
    require_problem(edit, 422, "validation-failed");
    CHECK(field_of(edit) == "minutes");
    const auto add = api.post("/v1/tickets/" + ticket + "/time-entries",
                              std::string(R"({"technician":"al","minutes":)") + minutes + "}");
    require_problem(add, 422, "validation-failed");
    CHECK(field_of(add) == "minutes");
  }
  const auto unknown = api.patch("/v1/time-entries/" + id, R"({"hours":1})");
  require_problem(unknown, 422, "validation-failed");
  CHECK(field_of(unknown) == "hours");
  require_problem(api.patch("/v1/time-entries/" + id, "{}"), 422, "validation-failed");

  const auto filter = api.post("/v1/time-entries/approve",
                               R"({"filter":{"client_id":")" + client + R"(","period":"2026"}})");
  require_problem(filter, 422, "validation-failed");
  CHECK(field_of(filter) == "filter.period");
  const auto dates = api.post("/v1/time-entries/approve", R"({"filter":{"from":"2026-02-30"}})");
  require_problem(dates, 422, "validation-failed");
  CHECK(field_of(dates) == "filter.from");
  require_problem(api.post("/v1/time-entries/approve", R"({"ids":[]})"), 422, "validation-failed");
  require_problem(api.post("/v1/time-entries/approve", R"({"ids":[")" + id + R"("],"filter":{}})"),
                  422, "validation-failed");
  require_problem(api.post("/v1/time-entries/" + id + "/approve", R"({"version":"1"})"), 422,
                  "validation-failed");

  // Another tenant's ticket, client and entry are not found, by name.
  const std::string other = create_token(api.server().data_dir(), "other-partner", "admin");
  const auto theirs = api.call_as(other, "POST", "/v1/tickets/" + ticket + "/time-entries",
                                  R"({"minutes":5,"technician":"eve"})");
  require_problem(theirs, 404, "not-found");
  CHECK(theirs.json()["detail"].asString().find(ticket) != std::string::npos);
  const auto their_filter = api.call_as(other, "POST", "/v1/time-entries/approve",
                                        R"({"filter":{"client_id":")" + client + R"("}})");
  require_problem(their_filter, 404, "not-found");
  CHECK(their_filter.json()["detail"].asString().find(client) != std::string::npos);
  require_problem(api.call_as(other, "PATCH", "/v1/time-entries/" + id, R"({"minutes":5})"), 404,
                  "not-found");
  require_problem(
      api.call_as(other, "POST", "/v1/time-entries/" + id + "/reject", R"({"reason":"x"})"), 404,
      "not-found");
  require_problem(api.call_as(other, "POST", "/v1/time-entries/" + id + "/approve"), 404,
                  "not-found");

  CHECK(entry(api, id) == before);
  CHECK(api.get("/v1/tickets/" + ticket + "/time-entries").json()["items"].size() == 1);
}
