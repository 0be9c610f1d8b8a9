#include "billing/invoices.hpp"

#include "audit/audit_log.hpp"
#include "billing/numbering.hpp"
#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "core/ordered_id.hpp"
#include "domain/billing_calendar.hpp"
#include "events/event_log.hpp"
#include "store/json_column.hpp"

namespace psahost::billing {
namespace {

constexpr const char* kInvoiceColumns =
    "id, client_id, billing_entity, series, number, seq, seq_year, kind, period, billing_run_id, "
    "status, currency, tax_rate, net_amount, tax_amount, total_amount, issue_date, due_date, "
    "payment_terms_days, client, external_ids, issued_by, issued_at, version, updated_at";

constexpr const char* kLineColumns =
    "line_no, kind, description, quantity, unit, unit_price, discount, amount, tax_amount, "
    "contract_id, contract_part_id, interval_start, interval_end, service_from, service_to, "
    "days, interval_days, time_entry_id, ticket_id, work_date, sales_item_id";

// Lines per INSERT: one statement for many rows costs far less than a statement per row.
constexpr std::size_t kLinesPerInsert = 64;

// An issued invoice as stored, without its lines: what the invoice document is written from,
// whether just issued (the invoice.issued payload) or read back (GET /v1/invoices/{id}).
struct InvoiceHeader {
  std::string id, client_id, billing_entity, series, number;
  int64_t seq = 0;
  std::string kind;
  std::optional<std::string> period, billing_run_id;
  std::string status, currency, tax_rate;
  int64_t net = 0, tax = 0, total = 0;
  std::string issue_date, due_date;
  int64_t payment_terms_days = 0;
  std::string client_json, external_ids_json;  // JSON text, as stored
  std::string issued_by, issued_at;
  int64_t version = 1;
  std::string updated_at;
};

Json::Value int64_json(int64_t n) {
  return Json::Value(static_cast<Json::Int64>(n));
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
  if (const auto start = date_column(r, 11), end = date_column(r, 12); start && end) {
    l.interval = domain::Interval{*start, *end};
  }
  if (const auto from = date_column(r, 13), to = date_column(r, 14); from && to) {
    l.service = domain::Coverage{*from, *to, r.integer(15)};
  }
  l.time_entry_id = r.text(17);
  l.ticket_id = r.text(18);
  l.work_date = r.text(19);
  l.sales_item_id = r.text(20);
  return l;
}

InvoiceHeader header_from_row(const store::Row& r) {
  InvoiceHeader h;
  h.id = r.text(0);
  h.client_id = r.text(1);
  h.billing_entity = r.text(2);
  h.series = r.text(3);
  h.number = r.text(4);
  h.seq = r.integer(5);
  h.kind = r.text(7);
  h.period = r.optional_text(8);
  h.billing_run_id = r.optional_text(9);
  h.status = r.text(10);
  h.currency = r.text(11);
  h.tax_rate = r.text(12);
  h.net = r.integer(13);
  h.tax = r.integer(14);
  h.total = r.integer(15);
  h.issue_date = r.text(16);
  h.due_date = r.text(17);
  h.payment_terms_days = r.integer(18);
  h.client_json = r.text(19);
  h.external_ids_json = r.text(20);
  h.issued_by = r.text(21);
  h.issued_at = r.text(22);
  h.version = r.integer(23);
  h.updated_at = r.text(24);
  return h;
}

void write_optional(JsonText& j, const std::optional<std::string>& v) {
  if (v) {
    j.str(*v);
  } else {
    j.null();
  }
}

// One line: the members every line has, then those of its kind.
void write_line(JsonText& j, const domain::InvoiceLine& line, int64_t line_no) {
  j.begin_object();
  j.key("line_no").num(line_no);
  j.key("kind").str(line.kind);
  j.key("description").str(line.description);
  j.key("quantity").num(line.quantity);
  j.key("unit").str(line.unit);
  j.key("unit_price").num(line.unit_price);
  j.key("discount").str(line.discount);
  j.key("amount").num(line.amount);
  j.key("tax_amount").num(line.tax);
  if (line.kind == "contract_part") {
    j.key("contract_id").str(line.contract_id);
    j.key("contract_part_id").str(line.contract_part_id);
    if (line.interval) {
      j.key("interval").begin_object();
      j.key("start").str(domain::format_date(line.interval->start));
      j.key("end").str(domain::format_date(line.interval->end));
      j.end_object();
      j.key("interval_days").num(line.interval->days());
    }
    if (line.service) {
      j.key("service_from").str(domain::format_date(line.service->from));
      j.key("service_to").str(domain::format_date(line.service->to));
      j.key("days").num(line.service->days);
    }
  } else if (line.kind == "time_entry") {
    j.key("time_entry_id").str(line.time_entry_id);
    j.key("ticket_id").str(line.ticket_id);
    j.key("work_date").str(line.work_date);
  } else if (line.kind == "sales_item") {
    j.key("sales_item_id").str(line.sales_item_id);
  }
  j.end_object();
}

// The invoice document: what GET /v1/invoices/{id} answers and invoice.issued carries.
std::string invoice_document(const InvoiceHeader& h,
                             const std::vector<domain::InvoiceLine>& lines) {
  JsonText j;
  j.reserve(1024 + 320 * lines.size());
  j.begin_object();
  j.key("id").str(h.id);
  j.key("number").str(h.number);
  j.key("seq").num(h.seq);
  j.key("client_id").str(h.client_id);
  j.key("client").raw(h.client_json);
  j.key("billing_entity").str(h.billing_entity);
  j.key("series").str(h.series);
  j.key("kind").str(h.kind);
  j.key("period");
  write_optional(j, h.period);
  j.key("billing_run_id");
  write_optional(j, h.billing_run_id);
  j.key("status").str(h.status);
  j.key("currency").str(h.currency);
  j.key("tax_rate").str(h.tax_rate);
  j.key("net_amount").num(h.net);
  j.key("tax_amount").num(h.tax);
  j.key("total_amount").num(h.total);
  j.key("issue_date").str(h.issue_date);
  j.key("due_date").str(h.due_date);
  j.key("payment_terms_days").num(h.payment_terms_days);
  j.key("external_ids").raw(h.external_ids_json);
  j.key("issued_by").str(h.issued_by);
  j.key("issued_at").str(h.issued_at);
  j.key("version").num(h.version);
  j.key("updated_at").str(h.updated_at);
  j.key("lines").begin_array();
  int64_t line_no = 0;
  for (const auto& line : lines) write_line(j, line, ++line_no);
  j.end_array();
  j.end_object();
  return j.take();
}

// The columns a kind of line fills beyond those every line has; the rest stay NULL.
const char* kind_columns(const std::string& kind) {
  if (kind == "contract_part") {
    return ", contract_id, contract_part_id, interval_start, interval_end, service_from, "
           "service_to, days, interval_days";
  }
  if (kind == "time_entry") return ", time_entry_id, ticket_id, work_date";
  if (kind == "sales_item") return ", sales_item_id";
  return "";
}

void add_kind_values(const domain::InvoiceLine& l, std::vector<store::Value>& params) {
  if (l.kind == "contract_part") {
    params.insert(params.end(),
                  {l.contract_id, l.contract_part_id, domain::format_date(l.interval->start),
                   domain::format_date(l.interval->end), domain::format_date(l.service->from),
                   domain::format_date(l.service->to), l.service->days, l.interval->days()});
  } else if (l.kind == "time_entry") {
    params.insert(params.end(), {l.time_entry_id, l.ticket_id, l.work_date});
  } else if (l.kind == "sales_item") {
    params.emplace_back(l.sales_item_id);
  }
}

// Writes the lines with multi-row INSERTs, one kind at a time, binding only the columns that
// kind fills and the invoice and tenant once per statement (?1, ?2): a run writes hundreds of
// thousands of time lines, and every bound value costs.
void insert_lines(store::Tx& tx, const std::string& tenant_id, const std::string& invoice_id,
                  const domain::DraftInvoice& draft) {
  std::vector<store::Value> params;
  std::string values;
  std::size_t rows = 0;
  const std::string* kind = nullptr;
  const auto flush = [&] {
    if (rows == 0) return;
    tx.exec(
        "INSERT INTO invoice_lines (invoice_id, tenant_id, line_no, kind, description, "
        "quantity, unit, unit_price, discount, amount, tax_amount" +
            std::string(kind_columns(*kind)) + ") VALUES " + values,
        params);
    params.clear();
    values.clear();
    rows = 0;
  };
  int64_t line_no = 0;
  for (const auto& l : draft.lines) {
    if (rows == kLinesPerInsert || (kind && *kind != l.kind)) flush();
    if (rows == 0) params = {invoice_id, tenant_id};
    kind = &l.kind;
    const std::size_t before = params.size();
    params.insert(params.end(), {++line_no, l.kind, l.description, l.quantity, l.unit, l.unit_price,
                                 l.discount, l.amount, l.tax});
    add_kind_values(l, params);
    values += rows == 0 ? "(?1, ?2" : ", (?1, ?2";
    for (std::size_t i = before; i < params.size(); ++i) values += ", ?";
    values += ")";
    ++rows;
  }
  flush();
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
  // One statement per kind and invoice, driven by the invoice's own lines: each entry (item)
  // must still be approved, not invoiced, and carry the minutes and rate (quantity and price)
  // and the currency the line bills. "+tenant_id" keeps SQLite from walking all of the tenant's
  // entries by its index instead of looking the lines' entries up by id.
  struct Billed {
    const char* kind;
    const char* table;
    const char* line_column;
    const char* amounts;  // the columns the line's quantity and unit price must equal
  };
  static constexpr Billed kBilled[] = {
      {"time_entry", "time_entries", "time_entry_id", "billed_minutes, rate"},
      {"sales_item", "sales_items", "sales_item_id", "quantity, unit_price"}};
  for (const auto& b : kBilled) {
    const auto lines = count_kind(draft, b.kind);
    if (lines == 0) continue;
    // Time a PSA reported billed there since the draft was made is not billed here as well.
    const std::string not_billed_elsewhere =
        std::string(b.kind) == "time_entry" ? " AND billed_externally IS NULL" : "";
    const int64_t changed = tx.exec(
        std::string("UPDATE ") + b.table +
            " SET status = 'invoiced', invoice_id = ?1, version = version + 1, updated_at = ?2 "
            "WHERE (id, " +
            b.amounts + ") IN (SELECT " + b.line_column +
            ", quantity, unit_price FROM invoice_lines WHERE invoice_id = ?1 AND " + b.line_column +
            " IS NOT NULL) AND +tenant_id = ?3 AND status = 'approved' AND invoice_id IS NULL "
            "AND currency = ?4" +
            not_billed_elsewhere,
        {invoice_id, now, tenant_id, draft.currency});
    if (changed != static_cast<int64_t>(lines)) return false;
  }
  if (count_kind(draft, "contract_part") > 0) {
    // The contract may have ended or been cancelled since, and a part that follows the client's
    // service assignment may have taken a new quantity (contracts.sync_assignment): the line
    // must still be the part as it is. Its price and dates change only while a draft.
    if (tx.query_one(
            "SELECT 1 FROM invoice_lines l JOIN contracts k ON k.id = l.contract_id LEFT JOIN "
            "contract_parts p ON p.id = l.contract_part_id AND p.contract_id = k.id WHERE "
            "l.invoice_id = ? AND l.contract_id IS NOT NULL AND (k.status <> 'active' OR p.id IS "
            "NULL OR p.quantity <> l.quantity OR p.price IS NOT l.unit_price) LIMIT 1",
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
                                                IssueRefusal* refusal,
                                                const NumberingAhead* ahead) {
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
      take_number(tx, numbering, tenant_id, d.billing_entity, issue_date, &no_number, ahead);
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
  InvoiceHeader h;
  h.id = ordered_id("inv");
  h.client_id = in.client_id;
  h.billing_entity = d.billing_entity;
  h.series = taken->series;
  h.number = taken->number;
  h.seq = taken->seq;
  h.kind = in.kind;
  h.period = in.period;
  h.billing_run_id = in.billing_run_id;
  h.status = "issued";
  h.currency = d.currency;
  h.tax_rate = d.tax_rate;
  h.net = d.totals.net;
  h.tax = d.totals.tax;
  h.total = d.totals.total();
  h.issue_date = issue_date;
  h.due_date = domain::format_date(*issue + std::chrono::days(d.payment_terms_days));
  h.payment_terms_days = d.payment_terms_days;
  h.client_json = store::to_text(in.client);
  h.external_ids_json = "{}";
  h.issued_by = in.actor;
  h.issued_at = h.updated_at = now_rfc3339();
  IssuedInvoice out{h.id, h.number};
  const std::string& now = h.issued_at;
  tx.exec(
      "INSERT INTO invoices (id, tenant_id, client_id, billing_entity, series, number, seq, "
      "seq_year, kind, period, billing_run_id, currency, tax_rate, net_amount, tax_amount, "
      "total_amount, issue_date, due_date, payment_terms_days, client, issued_by, issued_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {h.id,
       tenant_id,
       h.client_id,
       h.billing_entity,
       h.series,
       h.number,
       h.seq,
       taken->year ? store::Value(int64_t{*taken->year}) : store::Value(nullptr),
       h.kind,
       h.period ? store::Value(*h.period) : store::Value(nullptr),
       h.billing_run_id ? store::Value(*h.billing_run_id) : store::Value(nullptr),
       h.currency,
       h.tax_rate,
       h.net,
       h.tax,
       h.total,
       h.issue_date,
       h.due_date,
       h.payment_terms_days,
       h.client_json,
       h.issued_by,
       now,
       now});
  insert_lines(tx, tenant_id, out.id, d);
  if (!mark_billed(tx, tenant_id, out.id, d, now)) {
    *refusal = {"changed_meanwhile",
                "a time entry, sales item or contract on the invoice changed while it was "
                "drafted; run again to bill it as it is now"};
    return std::nullopt;
  }
  // What the audit log keeps of an issue: the money, written without a Json::Value (once per
  // invoice of a run).
  JsonText after;
  after.begin_object();
  after.key("number").str(out.number);
  after.key("client_id").str(in.client_id);
  after.key("period");
  write_optional(after, in.period);
  after.key("currency").str(d.currency);
  after.key("net_amount").num(d.totals.net);
  after.key("tax_amount").num(d.totals.tax);
  after.key("total_amount").num(d.totals.total());
  after.key("lines").num(static_cast<int64_t>(d.lines.size()));
  after.end_object();
  audit::record(tx, {tenant_id, in.actor, "invoice.issue", "invoice", out.id, std::nullopt,
                     after.text(), now});
  // The payload is the document GET /v1/invoices/{id} answers, written by the same function
  // from the same values: the webhooks and connectors that consume it get lines and client.
  events::NewEvent issued{tenant_id,     "invoice.issued", "invoice", out.id,
                          Json::Value(), in.actor,         ""};
  issued.payload_json = invoice_document(h, d.lines);
  events::append(tx, issued);
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
    audit::record(tx, {*tenant, actor, *status == "paid" ? "invoice.paid" : "invoice.voided",
                       "invoice", *id, audit::json(was), audit::json(is)});
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
    Json::Value ids = store::from_text(row->text(0));
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
            {store::to_text(ids), now_rfc3339(), *id, *tenant});
    Json::Value is;
    is[*system] = *external;
    audit::record(tx, {*tenant, actor_of(caller), "invoice.external_id", "invoice", *id,
                       std::nullopt, audit::json(is)});
    out["external_ids"] = ids;
    result = plugins::CallResult::ok(out);
  });
  return result;
}

}  // namespace

