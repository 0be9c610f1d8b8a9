// A small blocking HTTPS client for the integration tests: one keep-alive connection to the
// host on 127.0.0.1, plus raw byte access and a bare handshake probe for protocol tests.
#pragma once

#include <json/value.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace psahost::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeated fields joined by ", "
  std::string body;

  Json::Value json() const;  // parses body, throws std::runtime_error on bad JSON
  std::string header(const std::string& lower) const;  // "" when absent
};

struct ClientOptions {
  int min_tls = TLS1_2_VERSION;
  int max_tls = 0;                            // 0 = library max
  std::chrono::milliseconds timeout{10'000};  // per connect, handshake, request and response
  bool verify_peer = false;
  std::string ca_file;  // trusted for verify_peer; empty = the system's trust store
};

// One keep-alive HTTPS connection to 127.0.0.1:port. Throws std::runtime_error (with
// OpenSSL's error text) on connect/handshake/IO failure.
class HttpsClient {
 public:
  HttpsClient(uint16_t port, ClientOptions options = {});
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Sets Host, Content-Length and (when a body is given and the caller set none)
  // Content-Type: application/json.
  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {});
  HttpResponse get(const std::string& target,
                   const std::map<std::string, std::string>& headers = {});
  HttpResponse post(const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers = {});

  // Raw access for protocol tests: write bytes as-is on the TLS stream.
  void write_raw(std::string_view bytes);
  // Reads until the peer closes or `timeout` passes; returns {bytes, closed_by_peer}. After a
  // timeout the connection is still usable.
  std::pair<std::string, bool> read_until_closed(std::chrono::milliseconds timeout);

  std::string negotiated_protocol() const;  // "TLSv1.3"
  uint16_t local_port() const;              // this end of the connection

 private:
  struct Impl;  // keeps Beast out of the tests that include this
  std::unique_ptr<Impl> impl_;
};

// Attempts a TLS handshake with only the given protocol version enabled (security level 0 so
// the client really offers it); returns "" on success or the error text (e.g. containing
// "protocol version").
std::string try_handshake(uint16_t port, int tls_version);

}  // namespace psahost::test
