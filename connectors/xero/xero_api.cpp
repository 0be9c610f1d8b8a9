#include "xero_api.hpp"

#include "wire.hpp"

#include <stdexcept>

namespace xero {

std::string error_text(const Answer& a) {
  std::string out;
  for (const auto& element : a.body["Elements"]) {
    for (const auto& error : element["ValidationErrors"]) {
      if (!out.empty()) out += "; ";
      out += error["Message"].asString();
    }
  }
  if (!out.empty()) return out;
  if (a.body["Message"].isString()) return a.body["Message"].asString();
  if (a.body["Detail"].isString()) return a.body["Detail"].asString();
  if (a.status >= 200 && a.status < 300) {
    return "an answer that is not a JSON record: " + a.text.substr(0, 80);
  }
  return a.text.substr(0, 120);
}

bool is_duplicate_number(const Answer& a) {
  if (a.status != 400) return false;
  const std::string text = error_text(a);
  return text.find("Invoice #") != std::string::npos &&
         text.find("must be unique") != std::string::npos;
}

Api::Api(const psa::Host& host, const Json::Value& request) : host_(host) {
  tenant_id_ = request["tenant_id"].asString();
  const Json::Value& connection = request["connection"];
  connection_id_ = connection["id"].asString();
  base_url_ = connection["base_url"].isString() && !connection["base_url"].asString().empty()
                  ? connection["base_url"].asString()
                  : kDefaultBaseUrl;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  const Json::Value& organisation = connection["settings"]["tenant_id"];
  organisation_ = organisation.isString() ? organisation.asString() : "";
}

const std::string& Api::organisation() const {
  if (organisation_.empty() || !connectors::is_record_id(organisation_)) {
    throw std::runtime_error(
        "the connection's settings name no tenant_id (the Xero organisation's id, sent as "
        "Xero-tenant-id): add it with --settings '{\"tenant_id\":\"...\"}'");
  }
  return organisation_;
}

std::string Api::url(const std::string& rest) const {
  return base_url_ + "/api.xro/2.0/" + rest;
}

Json::Value Api::headers() const {
  Json::Value h;
  h["Accept"] = "application/json";
  h["Xero-tenant-id"] = organisation();
  return h;
}

Answer Api::send(const std::string& method, const std::string& url, const std::string& body,
                 const std::string& idempotency_key) const {
  Json::Value call;
  call["tenant_id"] = tenant_id_;
  call["connection_id"] = connection_id_;
  call["method"] = method;
  call["url"] = url;
  call["headers"] = headers();
  if (!body.empty()) {
    call["headers"]["Content-Type"] = "application/json";
    call["body"] = body;
  }
  if (!idempotency_key.empty()) call["headers"]["Idempotency-Key"] = idempotency_key;
  call["timeout_ms"] = 10000;
  Json::Value response = host_.call("http.request", call);
  return answer_of(response);
}

Answer Api::get(const std::string& url) const {
  return send("GET", url, "", "");
}

Answer Api::put(const std::string& url, const std::string& body,
                const std::string& idempotency_key) const {
  return send("PUT", url, body, idempotency_key);
}

void Api::fail(const std::string& what, const Answer& a) {
  throw std::runtime_error("Xero answered " + std::to_string(a.status) + " to " + what + ": " +
                           error_text(a));
}

std::optional<Json::Value> Api::read(const std::string& collection, const std::string& id) const {
  if (!connectors::is_record_id(id)) {
    throw std::runtime_error("'" + id + "' is not a Xero id");
  }
  const Answer a = get(url(collection + "/" + id));
  if (a.status == 404) return std::nullopt;
  if (!a.ok() || !a.body[collection].isArray()) fail("reading " + collection + "/" + id, a);
  if (a.body[collection].empty()) return std::nullopt;
  return a.body[collection][0];
}

Json::Value Api::list(const std::string& collection, const std::string& query) const {
  const Answer a = get(url(collection + "?" + query));
  if (!a.ok()) fail("listing " + collection, a);
  const Json::Value& found = a.body[collection];
  return found.isArray() ? found : Json::Value(Json::arrayValue);
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace xero
