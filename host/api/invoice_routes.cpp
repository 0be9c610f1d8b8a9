// Invoices: the list and one invoice with its lines, and a manual invoice issued at once
// (POST /v1/invoices): reviewed as invoice.issue, numbered inside the write that stores it.
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "api/invoice_services.hpp"
#include "api/numbering_services.hpp"
#include "api/page.hpp"
#include "auth/tokens.hpp"
#include "domain/billing_calendar.hpp"

#include <algorithm>

namespace psahost::api {
namespace {

constexpr Json::ArrayIndex kMaxLines = 500;

// Why no number could be taken, as the problem a client of the API gets.
http::Response refusal_problem(const IssueRefusal& r) {
  if (r.reason == "numbering_not_configured" || r.reason == "numbering_not_verified") {
    Json::Value extra;
    extra["prompt"]["action"] = "verify_invoice_numbering";
    extra["prompt"]["href"] = "/v1/invoice-numbering/verify";
    return http::problem(409, "numbering-not-verified", "Refused", r.detail, extra);
  }
  if (r.reason == "numbering_failed") {
    return http::problem(500, "numbering-failed", "Internal Server Error", r.detail);
  }
  if (r.reason == "number_taken") return http::problem(409, "number-taken", "Conflict", r.detail);
  return http::problem(409, "conflict", "Conflict", r.detail);
}

struct ManualLine {
  std::string description, unit;
  int64_t quantity = 0, unit_price = 0;
};

std::vector<ManualLine> read_lines(Fields& f, const Json::Value& body) {
  std::vector<ManualLine> lines;
  const Json::Value& list = body["lines"];
  if (!list.isArray() || list.empty() || list.size() > kMaxLines) {
    f.error("lines", "expected an array of 1 to " + std::to_string(kMaxLines) + " lines");
    return lines;
  }
  for (Json::ArrayIndex i = 0; i < list.size(); ++i) {
    const std::string at = "lines[" + std::to_string(i) + "]";
    if (!list[i].isObject()) {
      f.error(at, "expected an object");
      continue;
    }
    Fields lf(list[i], at);
    lf.only({"description", "quantity", "unit_price", "unit"});
    ManualLine l;
    l.description = lf.text("description", true, 1000).value_or("");
    l.unit = lf.text("unit", false, 50).value_or("");
    l.quantity = lf.integer("quantity", true, 1, 1'000'000).value_or(0);
    l.unit_price = lf.integer("unit_price", true, 0, 1'000'000'000'000).value_or(0);
    for (const auto& e : lf.errors()) f.error(e["field"].asString(), e["message"].asString());
    lines.push_back(std::move(l));
  }
  return lines;
}

void add_reads(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/invoices", auth::Right::read,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
        std::vector<domain::FieldError> errors;
        const auto client_id = req.query_param("client_id");
        const auto period = req.query_param("period");
        const auto status = req.query_param("status");
        if (period && !domain::Period::parse(*period)) {
          errors.push_back({"period", "expected a month as YYYY-MM"});
        }
        static const std::vector<std::string> kStatuses = {"issued", "sent", "paid", "void"};
        if (status && std::find(kStatuses.begin(), kStatuses.end(), *status) == kStatuses.end()) {
          errors.push_back({"status", "expected one of issued, sent, paid, void"});
        }
        const auto page = list_page(req, errors);
        const int64_t limit = page.limit;
        if (!errors.empty()) return validation_failed(errors);
        std::string sql = "SELECT id FROM invoices WHERE tenant_id = ? AND id > ?";
        std::vector<store::Value> params = {who.tenant_id, page.after};
        if (client_id) {
          sql += " AND client_id = ?";
          params.emplace_back(*client_id);
        }
        if (period) {
          sql += " AND period = ?";
          params.emplace_back(*period);
        }
        if (status) {
          sql += " AND status = ?";
          params.emplace_back(*status);
        }
        sql += " ORDER BY id LIMIT ?";
        params.emplace_back(limit);
        Json::Value body;
        Json::Value& items = body["items"] = Json::Value(Json::arrayValue);
        ctx.store.read([&](store::Tx& tx) {
          const auto ids = tx.query(sql, params);
          for (const auto& row : ids) {
            // A list shows each invoice without its lines; GET /v1/invoices/{id} has them.
            Json::Value v = invoice_json(tx, who.tenant_id, row.text(0));
            v["line_count"] = v["lines"].size();
            v.removeMember("lines");
            items.append(std::move(v));
          }
          if (static_cast<int64_t>(ids.size()) == limit) body["next_after"] = ids.back().text(0);
        });
        return http::Response::json(200, body);
      });

