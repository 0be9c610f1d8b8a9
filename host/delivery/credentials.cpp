#include "delivery/credentials.hpp"

#include "core/crypto.hpp"
#include "core/log.hpp"

#include <psa/sdk.hpp>

#include <cstdio>

namespace psahost::delivery {
namespace {

// A token is used until this long before it expires, so a request never starts with one that
// lapses on the way.
constexpr auto kExpiryMargin = std::chrono::seconds(60);

std::string text(const Json::Value& v, const char* name) {
  return v[name].isString() ? v[name].asString() : std::string();
}

// application/x-www-form-urlencoded, as RFC 6749 requires for token requests.
std::string form_encode(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string headers_problem(const Json::Value& headers) {
  if (headers.isNull()) return "";
  if (!headers.isObject()) return "headers must be an object of strings";
  for (const auto& name : headers.getMemberNames()) {
    if (!headers[name].isString()) return "header " + name + " must be a string";
  }
  return "";
}

void add_headers(const Json::Value& headers, std::vector<net::Header>& out) {
  if (!headers.isObject()) return;
  for (const auto& name : headers.getMemberNames()) out.push_back({name, headers[name].asString()});
}

}  // namespace

std::string check_credentials(const Json::Value& c) {
  if (!c.isObject()) return "expected a JSON object with a type";
  const std::string type = text(c, "type");
  const auto need = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* n : names) {
      if (text(c, n).empty()) return std::string(n) + " is required for type " + type;
    }
    return "";
  };
  std::string problem;
  if (type == "oauth2") {
    problem = need({"token_url", "client_id", "client_secret"});
    if (problem.empty() && webhooks::origin_of(text(c, "token_url")).empty()) {
      problem = "token_url must be an https:// URL";
    }
  } else if (type == "basic") {
    problem = need({"username", "password"});
  } else if (type == "bearer") {
    problem = need({"token"});
  } else if (type == "headers") {
    if (!c["headers"].isObject() || c["headers"].empty())
      problem = "headers must name at least one";
  } else {
    return "type must be oauth2, basic, bearer or headers";
  }
  if (problem.empty()) problem = headers_problem(c["headers"]);
  return problem;
}

std::vector<net::Header> ConnectionAuth::headers(const webhooks::Connection& connection) {
  std::vector<net::Header> out;
  if (!connection.has_credentials) return out;
  const Json::Value c = connections_.credentials(connection.id);
  const std::string type = text(c, "type");
  if (type == "basic") {
    out.push_back({"Authorization", "Basic " + crypto::base64_encode(text(c, "username") + ":" +
                                                                     text(c, "password"))});
  } else if (type == "bearer") {
    out.push_back({"Authorization", "Bearer " + text(c, "token")});
  } else if (type == "oauth2") {
    out.push_back({"Authorization", "Bearer " + oauth2_token(connection, c)});
  }
  add_headers(c["headers"], out);
  return out;
}

void ConnectionAuth::invalidate(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  tokens_.erase(connection_id);
}

std::string ConnectionAuth::oauth2_token(const webhooks::Connection& connection,
                                         const Json::Value& stored) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (auto it = tokens_.find(connection.id); it != tokens_.end() && it->second.expires > now) {
    return it->second.access_token;
  }
  // Read again under the lock: another thread may just have rotated the refresh token.
  Json::Value c = connections_.credentials(connection.id);
  if (c.isNull()) c = stored;
  const std::string refresh = text(c, "refresh_token");
  net::OutboundRequest request;
  request.method = "POST";
  request.url = text(c, "token_url");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"},
                     {"Authorization", "Basic " + crypto::base64_encode(text(c, "client_id") + ":" +
                                                                        text(c, "client_secret"))}};
  request.body = refresh.empty() ? "grant_type=client_credentials"
                                 : "grant_type=refresh_token&refresh_token=" + form_encode(refresh);
  if (!text(c, "scope").empty()) request.body += "&scope=" + form_encode(text(c, "scope"));
  request.timeout = std::chrono::seconds(15);
  const auto r = client_.send(std::move(request));
  // Neither the request nor the answer is logged or echoed: both carry secrets.
  if (!r.ok()) {
    throw std::runtime_error("the token endpoint could not be reached (" +
                             std::string(net::to_string(r.failure)) + ")");
  }
  Json::Value body;
  std::string errors;
  psa::json::reader().parse(r.body.data(), r.body.data() + r.body.size(), &body, &errors);
  if (r.status != 200 || text(body, "access_token").empty()) {
    throw std::runtime_error("the token endpoint refused (" + std::to_string(r.status) + " " +
                             text(body, "error") + ")");
  }
  const int64_t expires_in = body["expires_in"].isIntegral() ? body["expires_in"].asInt64() : 300;
  tokens_[connection.id] = {text(body, "access_token"),
                            now + std::chrono::seconds(expires_in) - kExpiryMargin};
  // Xero and QuickBooks hand out a new refresh token with every access token; the old one stops
  // working, so the new one is stored before anything else happens.
  if (!text(body, "refresh_token").empty() && text(body, "refresh_token") != refresh) {
    c["refresh_token"] = body["refresh_token"];
    connections_.store_credentials(connection.id, c);
    Json::Value f;
    f["connection"] = connection.name;
    log_.info("stored the refresh token the system rotated", f);
  }
  return text(body, "access_token");
}

}  // namespace psahost::delivery
