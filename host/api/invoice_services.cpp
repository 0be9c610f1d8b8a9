#include "api/invoice_services.hpp"

#include "api/contract_services.hpp"
#include "api/numbering_services.hpp"
#include "core/clock.hpp"
#include "core/ordered_id.hpp"
#include "domain/billing_calendar.hpp"
#include "events/event_log.hpp"

namespace psahost::api {
namespace {

constexpr const char* kInvoiceColumns =
    "id, client_id, billing_entity, series, number, seq, seq_year, kind, period, billing_run_id, "
    "status, currency, tax_rate, net_amount, tax_amount, total_amount, issue_date, due_date, "
    "payment_terms_days, client, external_ids, issued_by, issued_at, version, updated_at";

constexpr const char* kLineColumns =
    "line_no, kind, description, quantity, unit, unit_price, discount, amount, tax_amount, "
    "contract_id, contract_part_id, interval_start, interval_end, service_from, service_to, "
    "days, interval_days, time_entry_id, ticket_id, work_date, sales_item_id";

constexpr const char* kInsertLine =
    "INSERT INTO invoice_lines (invoice_id, tenant_id, line_no, kind, description, quantity, "
    "unit, unit_price, discount, amount, tax_amount, contract_id, contract_part_id, "
    "interval_start, interval_end, service_from, service_to, days, interval_days, time_entry_id, "
    "ticket_id, work_date, sales_item_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?)";

store::Value text_or_null(const std::string& s) {
  return s.empty() ? store::Value(nullptr) : store::Value(s);
}

Json::Value json_or_null(const store::Row& r, std::size_t i) {
  return r.is_null(i) ? Json::Value() : Json::Value(r.text(i));
}

Json::Value int64_json(int64_t n) {
  return Json::Value(static_cast<Json::Int64>(n));
}

std::optional<domain::Date> date_of(const store::Row& r, std::size_t i) {
  return r.is_null(i) ? std::nullopt : domain::parse_date(r.text(i));
}

// A stored line read back into the value it was written from, so that one function (line_json)
// shows stored lines and previews alike.
domain::InvoiceLine line_from_row(const store::Row& r) {
  domain::InvoiceLine l;
  l.kind = r.text(1);
  l.description = r.text(2);
  l.quantity = r.integer(3);
  l.unit = r.text(4);
  l.unit_price = r.integer(5);
  l.discount = r.text(6);
  l.amount = r.integer(7);
  l.tax = r.integer(8);
  l.contract_id = r.text(9);
  l.contract_part_id = r.text(10);
  if (const auto start = date_of(r, 11), end = date_of(r, 12); start && end) {
    l.interval = domain::Interval{*start, *end};
  }
  if (const auto from = date_of(r, 13), to = date_of(r, 14); from && to) {
    l.service = domain::Coverage{*from, *to, r.integer(15)};
  }
  l.time_entry_id = r.text(17);
  l.ticket_id = r.text(18);
  l.work_date = r.text(19);
  l.sales_item_id = r.text(20);
  return l;
}

Json::Value invoice_from_row(const store::Row& r) {
  Json::Value v;
  v["id"] = r.text(0);
  v["client_id"] = r.text(1);
  v["billing_entity"] = r.text(2);
  v["series"] = r.text(3);
  v["number"] = r.text(4);
  v["seq"] = int64_json(r.integer(5));
  v["kind"] = r.text(7);
  v["period"] = json_or_null(r, 8);
  v["billing_run_id"] = json_or_null(r, 9);
  v["status"] = r.text(10);
  v["currency"] = r.text(11);
  v["tax_rate"] = r.text(12);
  v["net_amount"] = int64_json(r.integer(13));
  v["tax_amount"] = int64_json(r.integer(14));
  v["total_amount"] = int64_json(r.integer(15));
  v["issue_date"] = r.text(16);
  v["due_date"] = r.text(17);
  v["payment_terms_days"] = int64_json(r.integer(18));
  v["client"] = from_text(r.text(19));
  v["external_ids"] = from_text(r.text(20));
  v["issued_by"] = r.text(21);
  v["issued_at"] = r.text(22);
  v["version"] = int64_json(r.integer(23));
  v["updated_at"] = r.text(24);
  return v;
}

void insert_lines(store::Tx& tx, const std::string& tenant_id, const std::string& invoice_id,
                  const domain::DraftInvoice& draft) {
  int64_t line_no = 0;
  for (const auto& l : draft.lines) {
    const bool part = l.kind == "contract_part";
    const auto date_or_null = [](const std::optional<domain::Date>& d) {
      return d ? store::Value(domain::format_date(*d)) : store::Value(nullptr);
    };
    tx.exec(kInsertLine, {invoice_id,
                          tenant_id,
                          ++line_no,
                          l.kind,
                          l.description,
                          l.quantity,
                          l.unit,
                          l.unit_price,
                          l.discount,
                          l.amount,
                          l.tax,
                          text_or_null(l.contract_id),
                          text_or_null(l.contract_part_id),
                          date_or_null(part ? std::optional(l.interval->start) : std::nullopt),
                          date_or_null(part ? std::optional(l.interval->end) : std::nullopt),
                          date_or_null(l.service ? std::optional(l.service->from) : std::nullopt),
                          date_or_null(l.service ? std::optional(l.service->to) : std::nullopt),
                          l.service ? store::Value(l.service->days) : store::Value(nullptr),
                          part ? store::Value(l.interval->days()) : store::Value(nullptr),
                          text_or_null(l.time_entry_id),
                          text_or_null(l.ticket_id),
                          text_or_null(l.work_date),
                          text_or_null(l.sales_item_id)});
  }
}

std::size_t count_kind(const domain::DraftInvoice& draft, std::string_view kind) {
  std::size_t n = 0;
  for (const auto& l : draft.lines) n += l.kind == kind ? 1 : 0;
  return n;
}

// Marks what the lines bill as invoiced, provided it is still as it was billed; false when any
// of it changed since the draft was made (the caller then rolls the invoice back).
bool mark_billed(store::Tx& tx, const std::string& tenant_id, const std::string& invoice_id,
                 const domain::DraftInvoice& draft, const std::string& now) {
  // One statement per kind and invoice, driven by the invoice's own lines: "+tenant_id" keeps
  // SQLite from walking all of the tenant's entries by its index for every invoice. Each must
  // still be approved, not invoiced, and carry the minutes, rate (or quantity, price) and
  // currency billed.
  if (const auto time = count_kind(draft, "time_entry"); time > 0) {
    const int64_t changed = tx.exec(
        "UPDATE time_entries SET status = 'invoiced', invoice_id = ?1, version = version + 1, "
        "updated_at = ?2 WHERE id IN (SELECT time_entry_id FROM invoice_lines WHERE invoice_id = "
        "?1 AND time_entry_id IS NOT NULL) AND +tenant_id = ?3 AND status = 'approved' AND "
        "invoice_id IS NULL AND currency = ?4 AND (billed_minutes, rate) = (SELECT quantity, "
        "unit_price FROM invoice_lines WHERE time_entry_id = time_entries.id)",
        {invoice_id, now, tenant_id, draft.currency});
    if (changed != static_cast<int64_t>(time)) return false;
  }
  if (const auto items = count_kind(draft, "sales_item"); items > 0) {
    const int64_t changed = tx.exec(
        "UPDATE sales_items SET status = 'invoiced', invoice_id = ?1, version = version + 1, "
        "updated_at = ?2 WHERE id IN (SELECT sales_item_id FROM invoice_lines WHERE invoice_id = "
        "?1 AND sales_item_id IS NOT NULL) AND +tenant_id = ?3 AND status = 'approved' AND "
        "invoice_id IS NULL AND currency = ?4 AND (quantity, unit_price) = (SELECT quantity, "
        "unit_price FROM invoice_lines WHERE sales_item_id = sales_items.id)",
        {invoice_id, now, tenant_id, draft.currency});
    if (changed != static_cast<int64_t>(items)) return false;
  }
  if (count_kind(draft, "contract_part") > 0) {
    // Parts of an active contract never change; the contract may have ended or been cancelled.
    if (tx.query_one("SELECT 1 FROM invoice_lines l JOIN contracts k ON k.id = l.contract_id "
                     "WHERE l.invoice_id = ? AND l.contract_id IS NOT NULL AND k.status <> "
                     "'active' LIMIT 1",
                     {invoice_id})) {
      return false;
    }
  }
  return true;
}

std::optional<IssuedInvoice> issue_in_savepoint(store::Tx& tx, plugins::Plugin& numbering,
                                                const std::string& tenant_id,
                                                const InvoiceToIssue& in,
                                                const std::string& issue_date,
                                                IssueRefusal* refusal) {
  const domain::DraftInvoice& d = in.draft;
  if (in.period) {
    if (const auto existing = tx.query_one(
            "SELECT number FROM invoices WHERE tenant_id = ? AND client_id = ? AND period = ? "
            "AND billing_entity = ?",
            {tenant_id, in.client_id, *in.period, d.billing_entity})) {
      *refusal = {"already_invoiced",
                  "invoice " + existing->text(0) + " already bills " + *in.period};
      return std::nullopt;
    }
  }
  NumberRefusal no_number;
  const auto taken =
      take_number(tx, numbering, tenant_id, d.billing_entity, issue_date, &no_number);
  if (!taken) {
    *refusal = {no_number.reason, no_number.detail};
    return std::nullopt;
  }
  if (tx.query_one("SELECT 1 FROM invoices WHERE tenant_id = ? AND number = ?",
                   {tenant_id, taken->number})) {
    *refusal = {"number_taken", "the series gave " + taken->number +
                                    ", which an invoice already has; change the numbering "
                                    "settings and verify them"};
    return std::nullopt;
  }
  const auto issue = domain::parse_date(issue_date);
  const std::string due = domain::format_date(*issue + std::chrono::days(d.payment_terms_days));
  IssuedInvoice out{ordered_id("inv"), taken->number};
  const std::string now = now_rfc3339();
  tx.exec(
      "INSERT INTO invoices (id, tenant_id, client_id, billing_entity, series, number, seq, "
      "seq_year, kind, period, billing_run_id, currency, tax_rate, net_amount, tax_amount, "
      "total_amount, issue_date, due_date, payment_terms_days, client, issued_by, issued_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {out.id,
       tenant_id,
       in.client_id,
       d.billing_entity,
       taken->series,
       taken->number,
       taken->seq,
       taken->year ? store::Value(int64_t{*taken->year}) : store::Value(nullptr),
       in.kind,
       in.period ? store::Value(*in.period) : store::Value(nullptr),
       in.billing_run_id ? store::Value(*in.billing_run_id) : store::Value(nullptr),
       d.currency,
       d.tax_rate,
       d.totals.net,
       d.totals.tax,
       d.totals.total(),
       issue_date,
       due,
       int64_t{d.payment_terms_days},
       to_text(in.client),
       in.actor,
       now,
       now});
  insert_lines(tx, tenant_id, out.id, d);
  if (!mark_billed(tx, tenant_id, out.id, d, now)) {
    *refusal = {"changed_meanwhile",
                "a time entry, sales item or contract on the invoice changed while it was "
                "drafted; run again to bill it as it is now"};
    return std::nullopt;
  }
  // The payload is read back from what was written: the event carries exactly what the API
  // shows, lines and client included, for the webhooks and connectors that consume it.
  const Json::Value payload = invoice_json(tx, tenant_id, out.id);
  Json::Value after;
  after["number"] = out.number;
  after["client_id"] = in.client_id;
  after["currency"] = d.currency;
  after["net_amount"] = int64_json(d.totals.net);
  after["tax_amount"] = int64_json(d.totals.tax);
  after["total_amount"] = int64_json(d.totals.total());
  after["lines"] = static_cast<Json::UInt64>(d.lines.size());
  after["period"] = in.period ? Json::Value(*in.period) : Json::Value();
  audit(tx, tenant_id, in.actor, "invoice.issue", "invoice", out.id, Json::Value(), after);
  events::append(tx, {tenant_id, "invoice.issued", "invoice", out.id, payload, in.actor, ""});
  return out;
}

plugins::CallResult invalid(const std::string& message) {
  return plugins::CallResult::error(PSA_INVALID_ARGUMENT, message);
}

std::optional<std::string> required(const Json::Value& request, const char* name) {
  const Json::Value& v = request[name];
  if (!v.isString() || v.asString().empty()) return std::nullopt;
  return v.asString();
}

std::string actor_of(const plugins::CallerInfo& caller) {
  return "plugin:" + caller.plugin_id;
}

// issued/sent -> paid | void; the same status again is a no-op. Amounts, lines and the number
// never change: a mistake is voided (or credited), never edited.
plugins::CallResult set_status(store::Store& store, const plugins::CallerInfo& caller,
                               const Json::Value& request) {
  const auto tenant = required(request, "tenant_id");
  const auto id = required(request, "invoice_id");
  const auto status = required(request, "status");
  if (!tenant || !id || !status) return invalid("tenant_id, invoice_id and status are required");
  if (*status != "paid" && *status != "void") return invalid("status must be paid or void");
  const Json::Value& source = request["source"];
  const Json::Value& reason = request["reason"];
  if ((!source.isNull() && !source.isString()) || (!reason.isNull() && !reason.isString()) ||
      source.asString().size() > 100 || reason.asString().size() > 1000) {
    return invalid("source and reason are strings (at most 100 and 1000 characters)");
  }
  plugins::CallResult result = plugins::CallResult::ok(Json::Value());
  store.write([&](store::Tx& tx) {
    const auto row = tx.query_one(
        "SELECT status, number, client_id, currency, total_amount FROM invoices WHERE id = ? AND "
        "tenant_id = ?",
        {*id, *tenant});
    if (!row) {
      result = plugins::CallResult::error(PSA_NOT_FOUND, "no invoice " + *id);
      return;
    }
    const std::string before = row->text(0);
    Json::Value out;
    out["id"] = *id;
    out["number"] = row->text(1);
    out["status"] = *status;
    out["previous_status"] = before;
    out["changed"] = before != *status;
    if (before == *status) {
      result = plugins::CallResult::ok(out);
      return;
    }
    if (before != "issued" && before != "sent") {
      result = invalid("invoice " + row->text(1) + " is " + before +
                       "; only an issued or sent "
                       "invoice becomes paid or void");
      return;
    }
    const std::string now = now_rfc3339();
    tx.exec(
        "UPDATE invoices SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND "
        "tenant_id = ? AND status = ?",
        {*status, now, *id, *tenant, before});
    const std::string actor = actor_of(caller);
    Json::Value was;
    was["status"] = before;
    Json::Value is;
    is["status"] = *status;
    is["source"] = source.asString();
    is["reason"] = reason.asString();
    audit(tx, *tenant, actor, *status == "paid" ? "invoice.paid" : "invoice.voided", "invoice", *id,
          was, is);
    Json::Value payload = out;
    payload["client_id"] = row->text(2);
    payload["currency"] = row->text(3);
    payload["total_amount"] = int64_json(row->integer(4));
    payload["source"] = source.asString();
    payload["reason"] = reason.asString();
    events::append(tx, {*tenant, *status == "paid" ? "invoice.paid" : "invoice.voided", "invoice",
                        *id, payload, actor, ""});
    result = plugins::CallResult::ok(out);
  });
  return result;
}

plugins::CallResult set_external_id(store::Store& store, const plugins::CallerInfo& caller,
                                    const Json::Value& request) {
  const auto tenant = required(request, "tenant_id");
  const auto id = required(request, "invoice_id");
  const auto system = required(request, "system");
  const auto external = required(request, "external_id");
  if (!tenant || !id || !system || !external) {
    return invalid("tenant_id, invoice_id, system and external_id are required");
  }
  if (system->size() > 100 || external->size() > 200) {
    return invalid("system and external_id are at most 100 and 200 characters");
  }
  plugins::CallResult result = plugins::CallResult::ok(Json::Value());
  store.write([&](store::Tx& tx) {
    const auto row = tx.query_one(
        "SELECT external_ids FROM invoices WHERE id = ? AND tenant_id = ?", {*id, *tenant});
    if (!row) {
      result = plugins::CallResult::error(PSA_NOT_FOUND, "no invoice " + *id);
      return;
    }
    Json::Value ids = from_text(row->text(0));
    const Json::Value& current = ids[*system];
    // One record per system: a second, different id means the invoice exists twice there.
    if (current.isString() && current.asString() != *external) {
      result = invalid("invoice " + *id + " already has " + *system + " id " + current.asString() +
                       "; an invoice is pushed to a system once");
      return;
    }
    Json::Value out;
    out["id"] = *id;
    out["changed"] = !current.isString();
    if (current.isString()) {
      out["external_ids"] = ids;
      result = plugins::CallResult::ok(out);
      return;
    }
    ids[*system] = *external;
    tx.exec("UPDATE invoices SET external_ids = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
            {to_text(ids), now_rfc3339(), *id, *tenant});
    Json::Value is;
    is[*system] = *external;
    audit(tx, *tenant, actor_of(caller), "invoice.external_id", "invoice", *id, Json::Value(), is);
    out["external_ids"] = ids;
    result = plugins::CallResult::ok(out);
  });
  return result;
}

}  // namespace

