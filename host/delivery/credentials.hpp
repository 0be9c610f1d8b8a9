// The credentials a connection signs its requests with, attached by the host so the connector
// never sees them: OAuth2 (refresh token or client credentials, tokens cached until shortly
// before they expire and a rotated refresh token stored sealed at once), HTTP Basic, a bearer
// token, or fixed headers (Autotask's ApiIntegrationCode, UserName, Secret).
#pragma once

#include "net/https_client.hpp"
#include "webhooks/connections.hpp"

#include <json/value.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace psahost {
class Logger;
}

namespace psahost::delivery {

// What is wrong with a credentials document ("" when it is usable). Formats:
//   {"type":"oauth2","token_url":"https://...","client_id","client_secret",
//    "refresh_token"?, "scope"?}         refresh_token grant if one is given, else
//    client_credentials
//   {"type":"basic","username","password","headers"?:{...}}
//   {"type":"bearer","token","headers"?:{...}}
//   {"type":"headers","headers":{"Name":"value",...}}
std::string check_credentials(const Json::Value& credentials);

class ConnectionAuth {
 public:
  ConnectionAuth(webhooks::Connections& connections, net::HttpsClient& client, Logger& log)
      : connections_(connections), client_(client), log_(log) {}

  // The headers that authenticate a request to the connection's system; empty when it has no
  // credentials. May block (an OAuth2 token request); never call it on a client I/O thread.
  // Throws std::runtime_error (without any secret in the message) when a token cannot be had.
  std::vector<net::Header> headers(const webhooks::Connection& connection);

  // The system refused our credentials (401): the cached token is dropped, the next request
  // gets a new one.
  void invalidate(const std::string& connection_id);

 private:
  struct Token {
    std::string access_token;
    std::chrono::steady_clock::time_point expires;
  };
  std::string oauth2_token(const webhooks::Connection& connection, const Json::Value& credentials);

  webhooks::Connections& connections_;
  net::HttpsClient& client_;
  Logger& log_;
  // One refresh at a time: a refresh token is good for one use, two at once would lose it.
  std::mutex mutex_;
  std::map<std::string, Token> tokens_;
};

}  // namespace psahost::delivery
