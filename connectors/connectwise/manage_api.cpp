#include "connectwise.hpp"

#include <cstdio>
#include <ctime>

namespace connectwise {
namespace {

// What an error answer says, for a message: ConnectWise answers {"code","message","errors"}.
std::string answer_detail(const Reply& r) {
  if (r.body.isObject() && r.body["message"].isString()) {
    return ": " + clean_text(r.body["message"].asString(), 300);
  }
  return "";
}

const connectors::PsaDialect kDialect = {
    "ConnectWise", "API keys",
    "check the API member's public/private key, the company and the clientId", answer_detail};

}  // namespace

ManageApi::ManageApi(const psa::Host& host, const Json::Value& request)
    : PsaApi(host, request, kDialect) {
  // The site (https://api-na.myconnectwise.net) is what a partner configures; one that already
  // names the API path is taken as it is.
  if (connection()["base_url"].asString().find("/apis/3.0") == std::string::npos) {
    const Json::Value& codebase = settings()["codebase"];
    set_prefix("/" +
               (codebase.isString() && !codebase.asString().empty() ? codebase.asString()
                                                                    : "v4_6_release") +
               "/apis/3.0");
  }
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

}  // namespace connectwise