std::optional<IssuedInvoice> issue_invoice(store::Tx& tx, plugins::Plugin& numbering,
                                           const std::string& tenant_id,
                                           const InvoiceToIssue& invoice,
                                           const std::string& issue_date, IssueRefusal* refusal) {
  tx.exec("SAVEPOINT invoice");
  std::optional<IssuedInvoice> issued;
  try {
    issued = issue_in_savepoint(tx, numbering, tenant_id, invoice, issue_date, refusal);
  } catch (const store::ConstraintError& e) {
    // A unique key said no (the checks above make it unlikely, the keys make it impossible):
    // this invoice is refused, the others of the write go on.
    *refusal = {"conflict", std::string("the store refused the invoice: ") + e.what()};
  } catch (...) {
    tx.exec("ROLLBACK TO invoice");
    tx.exec("RELEASE invoice");
    throw;
  }
  if (!issued) tx.exec("ROLLBACK TO invoice");
  tx.exec("RELEASE invoice");
  return issued;
}

Json::Value line_json(const domain::InvoiceLine& line, int64_t line_no) {
  Json::Value l;
  l["line_no"] = int64_json(line_no);
  l["kind"] = line.kind;
  l["description"] = line.description;
  l["quantity"] = int64_json(line.quantity);
  l["unit"] = line.unit;
  l["unit_price"] = int64_json(line.unit_price);
  l["discount"] = line.discount;
  l["amount"] = int64_json(line.amount);
  l["tax_amount"] = int64_json(line.tax);
  if (line.kind == "contract_part") {
    l["contract_id"] = line.contract_id;
    l["contract_part_id"] = line.contract_part_id;
    if (line.interval) {
      l["interval"]["start"] = domain::format_date(line.interval->start);
      l["interval"]["end"] = domain::format_date(line.interval->end);
      l["interval_days"] = int64_json(line.interval->days());
    }
    if (line.service) {
      l["service_from"] = domain::format_date(line.service->from);
      l["service_to"] = domain::format_date(line.service->to);
      l["days"] = int64_json(line.service->days);
    }
  } else if (line.kind == "time_entry") {
    l["time_entry_id"] = line.time_entry_id;
    l["ticket_id"] = line.ticket_id;
    l["work_date"] = line.work_date;
  } else if (line.kind == "sales_item") {
    l["sales_item_id"] = line.sales_item_id;
  }
  return l;
}

