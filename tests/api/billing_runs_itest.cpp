// Billing runs and invoices through HTTPS against the real binary and a real SQLite file: what
// a run bills (upfront vs afterwards, proration, quarterly intervals, time and sales items), that
// a period is billed once, dry runs, manual invoices, and bad input changing nothing.
#include "support/billing.hpp"
#include "support/problem.hpp"
#include "support/sqlite_file.hpp"

#include <json/reader.h>

#include <catch2/catch.hpp>

#include <chrono>

using namespace psahost::test;

namespace {

Json::Value invoice(ApiSession& api, const std::string& id) {
  const auto r = api.get("/v1/invoices/" + id);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json();
}

// The invoice a run issued to a client; fails the test when it issued none.
Json::Value issued_to(ApiSession& api, const Json::Value& run, const std::string& client) {
  const Json::Value item = run_item(run, client);
  INFO(run.toStyledString());
  REQUIRE(item["outcome"] == "issued");
  return invoice(api, item["invoice_id"].asString());
}

std::string outcome_of(const Json::Value& run, const std::string& client) {
  const Json::Value item = run_item(run, client);
  return item["outcome"].asString() +
         (item["reason"].isString() ? ":" + item["reason"].asString() : "");
}

// a x b / c rounded half-up, in integers: how the tests state what a prorated line must be.
int64_t half_up(int64_t a, int64_t b, int64_t c) {
  return (2 * a * b + c) / (2 * c);
}

int days_in(const std::string& period) {
  using namespace std::chrono;
  const year_month_day_last last{year(std::stoi(period.substr(0, 4))) /
                                 month(static_cast<unsigned>(std::stoi(period.substr(5, 2)))) /
                                 std::chrono::last};
  return static_cast<int>(static_cast<unsigned>(last.day()));
}

std::string part(int64_t price, int64_t quantity = 1, const std::string& extra = "") {
  return R"({"description":"Backup","quantity":)" + std::to_string(quantity) + R"(,"price":)" +
         std::to_string(price) + extra + "}";
}

std::string contract(const std::string& start, const std::string& interval,
                     const std::string& timing, const std::string& parts) {
  return R"("contact_email":"it@contoso.example","start_date":")" + start +
         R"(","invoice_interval":")" + interval + R"(","when_to_bill":")" + timing +
         R"(","parts":[)" + parts + "]";
}

}  // namespace

TEST_CASE("upfront bills the run's own month and afterwards the month that ended as it began",
          "[billing]") {
  ApiSession api;
  verify_numbering(api);
  const std::string m0 = period_from_now(-3);
  const std::string m1 = period_from_now(-2);
  const std::string upfront = api.create_client("Upfront", true);
  const std::string afterwards = api.create_client("Afterwards", true);
  active_contract(api, upfront, contract(day_of(m0, 1), "monthly", "upfront", part(3000)));
  active_contract(api, afterwards, contract(day_of(m0, 1), "monthly", "afterwards", part(3000)));

  const Json::Value first = run_billing(api, m0);
  const Json::Value upfront_m0 = issued_to(api, first, upfront);
  CHECK(upfront_m0["lines"][0]["interval"]["start"] == day_of(m0, 1));
  CHECK(upfront_m0["lines"][0]["amount"].asInt64() == 3000);
  // The afterwards contract's first month has not ended when m0 begins: nothing is due yet.
  CHECK(outcome_of(first, afterwards) == "skipped:nothing_due");

  const Json::Value second = run_billing(api, m1);
  CHECK(issued_to(api, second, upfront)["lines"][0]["interval"]["start"] == day_of(m1, 1));
  const Json::Value afterwards_m0 = issued_to(api, second, afterwards);
  CHECK(afterwards_m0["lines"][0]["interval"]["start"] == day_of(m0, 1));
  CHECK(afterwards_m0["lines"][0]["interval"]["end"] == day_of(m1, 1));
  CHECK(afterwards_m0["lines"][0]["amount"].asInt64() == 3000);
  CHECK(afterwards_m0["period"] == m1);

  // Run ahead for next month: upfront is billed in advance; afterwards would bill a month that
  // has not ended, so that client waits and a later run of the same period bills it.
  const Json::Value ahead = run_billing(api, period_from_now(1));
  CHECK(outcome_of(ahead, upfront) == "issued");
  CHECK(outcome_of(ahead, afterwards) == "skipped:interval_not_ended");
  CHECK(run_item(ahead, afterwards)["detail"].asString().find(day_of(period_from_now(1), 1)) !=
        std::string::npos);
}

