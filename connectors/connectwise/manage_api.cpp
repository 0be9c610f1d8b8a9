#include "connectwise.hpp"

#include <cstdio>
#include <ctime>

namespace connectwise {
namespace {

std::string status_text(int status) {
  return status > 0 ? std::to_string(status) : std::string("nothing");
}

// What an error answer says, for a message: ConnectWise answers {"code","message","errors"}.
std::string answer_detail(const Reply& r) {
  if (r.body.isObject() && r.body["message"].isString()) {
    return ": " + clean_text(r.body["message"].asString(), 300);
  }
  return "";
}

}  // namespace

ManageApi::ManageApi(const psa::Host& host, const Json::Value& request)
    : host_(host), tenant_id_(request["tenant_id"].asString()), connection_(request["connection"]) {
  // The site (https://api-na.myconnectwise.net) is what a partner configures; one that already
  // names the API path is taken as it is.
  const std::string base = connection_["base_url"].asString();
  if (base.find("/apis/3.0") == std::string::npos) {
    const Json::Value& codebase = settings()["codebase"];
    prefix_ = "/" +
              (codebase.isString() && !codebase.asString().empty() ? codebase.asString()
                                                                   : "v4_6_release") +
              "/apis/3.0";
  }
}

Reply ManageApi::call(const std::string& method, const std::string& path,
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
  const std::string text = answer["body"].asString();
  if (answer["truncated"].asBool()) {
    throw Unavailable(method + " " + path + ": the answer was cut short at the host's limit");
  }
  if (!text.empty()) {
    try {
      r.body = psa::json::parse(text);
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
    throw std::runtime_error(
        "ConnectWise refused the connection's API keys (" + std::to_string(r.status) + " on " +
        method + " " + path +
        "): check the API member's public/private key, the company and the clientId");
  }
  return r;
}

std::optional<Json::Value> ManageApi::record(const std::string& path) const {
  const Reply r = call("GET", path);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200 || !r.body.isObject()) {
    throw std::runtime_error("GET " + path + " answered " + status_text(r.status) +
                             answer_detail(r));
  }
  return r.body;
}

Json::Value ManageApi::expect_ok(const std::string& method, const std::string& path,
                                 const Json::Value& body) const {
  const Reply r = call(method, path, body);
  if (r.status < 200 || r.status >= 300) {
    throw std::runtime_error(method + " " + path + " answered " + status_text(r.status) +
                             answer_detail(r));
  }
  return r.body;
}

std::optional<std::string> ManageApi::linked_object(const std::string& type,
                                                    const std::string& external_id) const {
  return connectors::linked_object(host_, tenant_id_, type, external_id);
}

std::optional<std::string> ManageApi::linked_external(const std::string& type,
                                                      const std::string& object_id) const {
  return connectors::linked_external(host_, tenant_id_, type, object_id);
}

std::optional<int64_t> parse_time(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) {
    return std::nullopt;
  }
  std::size_t at = static_cast<std::size_t>(used);
  if (at < s.size() && s[at] == '.') {
    ++at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
  }
  int64_t offset = 0;
  if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + at + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (s[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (at < s.size() && s[at] != 'Z' && s[at] != 'z') {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

std::string query_escape(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace connectwise