Json::Value draft_json(const domain::DraftInvoice& d, const std::string& client_id,
                       const std::string& issue_date) {
  Json::Value v;
  v["number"] = Json::Value();
  v["client_id"] = client_id;
  v["billing_entity"] = d.billing_entity;
  v["currency"] = d.currency;
  v["tax_rate"] = d.tax_rate;
  v["net_amount"] = int64_json(d.totals.net);
  v["tax_amount"] = int64_json(d.totals.tax);
  v["total_amount"] = int64_json(d.totals.total());
  v["issue_date"] = issue_date;
  if (const auto issue = domain::parse_date(issue_date)) {
    v["due_date"] = domain::format_date(*issue + std::chrono::days(d.payment_terms_days));
  }
  v["payment_terms_days"] = d.payment_terms_days;
  Json::Value& lines = v["lines"] = Json::Value(Json::arrayValue);
  int64_t line_no = 0;
  for (const auto& line : d.lines) lines.append(line_json(line, ++line_no));
  return v;
}

Json::Value client_snapshot(const ClientRecord& c) {
  Json::Value v;
  v["id"] = c.id;
  v["name"] = c.name;
  if (c.billing) {
    const auto& b = *c.billing;
    v["business_name"] = b.business_name;
    v["legal_form"] = b.legal_form;
    v["debtor_code"] = b.debtor_code;
    v["email"] = b.email;
    v["vat_number"] = b.vat_number;
    v["phone"] = b.phone;
    Json::Value& a = v["address"];
    a["street"] = b.address.street;
    a["number"] = b.address.number;
    a["building"] = b.address.building;
    a["city"] = b.address.city;
    a["state"] = b.address.state;
    a["zip"] = b.address.zip;
    a["country"] = b.address.country;
    v["invoice_delivery"] = b.invoice_delivery;
    v["direct_debit"] = b.direct_debit;
  }
  return v;
}