TEST_CASE("parts that start or end inside an interval are prorated by day, half-up per line",
          "[billing]") {
  ApiSession api;
  verify_numbering(api);
  const std::string m = period_from_now(-2);
  const std::string next = period_from_now(-1);
  const std::string client = api.create_client("Contoso", true);
  // Starts on the 11th; the second part ends on the 20th of the month after.
  active_contract(
      api, client,
      contract(day_of(m, 11), "monthly", "upfront",
               part(3100, 2) + "," + part(1000, 1, R"(,"end_date":")" + day_of(next, 20) + "\"")));

  const Json::Value first = issued_to(api, run_billing(api, m), client);
  const int days = days_in(m) - 10;
  REQUIRE(first["lines"].size() == 2);
  for (const auto& line : first["lines"]) {
    CHECK(line["days"].asInt() == days);
    CHECK(line["interval_days"].asInt() == days_in(m));
    CHECK(line["service_from"] == day_of(m, 11));
  }
  const int64_t a = half_up(3100 * 2, days, days_in(m));
  const int64_t b = half_up(1000, days, days_in(m));
  CHECK(first["lines"][0]["amount"].asInt64() == a);
  CHECK(first["lines"][1]["amount"].asInt64() == b);
  CHECK(first["lines"][0]["tax_amount"].asInt64() == half_up(a, 21, 100));
  CHECK(first["net_amount"].asInt64() == a + b);
  CHECK(first["tax_amount"].asInt64() == half_up(a, 21, 100) + half_up(b, 21, 100));
  CHECK(first["total_amount"].asInt64() ==
        first["net_amount"].asInt64() + first["tax_amount"].asInt64());

  const Json::Value second = issued_to(api, run_billing(api, next), client);
  REQUIRE(second["lines"].size() == 2);
  CHECK(second["lines"][0]["amount"].asInt64() == 6200);
  CHECK(second["lines"][1]["days"].asInt() == 20);
  CHECK(second["lines"][1]["service_to"] == day_of(next, 20));
  CHECK(second["lines"][1]["amount"].asInt64() == half_up(1000, 20, days_in(next)));
}

TEST_CASE("a quarterly part billed upfront is not billed again until its next quarter",
          "[billing]") {
  ApiSession api;
  verify_numbering(api);
  const std::string q0 = period_from_now(-5);
  const std::string client = api.create_client("Quarterly", true);
  active_contract(api, client, contract(day_of(q0, 1), "quarterly", "upfront", part(9000)));

  const Json::Value quarter = issued_to(api, run_billing(api, q0), client);
  REQUIRE(quarter["lines"].size() == 1);
  const Json::Value line = quarter["lines"][0];
  CHECK(line["interval"]["start"] == day_of(q0, 1));
  CHECK(line["interval"]["end"] == day_of(period_from_now(-2), 1));
  CHECK(line["amount"].asInt64() == 9000);
  for (int later : {-4, -3}) {
    CHECK(outcome_of(run_billing(api, period_from_now(later)), client) == "skipped:nothing_due");
  }
  const Json::Value next = issued_to(api, run_billing(api, period_from_now(-2)), client);
  CHECK(next["lines"][0]["interval"]["start"] == day_of(period_from_now(-2), 1));
  CHECK(outcome_of(run_billing(api, q0), client) == "skipped:already_invoiced");

  // The store itself refuses a second line for the same part and interval.
  SqliteFile db(api.server().data_dir() / "psahost.db");
  CHECK_THROWS(db.run(
      "INSERT INTO invoice_lines (invoice_id, line_no, tenant_id, kind, description, quantity, "
      "unit_price, amount, tax_amount, contract_part_id, interval_start) SELECT ?, 2, tenant_id, "
      "'contract_part', 'again', 1, 9000, 9000, 1890, contract_part_id, interval_start FROM "
      "invoice_lines WHERE invoice_id = ?",
      {next["id"].asString(), quarter["id"].asString()}));
  CHECK(db.count("SELECT COUNT(*) FROM invoice_lines WHERE contract_part_id = ?",
                 {line["contract_part_id"].asString()}) == 2);
}

