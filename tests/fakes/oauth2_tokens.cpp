#include "fakes/oauth2_tokens.hpp"

#include "core/crypto.hpp"

#include <json/value.h>

#include <map>

namespace psahost::test {
namespace {

std::map<std::string, std::string> form_of(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= body.size()) {
    const auto amp = body.find('&', start);
    const std::string pair = body.substr(start, amp - start);
    const auto eq = pair.find('=');
    if (eq != std::string::npos) {
      out[http::percent_decode(pair.substr(0, eq), true)] =
          http::percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

http::Response oauth_error(int status, const std::string& error) {
  Json::Value v;
  v["error"] = error;
  return http::Response::json(status, v);
}

}  // namespace

OAuth2Tokens::OAuth2Tokens(std::string client_id, std::string client_secret,
                           std::string refresh_token)
    : client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)),
      refresh_token_(std::move(refresh_token)) {}

http::Response OAuth2Tokens::token_request(const Received& r) {
  std::lock_guard lock(mutex_);
  if (r.method != "POST" ||
      r.header("content-type").find("application/x-www-form-urlencoded") != 0) {
    return oauth_error(400, "invalid_request");
  }
  if (r.header("authorization") !=
      "Basic " + crypto::base64_encode(client_id_ + ":" + client_secret_)) {
    return oauth_error(401, "invalid_client");
  }
  const auto form = form_of(r.body);
  if (form.count("grant_type") == 0 || form.at("grant_type") != "refresh_token") {
    return oauth_error(400, "unsupported_grant_type");
  }
  const std::string presented = form.count("refresh_token") ? form.at("refresh_token") : "";
  if (presented != refresh_token_) {
    ++refused_;
    return oauth_error(400, "invalid_grant");
  }
  ++refreshes_;
  refresh_token_ = "rt-" + std::to_string(refreshes_) + "-" + crypto::random_token(12);
  const std::string access = "at-" + std::to_string(refreshes_) + "-" + crypto::random_token(12);
  access_tokens_.insert(access);
  Json::Value v;
  v["access_token"] = access;
  v["token_type"] = "Bearer";
  v["expires_in"] = expires_in_;
  v["refresh_token"] = refresh_token_;
  return http::Response::json(200, v);
}

bool OAuth2Tokens::authorised(const Received& r) const {
  const std::string h = r.header("authorization");
  if (h.rfind("Bearer ", 0) != 0) return false;
  std::lock_guard lock(mutex_);
  return access_tokens_.count(h.substr(7)) > 0;
}

std::string OAuth2Tokens::credentials_json(const std::string& token_url) const {
  std::lock_guard lock(mutex_);
  Json::Value v;
  v["type"] = "oauth2";
  v["token_url"] = token_url;
  v["client_id"] = client_id_;
  v["client_secret"] = client_secret_;
  v["refresh_token"] = refresh_token_;
  return v.toStyledString();
}

void OAuth2Tokens::set_expires_in(int seconds) {
  std::lock_guard lock(mutex_);
  expires_in_ = seconds;
}

void OAuth2Tokens::revoke_access_tokens() {
  std::lock_guard lock(mutex_);
  access_tokens_.clear();
}

int OAuth2Tokens::refreshes() const {
  std::lock_guard lock(mutex_);
  return refreshes_;
}

int OAuth2Tokens::refused_refreshes() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

std::string OAuth2Tokens::live_refresh_token() const {
  std::lock_guard lock(mutex_);
  return refresh_token_;
}

}  // namespace psahost::test
