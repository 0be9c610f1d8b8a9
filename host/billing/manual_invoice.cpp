#include "billing/manual_invoice.hpp"

#include "billing/numbering.hpp"
#include "clients/client_record.hpp"
#include "domain/billing_calendar.hpp"

namespace psahost::billing {

domain::Result<PreparedInvoice> prepare_manual_invoice(store::Store& store,
                                                       const plugins::PluginRegistry& plugins,
                                                       const admission::Pipeline& admission,
                                                       const auth::Principal& who,
                                                       const ManualInvoiceRequest& request) {
  std::optional<clients::ClientRecord> client;
  store.read(
      [&](store::Tx& tx) { client = clients::load_client(tx, who.tenant_id, request.client_id); });
  if (!client) return domain::Refusal::not_found("client", request.client_id);

  const auto numbering = find_numbering_plugin(plugins);
  if (!numbering) return numbering.refusal();
  PreparedInvoice out{who.tenant_id, {}, *numbering};
  InvoiceToIssue& inv = out.invoice;
  inv.client_id = client->id;
  inv.client = client_snapshot(*client);
  inv.kind = "manual";
  inv.actor = who.token_id;
  inv.draft.billing_entity = request.billing_entity;
  const auto rate = client->billing && client->billing->is_complete()
                        ? domain::parse_tax_rate(client->billing->tax_rate)
                        : std::nullopt;
  if (rate) {
    inv.draft.currency = client->billing->currency;
    inv.draft.tax_rate = rate->text;
    inv.draft.payment_terms_days = *client->billing->payment_terms_days;
    for (const auto& l : request.lines) {
      domain::InvoiceLine line;
      line.kind = "manual";
      line.description = l.description;
      line.unit = l.unit;
      line.quantity = l.quantity;
      line.unit_price = l.unit_price;
      line.amount = l.quantity * l.unit_price;  // at most 10^6 x 10^12: fits
      if (!domain::add_line(inv.draft, std::move(line), *rate)) {
        return domain::Refusal::invalid(
            {{"lines", "the invoice's total does not fit in an amount"}});
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
  object["billing_entity"] = request.billing_entity;
  admission::Review review{auth::new_id("adm"), who.tenant_id,  "invoice.issue", object,
                           Json::nullValue,     Json::nullValue};
  review.user["token_id"] = who.token_id;
  const auto verdict = admission.review(review);
  if (!verdict.allowed) return verdict.to_refusal();
  if (!rate) {
    // Without a reviewer that says so, still no invoice without tax rate and terms.
    auto r = domain::Refusal::make(domain::RefusalKind::refused, "billing-info-required",
                                   "the client's billing information is incomplete; add it "
                                   "before invoicing it");
    r.prompt["action"] = "add_billing_info";
    r.prompt["client_id"] = inv.client_id;
    return r;
  }
  return out;
}

domain::Result<IssuedInvoice> issue_prepared(store::Tx& tx, const PreparedInvoice& prepared) {
  IssueRefusal why;
  const auto issued = issue_invoice(tx, *prepared.numbering, prepared.tenant_id, prepared.invoice,
                                    domain::format_date(domain::today_utc()), &why);
  if (!issued) return issue_refusal(why);
  return *issued;
}

}  // namespace psahost::billing