TEST_CASE(
    "running a period again issues nothing new and lists every skipped client with its "
    "reason",
    "[billing]") {
  ApiSession api;
  verify_numbering(api);
  const std::string period = period_from_now(-1);
  const std::string billed = api.create_client("Billed", true);
  const std::string parked = api.create_client("Parked", true);
  const std::string idle = api.create_client("Nothing due", true);
  for (const auto& c : {billed, parked}) {
    active_contract(api, c, contract(day_of(period, 1), "monthly", "upfront", part(5000)));
  }
  // Parked's billing information becomes incomplete (no email) after its contract started.
  REQUIRE(api.put("/v1/clients/" + parked + "/billing-info",
                  R"({"business_name":"Parked BV","currency":"EUR"})")
              .status == 200);

  const Json::Value first = run_billing(api, period);
  CHECK(first["issued"].asInt() == 1);
  CHECK(first["skipped"].asInt() == 2);
  CHECK(outcome_of(first, billed) == "issued");
  const Json::Value parked_item = run_item(first, parked);
  CHECK(outcome_of(first, parked) == "skipped:billing_info_incomplete");
  CHECK(parked_item["prompt"]["action"] == "add_billing_info");
  CHECK(parked_item["prompt"]["client_id"] == parked);
  CHECK(outcome_of(first, idle) == "skipped:nothing_due");
  CHECK(first["reasons"]["billing_info_incomplete"].asInt() == 1);

  const Json::Value again = run_billing(api, period);
  CHECK(again["issued"].asInt() == 0);
  CHECK(outcome_of(again, billed) == "skipped:already_invoiced");
  CHECK(run_item(again, billed)["number"] == run_item(first, billed)["number"]);
  CHECK(outcome_of(again, parked) == "skipped:billing_info_incomplete");
  CHECK(outcome_of(again, idle) == "skipped:nothing_due");
  CHECK(api.get("/v1/invoices").json()["items"].size() == 1);

  // Once its billing information is complete, the parked client is picked up by a re-run.
  api.complete_billing(parked);
  const Json::Value third = run_billing(api, period);
  CHECK(outcome_of(third, parked) == "issued");
  CHECK(outcome_of(third, billed) == "skipped:already_invoiced");
  const auto skipped = api.get("/v1/billing-runs/" + third["id"].asString() + "?outcome=skipped");
  REQUIRE(skipped.status == 200);
  CHECK(skipped.json()["items"].size() == 2);
  CHECK(api.get("/v1/invoices?period=" + period).json()["items"].size() == 2);
}

TEST_CASE(
    "a dry run shows the invoices it would issue with totals, issues nothing and takes "
    "no number",
    "[billing]") {
  ApiSession api;
  put_labour_catalog(api);
  const std::string client = api.create_client("Contoso", true);
  active_contract(api, client,
                  contract(day_of(period_from_now(0), 1), "monthly", "upfront", part(4500)));
  const std::string entry = approved_time(api, client, 30);
  verify_numbering(api);
  const Json::Value before = api.get("/v1/invoice-numbering").json();

  const Json::Value dry = run_billing(api, period_from_now(0), true);
  CHECK(dry["dry_run"].asBool());
  CHECK(dry["status"] == "completed");
  CHECK(dry["issued"].asInt() == 1);
  const Json::Value item = run_item(dry, client);
  CHECK(item["outcome"] == "would_issue");
  const Json::Value preview = item["invoice"];
  CHECK(preview["number"].isNull());
  REQUIRE(preview["lines"].size() == 2);
  CHECK(preview["lines"][0]["amount"].asInt64() == 4500);
  CHECK(preview["lines"][1]["kind"] == "time_entry");
  CHECK(preview["lines"][1]["amount"].asInt64() == 4500);  // 30 minutes at 9000 an hour
  CHECK(preview["net_amount"].asInt64() == 9000);
  CHECK(preview["total_amount"].asInt64() == 9000 + 945 + 945);
  CHECK(dry["totals"]["EUR"]["total_amount"].asInt64() == preview["total_amount"].asInt64());

  CHECK(api.get("/v1/invoices").json()["items"].empty());
  const Json::Value after = api.get("/v1/invoice-numbering").json();
  CHECK(after["next_invoice_number"] == before["next_invoice_number"]);
  CHECK(api.get("/v1/time-entries/" + entry).json()["status"] == "approved");
  SqliteFile db(api.server().data_dir() / "psahost.db");
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type IN ('invoice.issued', "
                 "'billing_run.completed')") == 0);
  // The real run then issues exactly what the dry run showed.
  const Json::Value real = issued_to(api, run_billing(api, period_from_now(0)), client);
  CHECK(real["total_amount"] == preview["total_amount"]);
  CHECK(real["number"] == before["next_invoice_number"]);
}

