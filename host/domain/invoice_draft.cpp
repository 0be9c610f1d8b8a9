#include "domain/invoice_draft.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>

namespace psahost::domain {
namespace {

struct EntityDraft {
  DraftInvoice draft;
  std::vector<LeftOff> left_off;
  std::string reason, detail;  // set once the entity cannot be invoiced
};

std::string part_description(const PartFacts& part, const Coverage& service,
                             const Interval& interval) {
  std::string text =
      part.description + ", " + format_date(service.from) + " to " + format_date(service.to);
  if (service.days != interval.days()) {
    text +=
        " (" + std::to_string(service.days) + " of " + std::to_string(interval.days()) + " days)";
  }
  return text;
}

void refuse(EntityDraft& e, std::string reason, std::string detail) {
  if (!e.reason.empty()) return;  // the first reason found is the one reported
  e.reason = std::move(reason);
  e.detail = std::move(detail);
}

// entity_of is asked for the contract's entity only once a part is due, so a contract with
// nothing due in the period does not list its entity as skipped.
void bill_contract(const ContractFacts& c, Period period, Date today, const Discount& rate,
                   const std::function<EntityDraft&(const std::string&)>& entity_of) {
  const bool upfront = c.when_to_bill != "afterwards";
  const auto interval =
      billed_interval(c.start, interval_months(c.invoice_interval), upfront, period);
  if (!interval) return;
  for (const auto& part : c.parts) {
    if (part.trial) continue;
    // A part bills within its contract's dates even when its own say otherwise.
    const Date from = std::max(part.start.value_or(c.start), c.start);
    std::optional<Date> to = part.end ? part.end : c.end;
    if (part.end && c.end) to = std::min(*part.end, *c.end);
    const auto service = coverage(*interval, from, to);
    if (!service) continue;
    EntityDraft& e = entity_of(c.billing_entity);
    if (c.currency != e.draft.currency) {
      e.left_off.push_back({"contract_part", part.id, "currency_mismatch",
                            "contract " + c.reference + " is in " + c.currency +
                                ", the client is billed in " + e.draft.currency});
      continue;
    }
    if (!part.price) {
      refuse(e, "unpriced_part",
             "part " + part.id + " of contract " + c.reference + " has no price; set one");
      continue;
    }
    if (!upfront && today < interval->end) {
      refuse(e, "interval_not_ended",
             "contract " + c.reference + " is billed afterwards and its interval ends on " +
                 format_date(interval->end - std::chrono::days(1)) +
                 "; run this period again from " + format_date(interval->end));
      continue;
    }
    const auto discount = parse_discount(part.discount);
    if (!discount) throw std::invalid_argument("stored discount is malformed: " + part.discount);
    InvoiceLine line;
    line.kind = "contract_part";
    line.description = part_description(part, *service, *interval);
    line.quantity = part.quantity;
    line.unit = part.unit;
    line.unit_price = *part.price;
    line.discount = discount->text;
    line.contract_id = c.id;
    line.contract_part_id = part.id;
    line.interval = interval;
    line.service = service;
    try {
      line.amount =
          prorated_amount(*part.price, part.quantity, *discount, service->days, interval->days());
    } catch (const std::overflow_error&) {
      refuse(e, "amount_too_large", "part " + part.id + " does not fit in an amount");
      continue;
    }
    if (!add_line(e.draft, std::move(line), rate)) {
      refuse(e, "amount_too_large", "the invoice's total does not fit in an amount");
    }
  }
}

}  // namespace

bool add_line(DraftInvoice& draft, InvoiceLine line, const Discount& rate) {
  line.tax = tax_amount(line.amount, rate);
  if (!draft.totals.add(line.amount, line.tax)) return false;
  draft.lines.push_back(std::move(line));
  return true;
}

std::vector<EntityOutcome> draft_invoices(const ClientFacts& facts, Period period, Date today) {
  const auto rate = parse_tax_rate(facts.billing.tax_rate);
  if (!rate || !facts.billing.payment_terms_days || facts.billing.currency.empty()) {
    throw std::invalid_argument("billing info of " + facts.client_id + " is not complete");
  }
  std::map<std::string, EntityDraft> entities;
  const auto entity = [&](const std::string& name) -> EntityDraft& {
    auto [it, inserted] = entities.try_emplace(name);
    if (inserted) {
      DraftInvoice& d = it->second.draft;
      d.billing_entity = name;
      d.currency = facts.billing.currency;
      d.tax_rate = rate->text;
      d.payment_terms_days = *facts.billing.payment_terms_days;
    }
    return it->second;
  };

  for (const auto& c : facts.contracts) bill_contract(c, period, today, *rate, entity);

  if (!facts.sales.empty() || !facts.time.empty()) {
    EntityDraft& e = entity("");
    for (const auto& s : facts.sales) {
      if (s.currency != e.draft.currency) {
        e.left_off.push_back(
            {"sales_item", s.id, "currency_mismatch",
             "the item is in " + s.currency + ", the client is billed in " + e.draft.currency});
        continue;
      }
      InvoiceLine line;
      line.kind = "sales_item";
      line.description = s.description;
      line.quantity = s.quantity;
      line.unit_price = s.unit_price;
      line.sales_item_id = s.id;
      const __int128 amount = static_cast<__int128>(s.quantity) * s.unit_price;
      if (amount > std::numeric_limits<int64_t>::max()) {
        refuse(e, "amount_too_large", "sales item " + s.id + " does not fit in an amount");
        continue;
      }
      line.amount = static_cast<int64_t>(amount);
      if (!add_line(e.draft, std::move(line), *rate)) {
        refuse(e, "amount_too_large", "the invoice's total does not fit in an amount");
      }
    }
    for (const auto& t : facts.time) {
      if (t.currency != e.draft.currency) {
        e.left_off.push_back({"time_entry", t.id, "currency_mismatch",
                              "the entry's rate is in " + t.currency +
                                  ", the client is billed in " + e.draft.currency});
        continue;
      }
      InvoiceLine line;
      line.kind = "time_entry";
      line.description = t.subject + " - " + t.technician + ", " + t.work_date;
      line.quantity = t.billed_minutes;
      line.unit = "minutes";
      line.unit_price = t.rate;
      line.time_entry_id = t.id;
      line.ticket_id = t.ticket_id;
      line.work_date = t.work_date;
      line.amount = time_amount(t.billed_minutes, t.rate);
      if (!add_line(e.draft, std::move(line), *rate)) {
        refuse(e, "amount_too_large", "the invoice's total does not fit in an amount");
      }
    }
  }

  std::vector<EntityOutcome> out;
  for (auto& [name, e] : entities) {
    EntityOutcome o;
    o.billing_entity = name;
    o.left_off = std::move(e.left_off);
    if (!e.reason.empty()) {
      o.reason = std::move(e.reason);
      o.detail = std::move(e.detail);
    } else if (e.draft.lines.empty()) {
      o.reason = "nothing_due";
    } else {
      o.draft = std::move(e.draft);
    }
    out.push_back(std::move(o));
  }
  if (out.empty()) out.push_back(EntityOutcome{"", std::nullopt, "nothing_due", "", {}});
  return out;
}

}  // namespace psahost::domain
