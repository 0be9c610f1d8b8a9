#include "fakes/xero_fake.hpp"

#include "fakes/signing.hpp"
#include "support/webhooks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

namespace psahost::test {
namespace {

Json::Value parse(const std::string& text) {
  try {
    return json_of(text);
  } catch (const std::exception&) {
    return Json::Value();
  }
}

http::Response problem(int status, const std::string& title, const std::string& detail) {
  Json::Value v;
  v["Type"] = Json::Value();
  v["Title"] = title;
  v["Status"] = status;
  v["Detail"] = detail;
  v["Instance"] = "f7a0b1c2-0000-4000-8000-000000000000";
  v["Extensions"] = Json::Value(Json::objectValue);
  return http::Response::json(status, v);
}

http::Response validation(Json::Value element, const std::string& message) {
  Json::Value error;
  error["Message"] = message;
  element["ValidationErrors"].append(error);
  Json::Value v;
  v["ErrorNumber"] = 10;
  v["Type"] = "ValidationException";
  v["Message"] = "A validation exception occurred";
  v["Elements"].append(element);
  return http::Response::json(400, v);
}

http::Response collection(const std::string& name, const Json::Value& items) {
  Json::Value v;
  v["Id"] = "5c0ad9e4-0000-4000-8000-000000000001";
  v["Status"] = "OK";
  v["ProviderName"] = "psahost tests";
  v["DateTimeUTC"] = "/Date(1764583200000)/";
  v[name] = items.isArray() ? items : Json::Value(Json::arrayValue);
  return http::Response::json(200, v);
}

int64_t units(const Json::Value& v) {
  return static_cast<int64_t>(std::llround(v.asDouble() * 10000));
}

Json::Value amount(int64_t units) {
  return Json::Value(static_cast<double>(units) / 10000);
}

// Xero's JSON dates: "/Date(<ms since the epoch>+0000)/", beside a DateString.
std::string xero_date(const std::string& ymd) {
  const int y0 = std::stoi(ymd.substr(0, 4)), m = std::stoi(ymd.substr(5, 2)),
            d = std::stoi(ymd.substr(8, 2));
  const int y = y0 - (m <= 2);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return "/Date(" + std::to_string(days * 86400000) + "+0000)/";
}

void set_dates(Json::Value& invoice) {
  for (const char* name : {"Date", "DueDate"}) {
    const std::string ymd = invoice[name].asString();
    if (ymd.size() < 10 || ymd[0] == '/') continue;
    invoice[std::string(name) + "String"] = ymd.substr(0, 10) + "T00:00:00";
    invoice[name] = xero_date(ymd.substr(0, 10));
  }
}

std::string unescape(const std::string& quoted) {
  std::string out;
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    if (quoted[i] == '\\' && i + 1 < quoted.size()) ++i;
    out += quoted[i];
  }
  return out;
}

// Where clauses of the form Field=="value" [AND Field!="value" ...].
bool matches(const Json::Value& record, const std::string& where) {
  static const std::regex kClause(R"re(\s*(\w+)\s*(==|!=)\s*"((?:[^"\\]|\\.)*)"\s*(AND|$))re");
  auto it = std::sregex_iterator(where.begin(), where.end(), kClause);
  for (; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    const bool equal = record[std::string(m[1])].asString() == unescape(m[3]);
    if (equal != (m[2] == "==")) return false;
  }
  return true;
}

}  // namespace

XeroFake::XeroFake()
    : tokens_("xero-client-id", "xero-client-secret", "xero-refresh-0"),
      receiver_(std::make_unique<Receiver>([this](const Received& r) { return answer(r); })) {}

std::vector<std::string> XeroFake::connection_args() const {
  return {"--base-url",    origin(),
          "--settings",    std::string(R"({"tenant_id":")") + kTenantId + R"("})",
          "--credentials", tokens_.credentials_json(token_url())};
}

std::string XeroFake::new_id() {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", next_id_++);
  return buf;
}

std::string XeroFake::next_id() const {
  std::lock_guard lock(mutex_);
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", next_id_);
  return buf;
}

std::string XeroFake::add_contact(Json::Value contact) {
  std::lock_guard lock(mutex_);
  const std::string id = new_id();
  contact["ContactID"] = id;
  contact["ContactStatus"] = "ACTIVE";
  contacts_[id] = contact;
  return id;
}

std::string XeroFake::add_invoice(const std::string& number, const std::string& date, double total,
                                  const std::string& contact_id) {
  std::lock_guard lock(mutex_);
  const std::string id = new_id();
  Json::Value i;
  i["Type"] = "ACCREC";
  i["InvoiceID"] = id;
  i["InvoiceNumber"] = number;
  i["Contact"]["ContactID"] = contact_id;
  i["Date"] = date;
  i["DueDate"] = date;
  set_dates(i);
  i["Status"] = "AUTHORISED";
  i["Total"] = total;
  i["AmountDue"] = total;
  i["AmountPaid"] = 0.0;
  i["CurrencyCode"] = "EUR";
  invoices_[id] = i;
  invoice_order_.push_back(id);
  return id;
}

void XeroFake::pay(const std::string& invoice_id) {
  std::lock_guard lock(mutex_);
  Json::Value& i = invoices_.at(invoice_id);
  i["AmountPaid"] = i["Total"];
  i["AmountDue"] = 0.0;
  i["Status"] = "PAID";
}

void XeroFake::void_invoice(const std::string& invoice_id) {
  std::lock_guard lock(mutex_);
  invoices_.at(invoice_id)["Status"] = "VOIDED";
}

Json::Value XeroFake::contacts() const {
  std::lock_guard lock(mutex_);
  Json::Value out(Json::arrayValue);
  for (const auto& [id, c] : contacts_) out.append(c);
  return out;
}

Json::Value XeroFake::invoices() const {
  std::lock_guard lock(mutex_);
  Json::Value out(Json::arrayValue);
  for (const auto& id : invoice_order_) out.append(invoices_.at(id));
  return out;
}

Json::Value XeroFake::invoices_numbered(const std::string& number) const {
  Json::Value out(Json::arrayValue);
  for (const auto& i : invoices()) {
    if (i["InvoiceNumber"].asString() == number) out.append(i);
  }
  return out;
}

std::vector<Received> XeroFake::requests(const std::string& method, const std::string& part) const {
  std::vector<Received> out;
  for (const auto& r : receiver_->received()) {
    if (r.method == method && r.target.find(part) != std::string::npos &&
        r.target.rfind("/api.xro/", 0) == 0) {
      out.push_back(r);
    }
  }
  return out;
}

std::string XeroFake::event(const std::string& category, const std::string& resource_id,
                            const std::string& type, const std::string& tenant) {
  static int sequence = 0;
  const int n = ++sequence;
  Json::Value e;
  // The real address, which the connector must not fetch: it reads records by id from its own
  // connection's site.
  e["resourceUrl"] = "https://api.xero.com/api.xro/2.0/" +
                     std::string(category == "INVOICE" ? "Invoices/" : "Contacts/") + resource_id;
  e["resourceId"] = resource_id;
  e["eventDateUtc"] = "2026-12-01T18:00:00.902";
  e["eventType"] = type;
  e["eventCategory"] = category;
  e["tenantId"] = tenant;
  e["tenantType"] = "ORGANISATION";
  Json::Value v;
  v["events"].append(e);
  v["firstEventSequence"] = n;
  v["lastEventSequence"] = n;
  v["entropy"] = "QXJXUNEVXBCKXDZUWZDO" + std::to_string(n);
  return v.toStyledString();
}

std::string XeroFake::intent_to_receive() {
  static int sequence = 0;
  Json::Value v;
  v["events"] = Json::Value(Json::arrayValue);
  v["firstEventSequence"] = 0;
  v["lastEventSequence"] = 0;
  v["entropy"] = "S0m3r4Nd0mt3xt" + std::to_string(++sequence);
  return v.toStyledString();
}

std::map<std::string, std::string> XeroFake::signed_headers(const std::string& body,
                                                            const std::string& key) {
  return {{"x-xero-signature", hmac_sha256_base64(key, body)},
          {"content-type", "application/json"}};
}

std::optional<http::Response> XeroFake::answer(const Received& r) {
  if (r.target == "/connect/token") return tokens_.token_request(r);
  const auto planned = faults_.take(r);
  if (planned && !planned->after_the_work) return planned->answer();
  http::Response normal = route(r);
  if (planned) return planned->answer();
  return normal;
}

http::Response XeroFake::route(const Received& r) {
  if (!tokens_.authorised(r)) return problem(401, "Unauthorized", "AuthenticationUnsuccessful");
  if (r.header("xero-tenant-id") != kTenantId) {
    return problem(403, "Forbidden", "AuthenticationUnsuccessful");
  }
  const std::string prefix = "/api.xro/2.0/";
  if (r.target.rfind(prefix, 0) != 0) return problem(404, "Not Found", "no such resource");
  const std::string rest = r.target.substr(prefix.size());
  const std::string path = rest.substr(0, rest.find('?'));
  const std::string query =
      rest.find('?') == std::string::npos ? "" : rest.substr(rest.find('?') + 1);
  const std::string key = r.header("idempotency-key");

  std::lock_guard lock(mutex_);
  if ((r.method == "PUT" || r.method == "POST") && !key.empty()) {
    if (const auto it = replies_by_key_.find(key); it != replies_by_key_.end()) {
      return http::Response::text(it->second.first, it->second.second, "application/json");
    }
  }
  if (r.method == "GET" && path == "Organisation") {
    Json::Value o;
    o["OrganisationID"] = kTenantId;
    o["Name"] = "Demo Company (NZ)";
    o["BaseCurrency"] = "EUR";
    Json::Value items(Json::arrayValue);
    items.append(o);
    return collection("Organisations", items);
  }
  if (r.method == "PUT" && (path == "Contacts" || path == "Invoices")) {
    const Json::Value body = parse(r.body);
    http::Response out = !body.isObject()
                             ? validation(Json::Value(Json::objectValue), "The request is not JSON")
                         : path == "Contacts" ? create_contacts(body)
                                              : create_invoices(body);
    if (!key.empty()) replies_by_key_[key] = {out.status, out.body};
    return out;
  }
  if (r.method == "GET" && (path == "Contacts" || path == "Invoices")) return list(path, query);
  if (r.method == "GET") {
    const auto slash = path.find('/');
    const std::string name = path.substr(0, slash);
    const std::string id = slash == std::string::npos ? "" : path.substr(slash + 1);
    const auto* records = name == "Invoices"   ? &invoices_
                          : name == "Contacts" ? &contacts_
                                               : nullptr;
    if (records) {
      const auto found = records->find(id);
      if (found == records->end()) {
        return http::Response::text(404, "The resource you're looking for cannot be found",
                                    "text/plain");
      }
      Json::Value items(Json::arrayValue);
      items.append(found->second);
      return collection(name, items);
    }
  }
  return problem(404, "Not Found", "no such resource: " + path);
}

http::Response XeroFake::list(const std::string& name, const std::string& query) {
  http::Request q;
  q.query = query;
  const std::string where = q.query_param("where").value_or("");
  const std::string numbers = q.query_param("InvoiceNumbers").value_or("");
  const std::string order = q.query_param("order").value_or("");
  std::vector<Json::Value> rows;
  if (name == "Contacts") {
    for (const auto& [id, c] : contacts_) {
      if (matches(c, where)) rows.push_back(c);
    }
  } else {
    for (const auto& id : invoice_order_) {
      const Json::Value& i = invoices_.at(id);
      if (!matches(i, where)) continue;
      if (!numbers.empty() &&
          ("," + numbers + ",").find("," + i["InvoiceNumber"].asString() + ",") ==
              std::string::npos) {
        continue;
      }
      rows.push_back(i);
    }
    if (order == "Date DESC") {
      // Newest date first; among one date, the one made last first.
      std::reverse(rows.begin(), rows.end());
      std::stable_sort(rows.begin(), rows.end(), [](const Json::Value& a, const Json::Value& b) {
        return a["DateString"].asString() > b["DateString"].asString();
      });
    }
  }
  const int page_size = std::max(1, std::stoi(q.query_param("pageSize").value_or("100")));
  const int page = std::max(1, std::stoi(q.query_param("page").value_or("1")));
  Json::Value items(Json::arrayValue);
  for (std::size_t i = static_cast<std::size_t>((page - 1) * page_size);
       i < rows.size() && items.size() < static_cast<Json::ArrayIndex>(page_size); ++i) {
    items.append(rows[i]);
  }
  return collection(name, items);
}

http::Response XeroFake::create_contacts(const Json::Value& body) {
  Json::Value made(Json::arrayValue);
  for (const auto& sent : body["Contacts"]) {
    const std::string name = sent["Name"].asString();
    if (name.empty()) return validation(sent, "The contact name must be specified.");
    for (const auto& [id, c] : contacts_) {
      if (c["Name"].asString() == name) {
        return validation(sent, "The contact name " + name +
                                    " is already assigned to another contact. The contact name "
                                    "must be unique across all active contacts.");
      }
    }
    Json::Value c = sent;
    const std::string id = new_id();
    c["ContactID"] = id;
    c["ContactStatus"] = "ACTIVE";
    contacts_[id] = c;
    made.append(c);
  }
  return collection("Contacts", made);
}

http::Response XeroFake::create_invoices(const Json::Value& body) {
  Json::Value made(Json::arrayValue);
  for (const auto& sent : body["Invoices"]) {
    if (sent["Type"].asString() != "ACCREC") return validation(sent, "Type is not supported here.");
    if (contacts_.count(sent["Contact"]["ContactID"].asString()) == 0) {
      return validation(sent, "The contact could not be found.");
    }
    const std::string number = sent["InvoiceNumber"].asString();
    for (const auto& [id, i] : invoices_) {
      if (i["Type"] == "ACCREC" && i["Status"] != "DELETED" && i["InvoiceNumber"] == number) {
        return validation(sent, "Invoice # must be unique.");
      }
    }
    Json::Value invoice = sent;
    int64_t net = 0, tax = 0;
    for (const auto& line : sent["LineItems"]) {
      const double product = line["Quantity"].asDouble() * line["UnitAmount"].asDouble();
      if (std::fabs(product - line["LineAmount"].asDouble()) >= 0.005) {
        return validation(sent, "The line amount must equal the quantity times the unit amount.");
      }
      net += units(line["LineAmount"]);
      tax += units(line["TaxAmount"]);
    }
    const std::string id = new_id();
    invoice["InvoiceID"] = id;
    set_dates(invoice);
    invoice["SubTotal"] = amount(net);
    invoice["TotalTax"] = amount(tax);
    invoice["Total"] = amount(net + tax);
    invoice["AmountDue"] = amount(net + tax);
    invoice["AmountPaid"] = 0.0;
    invoices_[id] = invoice;
    invoice_order_.push_back(id);
    made.append(invoice);
  }
  return collection("Invoices", made);
}

}  // namespace psahost::test
