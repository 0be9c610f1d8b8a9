#include "fakes/quickbooks_fake.hpp"

#include "fakes/signing.hpp"
#include "support/webhooks.hpp"

#include <json/reader.h>

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

http::Response fault(int status, const std::string& code, const std::string& message,
                     const std::string& detail, const std::string& type = "ValidationFault") {
  Json::Value e;
  e["Message"] = message;
  e["Detail"] = detail;
  e["code"] = code;
  e["element"] = "";
  Json::Value v;
  v["Fault"]["Error"].append(e);
  v["Fault"]["type"] = type;
  v["time"] = "2026-12-01T10:00:00.000-08:00";
  return http::Response::json(status, v);
}

http::Response record(const std::string& entity, const Json::Value& value) {
  Json::Value v;
  v[entity] = value;
  v["time"] = "2026-12-01T10:00:00.000-08:00";
  return http::Response::json(200, v);
}

// Amounts in ten-thousandths, as exact integers: the fake's arithmetic must not invent cents.
int64_t units(const Json::Value& v) {
  return static_cast<int64_t>(std::llround(v.asDouble() * 10000));
}

Json::Value amount(int64_t units) {
  return Json::Value(static_cast<double>(units) / 10000);
}

std::string unescape(const std::string& quoted) {
  std::string out;
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    if (quoted[i] == '\\' && i + 1 < quoted.size()) ++i;
    out += quoted[i];
  }
  return out;
}

}  // namespace

QuickBooksFake::QuickBooksFake()
    : tokens_("qbo-client-id", "qbo-client-secret", "qbo-refresh-0"),
      receiver_(std::make_unique<Receiver>([this](const Received& r) { return answer(r); })) {}