std::optional<IssuedInvoice> issue_invoice(store::Tx& tx, plugins::Plugin& numbering,
                                           const std::string& tenant_id,
                                           const InvoiceToIssue& invoice,
                                           const std::string& issue_date, IssueRefusal* refusal,
                                           const NumberingAhead* ahead) {
  tx.exec("SAVEPOINT invoice");
  std::optional<IssuedInvoice> issued;
  try {
    issued = issue_in_savepoint(tx, numbering, tenant_id, invoice, issue_date, refusal, ahead);
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

std::optional<domain::Date> date_column(const store::Row& row, std::size_t i) {
  return row.is_null(i) ? std::nullopt : domain::parse_date(row.text(i));
}

Json::Value line_json(const domain::InvoiceLine& line, int64_t line_no) {
  JsonText j;
  write_line(j, line, line_no);
  return store::from_text(j.text());
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

std::optional<std::string> invoice_text(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& invoice_id) {
  const auto r = tx.query_one(
      std::string("SELECT ") + kInvoiceColumns + " FROM invoices WHERE id = ? AND tenant_id = ?",
      {invoice_id, tenant_id});
  if (!r) return std::nullopt;
  std::vector<domain::InvoiceLine> lines;
  tx.each(std::string("SELECT ") + kLineColumns +
              " FROM invoice_lines WHERE invoice_id = ? ORDER BY line_no",
          {invoice_id}, [&](const store::Row& row) { lines.push_back(line_from_row(row)); });
  return invoice_document(header_from_row(*r), lines);
}

Json::Value invoice_json(store::Tx& tx, const std::string& tenant_id,
                         const std::string& invoice_id) {
  const auto text = invoice_text(tx, tenant_id, invoice_id);
  return text ? store::from_text(*text) : Json::Value();
}

domain::Refusal issue_refusal(const IssueRefusal& r) {
  if (r.reason == "numbering_not_configured" || r.reason == "numbering_not_verified") {
    auto out =
        domain::Refusal::make(domain::RefusalKind::refused, "numbering-not-verified", r.detail);
    out.prompt["action"] = "verify_invoice_numbering";
    out.prompt["href"] = "/v1/invoice-numbering/verify";
    return out;
  }
  if (r.reason == "numbering_failed") {
    return domain::Refusal::make(domain::RefusalKind::failed, "numbering-failed", r.detail);
  }
  if (r.reason == "number_taken") return domain::Refusal::conflict("number-taken", r.detail);
  return domain::Refusal::conflict("conflict", r.detail);
}

Json::Value list_invoices(store::Tx& tx, const std::string& tenant_id,
                          const InvoiceFilter& filter) {
  std::string sql = "SELECT id FROM invoices WHERE tenant_id = ? AND id > ?";
  std::vector<store::Value> params = {tenant_id, filter.after};
  if (filter.client_id) {
    sql += " AND client_id = ?";
    params.emplace_back(*filter.client_id);
  }
  if (filter.period) {
    sql += " AND period = ?";
    params.emplace_back(*filter.period);
  }
  if (filter.status) {
    sql += " AND status = ?";
    params.emplace_back(*filter.status);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(filter.limit);
  Json::Value body;
  Json::Value& items = body["items"] = Json::Value(Json::arrayValue);
  const auto ids = tx.query(sql, params);
  for (const auto& row : ids) {
    // A list shows each invoice without its lines; GET /v1/invoices/{id} has them.
    Json::Value v = invoice_json(tx, tenant_id, row.text(0));
    v["line_count"] = v["lines"].size();
    v.removeMember("lines");
    items.append(std::move(v));
  }
  if (static_cast<int64_t>(ids.size()) == filter.limit) body["next_after"] = ids.back().text(0);
  return body;
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

}  // namespace psahost::billing
