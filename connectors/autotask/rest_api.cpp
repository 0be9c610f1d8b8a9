#include "autotask.hpp"

#include <algorithm>
#include <cctype>

namespace autotask {
namespace {

std::string status_text(int status) {
  return status > 0 ? std::to_string(status) : std::string("nothing");
}

// What an error answer says, for a message: Autotask answers {"errors":["..."]}.
std::string answer_detail(const Reply& r) {
  std::string out;
  if (r.body.isObject()) {
    for (const auto& e : r.body["errors"]) {
      if (e.isString()) out += (out.empty() ? ": " : "; ") + clean_text(e.asString(), 300);
    }
  }
  return out;
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

RestApi::RestApi(const psa::Host& host, const Json::Value& request)
    : host_(host), tenant_id_(request["tenant_id"].asString()), connection_(request["connection"]) {
  // The zone (https://webservices5.autotask.net) is what a partner configures; one that already
  // names the API path is taken as it is.
  std::string base = connection_["base_url"].asString();
  std::transform(base.begin(), base.end(), base.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (base.find("/atservicesrest") == std::string::npos) prefix_ = "/ATServicesRest/V1.0";
}

Reply RestApi::call(const std::string& method, const std::string& path,
                    const Json::Value& body) const {
  Json::Value q;
  q["tenant_id"] = tenant_id_;
  q["connection_id"] = connection_["id"];
  q["method"] = method;
  q["path"] = prefix_ + path;
  q["headers"]["Accept"] = "application/json";
  if (!body.isNull()) q["body"] = body;
  // A hook makes up to three calls within its 30 s timeout_ms.
  q["timeout_ms"] = 10000;
  Json::Value answer;
  try {
    answer = host_.call("http.request", q);
  } catch (const psa::HostError& e) {
    throw Unavailable(method + " " + path + ": " + e.what());
  }
  Reply r;
  r.status = answer["status"].asInt();
  if (answer["truncated"].asBool()) {
    throw Unavailable(method + " " + path + ": the answer was cut short at the host's limit");
  }
  const std::string body_text = answer["body"].asString();
  if (!body_text.empty()) {
    try {
      r.body = psa::json::parse(body_text);
    } catch (const std::exception&) {
      if (r.status >= 200 && r.status < 300) {
        throw Unavailable(method + " " + path + " answered " + status_text(r.status) +
                          " with a body that is not JSON");
      }
    }
  }
  if (r.status == 429 || r.status >= 500) {
    throw Unavailable(method + " " + path + " answered " + status_text(r.status) +
                      answer_detail(r));
  }
  if (r.status == 401 || r.status == 403) {
    throw std::runtime_error("Autotask refused the connection's API user (" +
                             std::to_string(r.status) + " on " + method + " " + path +
                             "): check ApiIntegrationCode, UserName and Secret");
  }
  return r;
}

std::optional<Json::Value> RestApi::record(const std::string& entities,
                                           const std::string& id) const {
  const std::string path = "/" + entities + "/" + id;
  const Reply r = call("GET", path);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200 || !r.body.isObject()) {
    throw std::runtime_error("GET " + path + " answered " + status_text(r.status) +
                             answer_detail(r));
  }
  // Autotask answers an id it does not have with {"item": null}.
  if (!r.body["item"].isObject()) return std::nullopt;
  return r.body["item"];
}

Json::Value RestApi::query(const std::string& entities, const Json::Value& filter) const {
  Json::Value body;
  body["filter"] = filter;
  const Json::Value found = expect_ok("POST", "/" + entities + "/query", body);
  if (!found["items"].isArray()) {
    throw Unavailable("POST /" + entities + "/query answered without a list of items");
  }
  return found["items"];
}

Json::Value RestApi::expect_ok(const std::string& method, const std::string& path,
                               const Json::Value& body) const {
  const Reply r = call(method, path, body);
  if (r.status < 200 || r.status >= 300) {
    throw std::runtime_error(method + " " + path + " answered " + status_text(r.status) +
                             answer_detail(r));
  }
  return r.body;
}

std::optional<std::string> RestApi::linked_object(const std::string& type,
                                                  const std::string& external_id) const {
  return connectors::linked_object(host_, tenant_id_, type, external_id);
}

std::optional<std::string> RestApi::linked_external(const std::string& type,
                                                    const std::string& object_id) const {
  return connectors::linked_external(host_, tenant_id_, type, object_id);
}

const Json::Value& field(const Json::Value& record, std::string_view name) {
  static const Json::Value kNull;
  if (!record.isObject()) return kNull;
  if (const Json::Value* exact = record.find(name.data(), name.data() + name.size())) {
    return *exact;
  }
  for (auto it = record.begin(); it != record.end(); ++it) {
    if (same_name(it.name(), name)) return *it;
  }
  return kNull;
}

bool has_field(const Json::Value& record, std::string_view name) {
  if (!record.isObject()) return false;
  for (auto it = record.begin(); it != record.end(); ++it) {
    if (same_name(it.name(), name)) return true;
  }
  return false;
}

Json::Value id_number(const std::string& id) {
  return static_cast<Json::Int64>(std::stoll(id));
}

}  // namespace autotask
