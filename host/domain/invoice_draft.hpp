// What a client owes for a billing period, decided from facts the caller read: the contract parts
// due by their interval and timing, approved time and approved sales items, as one draft invoice
// per billing entity in the client's billing currency, with each line's amount and tax.
#pragma once

#include "domain/billing_calendar.hpp"
#include "domain/billing_info.hpp"
#include "domain/invoice_amounts.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psahost::domain {

struct PartFacts {
  std::string id;
  std::string description;  // the part's, else its product's name
  std::string unit;         // its product's unit, or ""
  int64_t quantity = 0;
  std::optional<int64_t> price;  // minor units of the contract's currency
  std::string discount = "0.00";
  std::optional<Date> start;  // nullopt: the contract's start
  std::optional<Date> end;    // inclusive; nullopt: as long as the contract
  bool trial = false;         // a trial part is not billed
};

struct ContractFacts {
  std::string id;
  std::string reference;
  std::string billing_entity;
  std::string currency;
  std::string invoice_interval;  // monthly | quarterly | semi_annually | yearly
  std::string when_to_bill;      // upfront | afterwards
  Date start;
  std::optional<Date> end;  // inclusive; nullopt: bill forever
  std::vector<PartFacts> parts;
};

// An approved, billable time entry that is not invoiced yet.
struct TimeFacts {
  std::string id, ticket_id, subject, technician, work_date, currency;
  int64_t billed_minutes = 0;
  int64_t rate = 0;  // minor units per hour
};

// An approved sales item that is not invoiced yet.
struct SalesFacts {
  std::string id, description, currency, date;
  int64_t quantity = 0;
  int64_t unit_price = 0;
};

struct ClientFacts {
  std::string client_id;
  BillingInfo billing;  // complete: currency, tax_rate and payment terms are given
  std::vector<ContractFacts> contracts;
  std::vector<TimeFacts> time;    // work_date on or before the period's last day
  std::vector<SalesFacts> sales;  // dated on or before the period's last day
};

struct InvoiceLine {
  std::string kind;  // contract_part | time_entry | sales_item | manual
  std::string description;
  // Units for a part, a sales item or a manual line; billed minutes for time, whose unit_price
  // is the rate per hour (amount = quantity x unit_price / 60).
  int64_t quantity = 0;
  std::string unit;
  int64_t unit_price = 0;
  std::string discount = "0.00";
  int64_t amount = 0;  // net, rounded half-up
  int64_t tax = 0;     // on amount, rounded half-up
  // contract_part
  std::string contract_id, contract_part_id;
  std::optional<Interval> interval;
  std::optional<Coverage> service;  // the days of the interval billed
  // time_entry
  std::string time_entry_id, ticket_id, work_date;
  // sales_item
  std::string sales_item_id;
};

// Something due that this invoice leaves off, and why (an item in another currency).
struct LeftOff {
  std::string kind;  // contract_part | time_entry | sales_item
  std::string id;
  std::string reason;  // currency_mismatch
  std::string detail;
};

struct DraftInvoice {
  std::string billing_entity;
  std::string currency;
  std::string tax_rate;  // the billing info's, as text ("21.00")
  int payment_terms_days = 0;
  std::vector<InvoiceLine> lines;
  Totals totals;
};

// One billing entity's outcome: a draft, or the reason there is none.
struct EntityOutcome {
  std::string billing_entity;
  std::optional<DraftInvoice> draft;
  // With no draft: nothing_due | interval_not_ended | unpriced_part | amount_too_large.
  std::string reason;
  std::string detail;
  std::vector<LeftOff> left_off;
};

// The invoices a run for period would issue to the client, one per billing entity with something
// due (time and sales items go with the entity ""), lines ordered parts, sales items, time. An
// entity whose invoice cannot be complete is refused whole rather than issued with lines missing,
// since a period gets one invoice per entity: an afterwards interval that has not ended by today
// (a run for next month) gives interval_not_ended. Never empty: a client with nothing due gets
// one nothing_due outcome.
std::vector<EntityOutcome> draft_invoices(const ClientFacts& facts, Period period, Date today);

// Adds a line's tax at rate and the line to the draft's totals; false when the totals would
// overflow (nothing added).
bool add_line(DraftInvoice& draft, InvoiceLine line, const Discount& rate);

}  // namespace psahost::domain
