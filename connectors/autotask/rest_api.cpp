#include "autotask.hpp"

#include <algorithm>
#include <cctype>

namespace autotask {
namespace {

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

const connectors::PsaDialect kDialect = {
    "Autotask", "API user", "check ApiIntegrationCode, UserName and Secret", answer_detail};

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

RestApi::RestApi(const psa::Host& host, const Json::Value& request)
    : PsaApi(host, request, kDialect) {
  // The zone (https://webservices5.autotask.net) is what a partner configures; one that already
  // names the API path is taken as it is.
  if (connectors::lower(connection()["base_url"].asString()).find("/atservicesrest") ==
      std::string::npos) {
    set_prefix("/ATServicesRest/V1.0");
  }
}

std::optional<Json::Value> RestApi::record(const std::string& entities,
                                           const std::string& id) const {
  const auto found = read("/" + entities + "/" + id);
  // Autotask answers an id it does not have with {"item": null}.
  if (!found || !(*found)["item"].isObject()) return std::nullopt;
  return (*found)["item"];
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