  add_sync_route(
      router, ctx, "GET", "/v1/invoices/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<std::string> invoice;
        ctx.store.read(
            [&](store::Tx& tx) { invoice = invoice_text(tx, who.tenant_id, params.at("id")); });
        return invoice ? http::Response::text(200, std::move(*invoice), "application/json")
                       : not_found("invoice", params.at("id"));
      });
}

void add_manual(http::Router& router, const ApiContext& ctx) {
  add_route(
      router, ctx, "POST", "/v1/invoices", auth::Right::manage_billing,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        f.only({"client_id", "billing_entity", "lines"});
        const auto client_id = f.text("client_id", true, 100);
        const std::string entity = f.text("billing_entity", false, 200).value_or("");
        const auto lines = read_lines(f, *body);
        if (!f.ok()) return respond(validation_failed(f.errors()));

        std::optional<ClientRecord> client;
        ctx.store.read([&](store::Tx& tx) { client = load_client(tx, who.tenant_id, *client_id); });
        if (!client) return respond(not_found("client", *client_id));

        const auto numbering = find_numbering_plugin(ctx.plugins);
        if (!numbering.plugin) {
          return respond(http::problem(numbering.status, numbering.error,
                                       numbering.status == 503 ? "Service Unavailable" : "Conflict",
                                       numbering.detail));
        }
        InvoiceToIssue inv;
        inv.client_id = client->id;
        inv.client = client_snapshot(*client);
        inv.kind = "manual";
        inv.actor = who.token_id;
        inv.draft.billing_entity = entity;
        const auto rate = client->billing && client->billing->is_complete()
                              ? domain::parse_tax_rate(client->billing->tax_rate)
                              : std::nullopt;
        if (rate) {
          inv.draft.currency = client->billing->currency;
          inv.draft.tax_rate = rate->text;
          inv.draft.payment_terms_days = *client->billing->payment_terms_days;
          for (const auto& l : lines) {
            domain::InvoiceLine line;
            line.kind = "manual";
            line.description = l.description;
            line.unit = l.unit;
            line.quantity = l.quantity;
            line.unit_price = l.unit_price;
            line.amount = l.quantity * l.unit_price;  // at most 10^6 x 10^12: fits
            if (!domain::add_line(inv.draft, std::move(line), *rate)) {
              return respond(validation_failed(std::vector<domain::FieldError>{
                  {"lines", "the invoice's total does not fit in an amount"}}));
            }
          }
        }
        // Reviewed before anything is written: the billing gate refuses a client whose billing
        // information is incomplete, the numbering plugin an unverified numbering.
        Json::Value object =
            rate ? draft_json(inv.draft, inv.client_id, domain::format_date(domain::today_utc()))
                 : Json::Value(Json::objectValue);
        object["client_id"] = inv.client_id;
        object["kind"] = "manual";
        object["billing_entity"] = entity;
        admission::Review review{auth::new_id("adm"), who.tenant_id,  "invoice.issue", object,
                                 Json::nullValue,     Json::nullValue};
        review.user["token_id"] = who.token_id;
        const auto verdict = ctx.admission.review(review);
        if (!verdict.allowed) return respond(refused(verdict));
        if (!rate) {
          // Without a reviewer that says so, still no invoice without tax rate and terms.
          Json::Value extra;
          extra["prompt"]["action"] = "add_billing_info";
          extra["prompt"]["client_id"] = inv.client_id;
          return respond(http::problem(409, "billing-info-required", "Refused",
                                       "the client's billing information is incomplete; add it "
                                       "before invoicing it",
                                       extra));
        }
        commit(ctx, respond,
               [tenant = who.tenant_id, inv = std::move(inv),
                plugin = numbering.plugin](store::Tx& tx) {
                 IssueRefusal why;
                 const auto issued = issue_invoice(tx, *plugin, tenant, inv,
                                                   domain::format_date(domain::today_utc()), &why);
                 if (!issued) refuse(refusal_problem(why));
                 auto r = http::Response::json(201, invoice_json(tx, tenant, issued->id));
                 r.headers.emplace_back("Location", "/v1/invoices/" + issued->id);
                 return r;
               });
      });
}

}  // namespace

void add_invoice_routes(http::Router& router, const ApiContext& ctx) {
  add_reads(router, ctx);
  add_manual(router, ctx);
}

}  // namespace psahost::api