std::vector<std::string> QuickBooksFake::connection_args() const {
  return {"--base-url",    origin(),
          "--settings",    std::string(R"({"realm_id":")") + kRealm + R"("})",
          "--credentials", tokens_.credentials_json(token_url())};
}

std::string QuickBooksFake::new_id() {
  return std::to_string(next_id_++);
}

std::string QuickBooksFake::next_id() const {
  std::lock_guard lock(mutex_);
  return std::to_string(next_id_);
}

// Creation times that only move forward, one second per record.
std::string QuickBooksFake::now_text() {
  char buf[40];
  const int t = clock_++;
  std::snprintf(buf, sizeof buf, "2026-11-%02dT%02d:%02d:%02d-08:00", 1 + t / 86400 % 28,
                t / 3600 % 24, t / 60 % 60, t % 60);
  return buf;
}

std::string QuickBooksFake::add_customer(Json::Value customer) {
  std::lock_guard lock(mutex_);
  const std::string id = customer["Id"].isString() ? customer["Id"].asString() : new_id();
  customer["Id"] = id;
  customer["SyncToken"] = "0";
  customer["Active"] = true;
  customer["MetaData"]["CreateTime"] = now_text();
  customers_[id] = customer;
  return id;
}

std::string QuickBooksFake::add_invoice(Json::Value invoice) {
  std::lock_guard lock(mutex_);
  const std::string id = new_id();
  invoice["Id"] = id;
  invoice["SyncToken"] = "0";
  if (!invoice.isMember("Balance")) invoice["Balance"] = invoice["TotalAmt"];
  invoice["MetaData"]["CreateTime"] = now_text();
  invoices_[id] = invoice;
  return id;
}

std::string QuickBooksFake::pay(const std::string& invoice_id) {
  std::lock_guard lock(mutex_);
  Json::Value& invoice = invoices_.at(invoice_id);
  const std::string id = new_id();
  Json::Value payment;
  payment["Id"] = id;
  payment["TotalAmt"] = invoice["Balance"];
  payment["CustomerRef"] = invoice["CustomerRef"];
  Json::Value line;
  line["Amount"] = invoice["Balance"];
  Json::Value linked;
  linked["TxnId"] = invoice_id;
  linked["TxnType"] = "Invoice";
  line["LinkedTxn"].append(linked);
  payment["Line"].append(line);
  payment["MetaData"]["CreateTime"] = now_text();
  payments_[id] = payment;
  invoice["Balance"] = 0.0;
  return id;
}

void QuickBooksFake::void_invoice(const std::string& invoice_id) {
  std::lock_guard lock(mutex_);
  Json::Value& invoice = invoices_.at(invoice_id);
  invoice["TotalAmt"] = 0.0;
  invoice["Balance"] = 0.0;
  for (auto& line : invoice["Line"]) line["Amount"] = 0.0;
  invoice["PrivateNote"] = "Voided";
}

Json::Value QuickBooksFake::customers() const {
  std::lock_guard lock(mutex_);
  Json::Value out(Json::arrayValue);
  for (const auto& [id, c] : customers_) out.append(c);
  return out;
}

Json::Value QuickBooksFake::invoices() const {
  std::lock_guard lock(mutex_);
  Json::Value out(Json::arrayValue);
  for (const auto& [id, i] : invoices_) out.append(i);
  return out;
}

Json::Value QuickBooksFake::invoice(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto it = invoices_.find(id);
  return it == invoices_.end() ? Json::Value() : it->second;
}

Json::Value QuickBooksFake::invoices_numbered(const std::string& doc_number) const {
  Json::Value out(Json::arrayValue);
  for (const auto& i : invoices()) {
    if (i["DocNumber"].asString() == doc_number) out.append(i);
  }
  return out;
}

std::vector<Received> QuickBooksFake::requests(const std::string& method,
                                               const std::string& part) const {
  std::vector<Received> out;
  for (const auto& r : receiver_->received()) {
    if (r.method == method && r.target.find(part) != std::string::npos &&
        r.target.rfind("/v3/", 0) == 0) {
      out.push_back(r);
    }
  }
  return out;
}

std::string QuickBooksFake::notification(const std::string& entity, const std::string& id,
                                         const std::string& operation, const std::string& realm) {
  Json::Value e;
  e["name"] = entity;
  e["id"] = id;
  e["operation"] = operation;
  e["lastUpdated"] = "2026-12-01T18:00:00.000Z";
  Json::Value n;
  n["realmId"] = realm;
  n["dataChangeEvent"]["entities"].append(e);
  Json::Value v;
  v["eventNotifications"].append(n);
  return v.toStyledString();
}

std::string QuickBooksFake::cloud_event(const std::string& entity, const std::string& id,
                                        const std::string& action, const std::string& realm) {
  static int sequence = 0;
  Json::Value e;
  e["specversion"] = "1.0";
  e["id"] = "0b8c6a52-33b6-4351-9aa4-" + std::to_string(100000000000 + ++sequence);
  e["source"] = "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=";
  e["type"] = "qbo." + entity + "." + action + ".v1";
  e["datacontenttype"] = "application/json";
  e["time"] = "2026-12-01T18:00:00.179Z";
  e["intuitentityid"] = id;
  e["intuitaccountid"] = realm;
  e["data"] = Json::Value(Json::objectValue);
  Json::Value v(Json::arrayValue);
  v.append(e);
  return v.toStyledString();
}

std::map<std::string, std::string> QuickBooksFake::signed_headers(const std::string& body,
                                                                  const std::string& content_type,
                                                                  const std::string& key) {
  return {{"intuit-signature", hmac_sha256_base64(key, body)}, {"content-type", content_type}};
}

std::optional<http::Response> QuickBooksFake::answer(const Received& r) {
  if (r.target == "/oauth2/v1/tokens/bearer") return tokens_.token_request(r);
  const auto planned = faults_.take(r);
  if (planned && !planned->after_the_work) return planned->answer();
  http::Response normal = route(r);
  if (planned) return planned->answer();
  return normal;
}

http::Response QuickBooksFake::route(const Received& r) {
  if (!tokens_.authorised(r)) {
    return fault(401, "3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                 "Token expired", "AUTHENTICATION");
  }
  // QuickBooks answers XML unless JSON is asked for.
  if (r.header("accept").find("application/json") == std::string::npos) {
    return http::Response::text(
        200, "<IntuitResponse xmlns=\"http://schema.intuit.com/finance/v3\"/>", "application/xml");
  }
  const std::string prefix = std::string("/v3/company/") + kRealm + "/";
  if (r.target.rfind(prefix, 0) != 0) {
    return fault(403, "003100", "ApplicationAuthorizationFailed", "not this company",
                 "AUTHORIZATION");
  }
  const std::string rest = r.target.substr(prefix.size());
  const std::string path = rest.substr(0, rest.find('?'));
  http::Request parsed;
  parsed.query = rest.find('?') == std::string::npos ? "" : rest.substr(rest.find('?') + 1);
  const std::string request_id = parsed.query_param("requestid").value_or("");

  std::lock_guard lock(mutex_);
  if (r.method == "POST" && !request_id.empty()) {
    if (const auto it = replies_by_request_id_.find(request_id);
        it != replies_by_request_id_.end()) {
      return http::Response::text(it->second.first, it->second.second, "application/json");
    }
  }
  http::Response out = fault(400, "2030", "Invalid ID", "no such route: " + path);
  if (r.method == "GET" && path == std::string("companyinfo/") + kRealm) {
    Json::Value info;
    info["CompanyName"] = "Larry's Bakery";
    info["Id"] = "1";
    info["Country"] = "US";
    out = record("CompanyInfo", info);
  } else if (r.method == "GET" && path == "query") {
    out = query(parsed.query_param("query").value_or(""));
  } else if (r.method == "POST" && (path == "customer" || path == "invoice")) {
    const Json::Value body = parse(r.body);
    if (!body.isObject()) {
      out = fault(400, "2010", "Request has invalid or unsupported property", "not JSON");
    } else {
      out = path == "customer" ? create_customer(body) : create_invoice(body);
    }
    if (!request_id.empty() && keep_request_ids_) {
      replies_by_request_id_[request_id] = {out.status, out.body};
    }
  } else if (r.method == "GET") {
    const auto slash = path.find('/');
    const std::string entity = path.substr(0, slash);
    const std::string id = slash == std::string::npos ? "" : path.substr(slash + 1);
    const std::map<std::string, std::pair<const char*, std::map<std::string, Json::Value>*>>
        entities = {{"customer", {"Customer", &customers_}},
                    {"invoice", {"Invoice", &invoices_}},
                    {"payment", {"Payment", &payments_}}};
    if (const auto it = entities.find(entity); it != entities.end()) {
      const auto& records = *it->second.second;
      const auto found = records.find(id);
      if (found == records.end()) {
        out = fault(400, "610", "Object Not Found",
                    "Object Not Found : Something you're trying to use has been made inactive or "
                    "is not found");
      } else {
        out = record(it->second.first,
                     entity == "customer" ? shown_customer(found->second) : found->second);
      }
    }
  }
  return out;
}

// PrimaryTaxIdentifier comes back masked but for its last five characters.
Json::Value QuickBooksFake::shown_customer(const Json::Value& c) const {
  Json::Value shown = c;
  const std::string tax = c["PrimaryTaxIdentifier"].asString();
  if (!tax.empty()) {
    shown["PrimaryTaxIdentifier"] = std::string(tax.size() > 5 ? tax.size() - 5 : 0, 'X') +
                                    tax.substr(tax.size() > 5 ? tax.size() - 5 : 0);
  }
  return shown;
}

http::Response QuickBooksFake::query(const std::string& statement) {
  static const std::regex kSelect(
      R"(^\s*select \* from (\w+)(?: where ([\w.]+) = '((?:[^'\\]|\\.)*)')?(?: orderby ([\w.]+)(?: (asc|desc))?)?(?: maxresults (\d+))?\s*$)",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_match(statement, m, kSelect)) {
    return fault(400, "4000", "Error parsing query", "QueryParserError: " + statement);
  }
  const std::string entity = m[1];
  const std::map<std::string, std::map<std::string, Json::Value>*> tables = {
      {"Invoice", &invoices_}, {"Customer", &customers_}, {"Payment", &payments_}};
  const auto table = tables.find(entity);
  if (table == tables.end()) return fault(400, "4001", "Invalid query", "unknown entity " + entity);
  std::vector<Json::Value> rows;
  for (const auto& [id, v] : *table->second) {
    if (m[2].matched) {
      const std::string field = m[2];
      const std::string value = unescape(m[3]);
      if (v[field].asString() != value) continue;
    }
    rows.push_back(entity == "Customer" ? shown_customer(v) : v);
  }
  if (m[4].matched) {
    const std::string field = m[4];
    const bool desc = m[5].matched && (std::string(m[5]) == "DESC" || std::string(m[5]) == "desc");
    const auto key = [&](const Json::Value& v) {
      return field == "MetaData.CreateTime" ? v["MetaData"]["CreateTime"].asString()
                                            : v[field].asString();
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const Json::Value& a, const Json::Value& b) {
      return desc ? key(a) > key(b) : key(a) < key(b);
    });
  }
  if (m[6].matched && rows.size() > std::stoul(m[6])) rows.resize(std::stoul(m[6]));
  Json::Value v;
  Json::Value& response = v["QueryResponse"] = Json::Value(Json::objectValue);
  if (!rows.empty()) {
    for (const auto& row : rows) response[entity].append(row);
    response["startPosition"] = 1;
    response["maxResults"] = static_cast<int>(rows.size());
  }
  v["time"] = "2026-12-01T10:00:00.000-08:00";
  return http::Response::json(200, v);
}

http::Response QuickBooksFake::create_customer(const Json::Value& body) {
  const std::string name = body["DisplayName"].asString();
  if (name.empty()) {
    return fault(400, "2020", "Required param missing, need to supply the required value",
                 "Required parameter DisplayName is missing in the request");
  }
  for (const auto& [id, c] : customers_) {
    if (c["DisplayName"].asString() == name) {
      return fault(400, "6240", "Duplicate Name Exists Error",
                   "The name supplied already exists. : Another customer is already using this "
                   "name. Please use a different name.");
    }
  }
  Json::Value c = body;
  const std::string id = new_id();
  c["Id"] = id;
  c["SyncToken"] = "0";
  c["Active"] = true;
  c["MetaData"]["CreateTime"] = now_text();
  customers_[id] = c;
  return record("Customer", shown_customer(c));
}

http::Response QuickBooksFake::create_invoice(const Json::Value& body) {
  const std::string customer = body["CustomerRef"]["value"].asString();
  if (customers_.count(customer) == 0) {
    return fault(400, "2500", "Invalid Reference Id",
                 "Invalid Reference Id : Something you're trying to use has been made inactive. "
                 "Check the fields with accounts, customers, items, vendors or employees.");
  }
  const std::string number = body["DocNumber"].asString();
  if (number.size() > 21) {
    return fault(400, "6000",
                 "A business validation error has occurred while processing your "
                 "request",
                 "Business Validation Error: DocNumber is too long");
  }
  for (const auto& [id, i] : invoices_) {
    if (!number.empty() && i["DocNumber"].asString() == number) {
      return fault(400, "6140", "Duplicate Document Number Error",
                   "Duplicate Document Number Error : You must specify a different number. This "
                   "number has already been used. DocNumber=" +
                       number + " is assigned to TxnType=Invoice with TxnId=" + id);
    }
  }
  Json::Value invoice = body;
  int64_t net = 0;
  for (auto& line : invoice["Line"]) {
    const Json::Value& d = line["SalesItemLineDetail"];
    // QuickBooks checks a line's amount against its quantity and price (to the cent).
    const double product = d["Qty"].asDouble() * d["UnitPrice"].asDouble();
    if (std::fabs(product - line["Amount"].asDouble()) >= 0.005) {
      return fault(
          400, "6070", "Amount is not equal to UnitPrice * Qty",
          "Amount is not equal to UnitPrice * Qty. Supplied value:" + line["Amount"].asString());
    }
    net += units(line["Amount"]);
  }
  const int64_t total = net + units(invoice["TxnTaxDetail"]["TotalTax"]);
  const std::string id = new_id();
  invoice["Id"] = id;
  invoice["SyncToken"] = "0";
  invoice["TotalAmt"] = amount(total);
  invoice["Balance"] = amount(total);
  invoice["MetaData"]["CreateTime"] = now_text();
  invoices_[id] = invoice;
  return record("Invoice", invoice);
}

}  // namespace psahost::test
