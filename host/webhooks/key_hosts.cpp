#include "webhooks/key_hosts.hpp"

#include <algorithm>
#include <cctype>

namespace psahost::webhooks {
namespace {

constexpr std::string_view kCloudDomain = ".myconnectwise.net";

// A DNS name (letters, digits, hyphens, dots) with an optional :port; nothing that could widen
// the match (no wildcard, scheme, path or userinfo).
bool is_host_entry(const std::string& s) {
  if (s.empty() || s.size() > 253 + 6) return false;
  const auto colon = s.find(':');
  const std::string host = s.substr(0, colon);
  if (host.empty() || host.front() == '.' || host.back() == '.' || host.front() == '-') {
    return false;
  }
  const bool host_ok = std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.';
  });
  if (!host_ok) return false;
  if (colon == std::string::npos) return true;
  const std::string port = s.substr(colon + 1);
  return !port.empty() && port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::vector<std::string> key_origins(const Connection& connection) {
  std::vector<std::string> out;
  const std::string own = origin_of(connection.base_url);
  if (!own.empty()) out.push_back(own);
  const Json::Value& configured = connection.settings.isObject() ? connection.settings["key_hosts"]
                                                                 : Json::Value::nullSingleton();
  if (configured.isArray()) {
    for (const auto& h : configured) {
      if (!h.isString() || !is_host_entry(h.asString())) continue;
      std::string origin = "https://" + lower(h.asString());
      if (origin.ends_with(":443")) origin.resize(origin.size() - 4);
      out.push_back(origin);
    }
    return out;
  }
  // https://{prefix}{region}.myconnectwise.net on the default port: the region's hosts.
  const std::string prefix = "https://";
  if (!own.starts_with(prefix) || !own.ends_with(kCloudDomain)) return out;
  std::string label = own.substr(prefix.size(), own.size() - prefix.size() - kCloudDomain.size());
  if (label.find('.') != std::string::npos || label.find(':') != std::string::npos) return out;
  for (const std::string_view p : {"api-", "sandbox-"}) {
    if (label.starts_with(p)) label = label.substr(p.size());
  }
  if (label.empty()) return out;
  for (const std::string_view p : {"", "api-", "sandbox-"}) {
    std::string origin = prefix + std::string(p) + label + std::string(kCloudDomain);
    if (std::find(out.begin(), out.end(), origin) == out.end()) out.push_back(std::move(origin));
  }
  return out;
}

bool key_url_allowed(std::string_view key_url, const Connection& connection) {
  const std::string origin = origin_of(key_url);
  if (origin.empty()) return false;
  const auto allowed = key_origins(connection);
  return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

}  // namespace psahost::webhooks
