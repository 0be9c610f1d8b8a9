// Autotask's picklist codes. Autotask publishes that picklist values "may vary between Autotask
// implementations and cannot be provided in this document" (autotask.net/help/DeveloperHelp,
// "Autotask REST API resources"); each instance's are read from {Entity}/entityInformation/fields
// ("Finding resource and child access URLs of REST API entities"), whose fields carry
// picklistValues [{"value":"8","label":"Partner","isActive":true,...}] with the value as text.
// So codes are never assumed: a connection's settings name them, or they are read from its
// instance (by `psahost connections test`, or on first need) and kept per connection.
#include "autotask.hpp"

#include <algorithm>

namespace autotask {
namespace {

std::string key_of(const RestApi& api) {
  return "codes/" + api.connection_id();
}

// The values of one field's picklist whose label is one of labels (any case).
Json::Value values_labelled(const Json::Value& fields, const std::string& field_name,
                            std::initializer_list<const char*> labels) {
  Json::Value out(Json::arrayValue);
  for (const auto& f : fields["fields"]) {
    if (connectors::lower(text(f["name"])) != connectors::lower(field_name)) continue;
    for (const auto& v : f["picklistValues"]) {
      const std::string label = connectors::lower(text(v["label"]));
      const std::string value = id_text(v["value"]);
      if (value.empty()) continue;
      for (const char* l : labels) {
        if (label == l) out.append(static_cast<Json::Int64>(std::stoll(value)));
      }
    }
  }
  return out;
}

Json::Value all_values(const Json::Value& fields, const std::string& field_name) {
  Json::Value out(Json::arrayValue);
  for (const auto& f : fields["fields"]) {
    if (connectors::lower(text(f["name"])) != connectors::lower(field_name)) continue;
    for (const auto& v : f["picklistValues"]) {
      if (!id_text(v["value"]).empty()) {
        out.append(static_cast<Json::Int64>(std::stoll(id_text(v["value"]))));
      }
    }
  }
  return out;
}

bool contains(const Json::Value& list, int64_t value) {
  for (const auto& v : list) {
    if (v.isIntegral() && v.asInt64() == value) return true;
  }
  return false;
}

}  // namespace

Json::Value read_codes(const RestApi& api) {
  const Json::Value companies = api.expect_ok("GET", "/Companies/entityInformation/fields");
  const Json::Value tickets = api.expect_ok("GET", "/Tickets/entityInformation/fields");
  const Json::Value contracts = api.expect_ok("GET", "/Contracts/entityInformation/fields");
  Json::Value codes;
  codes["company_types"]["prospect"] =
      values_labelled(companies, "companyType", {"prospect", "lead"});
  codes["company_types"]["partner"] = values_labelled(companies, "companyType", {"partner"});
  codes["company_types"]["known"] = all_values(companies, "companyType");
  codes["closed_statuses"] = values_labelled(tickets, "status", {"complete"});
  const Json::Value recurring = values_labelled(contracts, "contractType", {"recurring service"});
  codes["contract_type"] = recurring.empty() ? Json::Value() : recurring[0];
  api.host().kv_put(key_of(api), psa::json::write(codes));
  return codes;
}

Json::Value codes(const RestApi& api) {
  if (const auto kept = api.host().kv_get(key_of(api))) {
    try {
      return psa::json::parse(*kept);
    } catch (const std::exception&) {
      // read again below
    }
  }
  return read_codes(api);
}

std::optional<std::string> company_type(const RestApi& api, const Json::Value& company) {
  const Json::Value& v = field(company, "companyType");
  const std::string code = id_text(v);
  if (code.empty()) return std::nullopt;
  const int64_t type = std::stoll(code);
  const Json::Value& configured = api.settings()["company_types"];
  const Json::Value known = configured.isObject() ? configured : codes(api)["company_types"];
  if (contains(known["prospect"], type)) return "prospect";
  if (contains(known["partner"], type)) return "partner";
  // A value outside the instance's picklist as read is not guessed at.
  if (!configured.isObject() && !contains(known["known"], type)) return std::nullopt;
  return "customer";
}

std::optional<bool> ticket_closed(const RestApi& api, const Json::Value& ticket) {
  const std::string code = id_text(field(ticket, "status"));
  if (code.empty()) return std::nullopt;
  const int64_t status = std::stoll(code);
  const Json::Value& configured = api.settings()["closed_statuses"];
  if (configured.isArray()) return contains(configured, status);
  const Json::Value closed = codes(api)["closed_statuses"];
  if (closed.empty()) return std::nullopt;
  return contains(closed, status);
}

int64_t contract_type(const RestApi& api) {
  const Json::Value& configured = api.settings()["contract_type"];
  if (configured.isIntegral() && !configured.isBool()) return configured.asInt64();
  const Json::Value read = codes(api)["contract_type"];
  if (read.isIntegral()) return read.asInt64();
  throw std::runtime_error(
      "Autotask's contract types have no \"Recurring Service\" here; name the type to use in "
      "the connection's settings.contract_type");
}

std::string describe_codes(const RestApi& api) {
  const Json::Value c = codes(api);
  const auto list = [](const Json::Value& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ",") + x.asString();
    return out.empty() ? std::string("none") : out;
  };
  const Json::Value& s = api.settings();
  std::string out =
      "codes: company types prospect " +
      list(s["company_types"].isObject() ? s["company_types"]["prospect"]
                                         : c["company_types"]["prospect"]) +
      ", partner " +
      list(s["company_types"].isObject() ? s["company_types"]["partner"]
                                         : c["company_types"]["partner"]) +
      "; ticket closed " +
      list(s["closed_statuses"].isArray() ? s["closed_statuses"] : c["closed_statuses"]) +
      "; contract type ";
  if (s["contract_type"].isIntegral()) {
    out += s["contract_type"].asString() + " (settings)";
  } else {
    out += c["contract_type"].isIntegral() ? c["contract_type"].asString()
                                           : std::string("none (set settings.contract_type)");
  }
  return out;
}

}  // namespace autotask
