// Invoices: the list and one invoice with its lines, and a manual invoice issued at once
// (POST /v1/invoices): reviewed as invoice.issue, numbered inside the write that stores it.
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "billing/invoices.hpp"
#include "billing/manual_invoice.hpp"
#include "domain/billing_calendar.hpp"

#include <algorithm>

namespace psahost::api {
namespace {

constexpr Json::ArrayIndex kMaxLines = 500;

using billing::ManualLine;

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
        if (!errors.empty()) return validation_failed(errors);
        const billing::InvoiceFilter filter{client_id, period, status, page.after, page.limit};
        Json::Value body;
        ctx.store.read(
            [&](store::Tx& tx) { body = billing::list_invoices(tx, who.tenant_id, filter); });
        return http::Response::json(200, body);
      });

  add_sync_route(
      router, ctx, "GET", "/v1/invoices/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<std::string> invoice;
        ctx.store.read([&](store::Tx& tx) {
          invoice = billing::invoice_text(tx, who.tenant_id, params.at("id"));
        });
        return invoice ? http::Response::text(200, std::move(*invoice), "application/json")
                       : not_found("invoice", params.at("id"));
      });
}

void add_manual(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/invoices", auth::Right::manage_billing,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              f.only({"client_id", "billing_entity", "lines"});
              const auto client_id = f.text("client_id", true, 100);
              const std::string entity = f.text("billing_entity", false, 200).value_or("");
              auto lines = read_lines(f, *body);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              const billing::ManualInvoiceRequest request{*client_id, entity, std::move(lines)};
              auto prepared = billing::prepare_manual_invoice(ctx.store, ctx.plugins, ctx.admission,
                                                              who, request);
              if (!prepared) return respond(to_problem(prepared.refusal()));
              commit(ctx, respond, [prepared = std::move(*prepared)](store::Tx& tx) {
                const auto issued = billing::issue_prepared(tx, prepared);
                if (!issued) refuse(issued.refusal());
                auto r = http::Response::json(
                    201, billing::invoice_json(tx, prepared.tenant_id, issued->id));
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