Json::Value invoice_json(store::Tx& tx, const std::string& tenant_id,
                         const std::string& invoice_id) {
  const auto r = tx.query_one(
      std::string("SELECT ") + kInvoiceColumns + " FROM invoices WHERE id = ? AND tenant_id = ?",
      {invoice_id, tenant_id});
  if (!r) return Json::Value();
  Json::Value v = invoice_from_row(*r);
  Json::Value& lines = v["lines"] = Json::Value(Json::arrayValue);
  tx.each(std::string("SELECT ") + kLineColumns +
              " FROM invoice_lines WHERE invoice_id = ? ORDER BY line_no",
          {invoice_id}, [&](const store::Row& row) {
            lines.append(line_json(line_from_row(row), row.integer(0)));
          });
  return v;
}

std::optional<std::string> find_invoice(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& number) {
  const auto r = tx.query_one("SELECT id FROM invoices WHERE tenant_id = ? AND number = ?",
                              {tenant_id, number});
  if (!r) return std::nullopt;
  return r->text(0);
}

void register_invoice_host_calls(plugins::HostCalls& calls, store::Store& store) {
  // {"tenant_id","invoice_id"} -> the invoice as GET /v1/invoices/{id} shows it (lines, client,
  // external_ids), or PSA_NOT_FOUND.
  calls.add("invoices.get", "invoices:read",
            [&store](const plugins::CallerInfo&, const Json::Value& request) {
              const auto tenant = required(request, "tenant_id");
              const auto id = required(request, "invoice_id");
              if (!tenant || !id) return invalid("tenant_id and invoice_id are required");
              Json::Value out;
              store.read([&](store::Tx& tx) { out = invoice_json(tx, *tenant, *id); });
              if (out.isNull())
                return plugins::CallResult::error(PSA_NOT_FOUND, "no invoice " + *id);
              return plugins::CallResult::ok(std::move(out));
            });
  // {"tenant_id","number"} -> the same document, or PSA_NOT_FOUND. Numbers are unique within a
  // tenant, so a connector can look an invoice up by the number it pushed.
  calls.add("invoices.find", "invoices:read",
            [&store](const plugins::CallerInfo&, const Json::Value& request) {
              const auto tenant = required(request, "tenant_id");
              const auto number = required(request, "number");
              if (!tenant || !number) return invalid("tenant_id and number are required");
              Json::Value out;
              store.read([&](store::Tx& tx) {
                if (const auto id = find_invoice(tx, *tenant, *number)) {
                  out = invoice_json(tx, *tenant, *id);
                }
              });
              if (out.isNull()) {
                return plugins::CallResult::error(PSA_NOT_FOUND, "no invoice numbered " + *number);
              }
              return plugins::CallResult::ok(std::move(out));
            });
  // {"tenant_id","invoice_id","status":"paid"|"void","source","reason"} ->
  // {"id","number","status","previous_status","changed"}. issued|sent -> paid|void; the same
  // status again changes nothing (changed:false); anything else is PSA_INVALID_ARGUMENT. A change
  // appends invoice.paid or invoice.voided and an audit row; amounts, lines and number never
  // change.
  calls.add("invoices.set_status", "invoices:write",
            [&store](const plugins::CallerInfo& caller, const Json::Value& request) {
              return set_status(store, caller, request);
            });
  // {"tenant_id","invoice_id","system","external_id"} -> {"id","changed","external_ids":{...}}.
  // Stores the invoice's id in an external system (external_ids[system]); the same id again is a
  // no-op, a different one for the same system is PSA_INVALID_ARGUMENT.
  calls.add("invoices.set_external_id", "invoices:write",
            [&store](const plugins::CallerInfo& caller, const Json::Value& request) {
              return set_external_id(store, caller, request);
            });
}

}  // namespace psahost::api