TEST_CASE(
    "approved time and sales items are billed once, become invoiced, and invoice.issued "
    "carries the whole invoice",
    "[billing]") {
  ApiSession api;
  put_labour_catalog(api);
  verify_numbering(api);
  const std::string client = api.create_client("Contoso", true);
  const std::string entry = approved_time(api, client, 7);  // 15 minutes with roundup 15
  const auto item = api.post("/v1/sales-items", R"({"client_id":")" + client +
                                                    R"(","description":"Router","quantity":2,
      "unit_price":12900,"currency":"EUR","status":"approved"})");
  REQUIRE(item.status == 201);
  const auto dollars = api.post("/v1/sales-items", R"({"client_id":")" + client +
                                                       R"(","description":"Cable","quantity":1,
      "unit_price":500,"currency":"USD","status":"approved"})");
  REQUIRE(dollars.status == 201);

  const Json::Value run = run_billing(api, period_from_now(0));
  const Json::Value inv = issued_to(api, run, client);
  REQUIRE(inv["lines"].size() == 2);
  CHECK(inv["lines"][0]["kind"] == "sales_item");
  CHECK(inv["lines"][0]["amount"].asInt64() == 25800);
  CHECK(inv["lines"][0]["tax_amount"].asInt64() == 5418);
  CHECK(inv["lines"][1]["kind"] == "time_entry");
  CHECK(inv["lines"][1]["quantity"].asInt64() == 15);
  CHECK(inv["lines"][1]["unit_price"].asInt64() == 9000);
  CHECK(inv["lines"][1]["amount"].asInt64() == 2250);
  CHECK(inv["lines"][1]["tax_amount"].asInt64() == 473);  // 472.5 rounds up
  CHECK(inv["net_amount"].asInt64() == 28050);
  CHECK(inv["total_amount"].asInt64() == 28050 + 5418 + 473);
  CHECK(inv["currency"] == "EUR");
  CHECK(inv["tax_rate"] == "21.00");
  CHECK(inv["payment_terms_days"].asInt() == 30);
  CHECK(inv["client"]["business_name"] == "Contoso Ltd");
  CHECK(inv["client"]["vat_number"] == "NL123456789B01");
  const Json::Value left_off = run_item(run, client)["left_off"];
  REQUIRE(left_off.size() == 1);
  CHECK(left_off[0]["id"] == dollars.json()["id"]);
  CHECK(left_off[0]["reason"] == "currency_mismatch");

  const Json::Value te = api.get("/v1/time-entries/" + entry).json();
  CHECK(te["status"] == "invoiced");
  CHECK(te["invoice_id"] == inv["id"]);
  const Json::Value si = api.get("/v1/sales-items/" + item.json()["id"].asString()).json();
  CHECK(si["status"] == "invoiced");
  CHECK(si["invoice_id"] == inv["id"]);

  SqliteFile db(api.server().data_dir() / "psahost.db");
  Json::Value payload;
  Json::CharReaderBuilder builder;
  std::string errors;
  const std::string text =
      db.run("SELECT payload FROM events WHERE type = 'invoice.issued' AND object_id = ?",
             {inv["id"].asString()});
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  REQUIRE(reader->parse(text.data(), text.data() + text.size(), &payload, &errors));
  // The event is the invoice as the API shows it: number, client, totals, lines, dates, ids.
  CHECK(payload == inv);
  CHECK(payload["external_ids"].isObject());
  CHECK(db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.issue' AND object_id = ?",
                 {inv["id"].asString()}) == 1);
  CHECK(db.count("SELECT COUNT(*) FROM events WHERE type = 'billing_run.completed'") == 1);

  // Billed once: the next month's run finds nothing due for the client.
  CHECK(outcome_of(run_billing(api, period_from_now(1)), client) == "skipped:nothing_due");
}

