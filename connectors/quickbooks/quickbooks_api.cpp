#include "quickbooks_api.hpp"

#include "wire.hpp"

#include <stdexcept>

namespace quickbooks {

std::string Fault::text() const {
  std::string out = message.empty() ? "an error" : message;
  if (!code.empty()) out += " (" + code + ")";
  if (!detail.empty() && detail != message) out += ": " + detail;
  return out;
}

Fault fault_of(const Json::Value& body) {
  Fault f;
  if (!body.isObject()) return f;
  const Json::Value& errors = body["Fault"]["Error"];
  if (!errors.isArray() || errors.empty()) return f;
  const Json::Value& e = errors[0];
  f.code = e["code"].asString();
  f.message = e["Message"].asString();
  f.detail = e["Detail"].asString();
  return f;
}

bool is_duplicate_number(const Answer& answer) {
  if (answer.status < 400 || answer.status >= 500) return false;
  const Fault f = fault_of(answer.body);
  return f.code == "6140" || f.message.find("Duplicate Document Number") != std::string::npos;
}

Api::Api(const psa::Host& host, const Json::Value& request) : host_(host) {
  tenant_id_ = request["tenant_id"].asString();
  const Json::Value& connection = request["connection"];
  connection_id_ = connection["id"].asString();
  base_url_ = connection["base_url"].isString() && !connection["base_url"].asString().empty()
                  ? connection["base_url"].asString()
                  : kDefaultBaseUrl;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  const Json::Value& realm = connection["settings"]["realm_id"];
  realm_ = realm.isString() ? realm.asString() : realm.isIntegral() ? realm.asString() : "";
}

const std::string& Api::realm() const {
  if (realm_.empty() || !connectors::is_record_id(realm_)) {
    throw std::runtime_error(
        "the connection's settings name no realm_id (the QuickBooks company id): add it with "
        "--settings '{\"realm_id\":\"...\"}'");
  }
  return realm_;
}

std::string Api::company_url(const std::string& rest) const {
  return base_url_ + "/v3/company/" + realm() + "/" + rest +
         (rest.find('?') == std::string::npos ? "?" : "&") + "minorversion=" + kMinorVersion;
}

Answer Api::send(const std::string& method, const std::string& url, const std::string& body) const {
  Json::Value call;
  call["tenant_id"] = tenant_id_;
  call["connection_id"] = connection_id_;
  call["method"] = method;
  call["url"] = url;
  call["headers"]["Accept"] = "application/json";
  if (!body.empty()) {
    call["headers"]["Content-Type"] = "application/json";
    call["body"] = body;
  }
  call["timeout_ms"] = 10000;
  return connectors::answer_of(host_.call("http.request", call));
}

Answer Api::get(const std::string& url) const {
  return send("GET", url, "");
}

Answer Api::post(const std::string& url, const std::string& body) const {
  return send("POST", url, body);
}

void Api::fail(const std::string& what, const Answer& a) {
  const Fault f = fault_of(a.body);
  std::string detail;
  if (!f.empty()) {
    detail = f.text();
  } else if (a.status >= 200 && a.status < 300) {
    detail = "an answer that is not a JSON record: " + a.text.substr(0, 80);
  } else {
    detail = a.text.substr(0, 120);
  }
  throw std::runtime_error("QuickBooks answered " + std::to_string(a.status) + " to " + what +
                           ": " + detail);
}

std::optional<Json::Value> Api::read(const std::string& entity, const std::string& id) const {
  if (!connectors::is_record_id(id)) {
    throw std::runtime_error("'" + id + "' is not a QuickBooks " + entity + " id");
  }
  const Answer a = get(company_url(entity + "/" + id));
  if (a.status == 404 || fault_of(a.body).code == "610") return std::nullopt;
  if (!a.ok()) fail("reading " + entity + " " + id, a);
  // The answer's member is the entity's name as QuickBooks spells it ("Invoice", "Payment").
  for (const auto& name : a.body.getMemberNames()) {
    if (connectors::lower(name) == entity && a.body[name].isObject()) return a.body[name];
  }
  fail("reading " + entity + " " + id, a);
}

Json::Value Api::query(const std::string& entity, const std::string& statement) const {
  const Answer a = get(company_url("query?query=" + connectors::url_encode(statement)));
  if (!a.ok() || !a.body["QueryResponse"].isObject()) fail("the query " + statement, a);
  const Json::Value& found = a.body["QueryResponse"][entity];
  return found.isArray() ? found : Json::Value(Json::arrayValue);
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace quickbooks