TEST_CASE(
    "a manual invoice is issued at once with the next number, and refused without "
    "billing information",
    "[billing]") {
  ApiSession api;
  const std::string client = api.create_client("Contoso", true);
  const std::string lines =
      R"("lines":[{"description":"Router","quantity":2,"unit_price":12900,"unit":"piece"}])";
  // Not before the numbering is verified.
  require_problem(api.post("/v1/invoices", R"({"client_id":")" + client + "\"," + lines + "}"), 409,
                  "numbering-not-verified");
  verify_numbering(api);
  const auto r = api.post("/v1/invoices", R"({"client_id":")" + client + "\"," + lines + "}");
  INFO(r.body);
  REQUIRE(r.status == 201);
  const Json::Value inv = r.json();
  CHECK(r.header("location") == "/v1/invoices/" + inv["id"].asString());
  CHECK(inv["kind"] == "manual");
  CHECK(inv["period"].isNull());
  CHECK(inv["number"] == api.get("/v1/invoice-numbering").json()["last_issued"]["number"]);
  CHECK(inv["net_amount"].asInt64() == 25800);
  CHECK(inv["lines"][0]["unit"] == "piece");

  const std::string bare = api.create_client("No billing info", false);
  const auto refused = api.post("/v1/invoices", R"({"client_id":")" + bare + "\"," + lines + "}");
  require_problem(refused, 409, "billing-info-required");
  CHECK(refused.json()["prompt"]["action"] == "add_billing_info");
  require_problem(api.post("/v1/invoices", R"({"client_id":"cli_nope",)" + lines + "}"), 404,
                  "not-found");
  const auto no_lines = api.post("/v1/invoices", R"({"client_id":")" + client + R"(","lines":[]})");
  require_problem(no_lines, 422, "validation-failed");
  CHECK(names_field(no_lines, "lines"));
  const auto bad_line = api.post(
      "/v1/invoices", R"({"client_id":")" + client +
                          R"(","lines":[{"description":"X","quantity":0,"unit_price":-1}]})");
  require_problem(bad_line, 422, "validation-failed");
  CHECK(names_field(bad_line, "lines[0].quantity"));
  CHECK(names_field(bad_line, "lines[0].unit_price"));
  CHECK(api.get("/v1/invoices").json()["items"].size() == 1);
  CHECK(api.get("/v1/invoices?client_id=" + bare).json()["items"].empty());
  CHECK(api.get("/v1/invoices?status=paid").json()["items"].empty());
  CHECK(api.get("/v1/invoices?status=issued").json()["items"].size() == 1);
}

TEST_CASE("bad billing run input is refused naming the field and changes nothing", "[billing]") {
  ApiSession api;
  verify_numbering(api);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"period":"2026-13"})", "period"},
      {R"({"period":"2026-1"})", "period"},
      {R"({"period":"202611"})", "period"},
      {R"({"period":"next month"})", "period"},
      {R"({"period":")" + period_from_now(2) + R"("})", "period"},
      {R"({"period":")" + period_from_now(24) + R"("})", "period"},
      {R"({})", "period"},
      {R"({"period":")" + period_from_now(0) + R"(","dry_run":"yes"})", "dry_run"},
      {R"({"period":")" + period_from_now(0) + R"(","tenant":"other"})", "tenant"},
  };
  for (const auto& [body, field] : bad) {
    CAPTURE(body);
    const auto r = api.post("/v1/billing-runs", body);
    require_problem(r, 422, "validation-failed");
    CHECK(names_field(r, field));
  }
  require_problem(api.post("/v1/billing-runs", "[1]"), 400, "malformed-json");
  SqliteFile db(api.server().data_dir() / "psahost.db");
  CHECK(db.count("SELECT COUNT(*) FROM billing_runs") == 0);
  require_problem(api.get("/v1/billing-runs/run_nope"), 404, "not-found");
  const std::string id = run_billing(api, period_from_now(0))["id"].asString();
  require_problem(api.get("/v1/billing-runs/" + id + "?limit=0"), 422, "validation-failed");
  require_problem(api.get("/v1/billing-runs/" + id + "?outcome=lost"), 422, "validation-failed");
  require_problem(api.get("/v1/invoices?period=2026-13"), 422, "validation-failed");
  require_problem(api.get("/v1/invoices?status=draft"), 422, "validation-failed");

  // Billing is for the admin and billing roles; another tenant does not see the run.
  const std::string technician = create_token(api.server().data_dir(), "default", "technician");
  require_problem(api.call_as(technician, "POST", "/v1/billing-runs",
                              R"({"period":")" + period_from_now(0) + R"("})"),
                  403, "forbidden");
  const std::string other = create_token(api.server().data_dir(), "other", "admin");
  require_problem(api.call_as(other, "GET", "/v1/billing-runs/" + id), 404, "not-found");
}
