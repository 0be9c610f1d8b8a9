// Outbound HTTPS/1.1 for webhook deliveries and connector calls: verified TLS 1.2+, a keep-alive
// pool per origin, a deadline on every step, and limits that hold against hostile servers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address_policy.hpp"

namespace psahost {
class Logger;
}

namespace psahost::net {

struct ClientOptions {
  // A PEM bundle trusted in addition to the system store (psahost serve --outbound-ca FILE).
  std::filesystem::path extra_ca_file;
  bool use_system_ca = true;  // the OS trust store (Debian: /etc/ssl/certs)
  // Resolve + TCP connect + TLS handshake of a new connection; never beyond the request's own
  // deadline.
  std::chrono::milliseconds connect_timeout{5'000};
  // The default deadline of a whole exchange, from async_send to the last byte of the response,
  // connecting included. A request may set its own.
  std::chrono::milliseconds request_timeout{15'000};
  // A longer body is cut off here (truncated = true) and its connection is closed.
  std::size_t max_response_body = std::size_t{1} << 20;
  // Status line and header fields; a longer header is Failure::protocol.
  std::size_t max_response_header = std::size_t{64} * 1024;
  std::size_t max_idle_per_origin = 16;   // idle keep-alive connections kept; 0 = no reuse
  std::chrono::seconds idle_timeout{55};  // an idle pooled connection is closed after this
  unsigned threads = 1;                   // I/O threads of the client's own io_context
  std::string user_agent;                 // empty = "psahost/<version>"
  // Checked on every address a new connection would go to, after resolution, so a name that
  // resolves (or re-resolves) to a refused address gains nothing. Null = every address.
  std::shared_ptr<const AddressPolicy> address_policy;
};

struct Header {
  std::string name, value;
};

struct OutboundRequest {
  std::string method = "POST";
  // https://host[:port]/path?query. http://, userinfo and malformed URLs are refused; a fragment
  // is not sent.
  std::string url;
  // Host, User-Agent and Content-Length are added unless given. A given Content-Length must
  // match the body; Transfer-Encoding and Upgrade are refused (the client frames the body).
  std::vector<Header> headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0 = ClientOptions::request_timeout
};

// Why an exchange failed. Whether the server may still have seen the request is
// OutboundResponse::request_sent, whatever the kind (invalid_request, resolve and connect
// always leave it false; timeout, tls, closed and shutdown may come before or after sending).
enum class Failure {
  none,
  invalid_request,  // refused before anything was sent: URL, method, header, or misuse
  resolve,          // the host name did not resolve
  connect,          // no TCP connection to any resolved address (refused, unreachable)
  tls,              // the handshake (for a rejected certificate `error` has OpenSSL's reason)
                    // or a later TLS record failed
  timeout,          // a deadline passed: connect_timeout while connecting, else the request's
  protocol,         // the answer is not HTTP/1.x, or its header is over max_response_header
  closed,           // the server closed or reset the connection before the response was whole
  shutdown,         // the client was shut down first
};
std::string_view to_string(Failure failure);  // "timeout", for logs and metric labels

struct OutboundResponse {
  int status = 0;  // 0 when no HTTP response head was received
  // In arrival order, names lower-cased; 1xx interim responses are skipped.
  std::vector<Header> headers;
  std::string body;
  bool truncated = false;  // body cut off at max_response_body (status and headers are whole)
  Failure failure = Failure::none;
  std::string error;  // for people and logs: what failed, with the origin (never the path)
  // False when the server certainly never saw this request, so sending it again cannot create
  // anything twice. True once any part of it may have reached the server.
  bool request_sent = false;
  std::chrono::microseconds elapsed{0};
  bool reused_connection = false;  // the (last) attempt went on a pooled connection

  bool ok() const { return failure == Failure::none; }
  // The field's value; repeated fields joined with ", " (RFC 9110 5.3). nullopt when absent.
  std::optional<std::string> header(std::string_view lower_name) const;
};

// One client serves many callers: async_send may be called from any thread concurrently.
// Completion callbacks run on the client's I/O threads; keep them short and non-blocking, and
// never call send(), shutdown() or the destructor from them.
class HttpsClient {
 public:
  // Throws std::runtime_error naming extra_ca_file if it cannot be loaded.
  explicit HttpsClient(ClientOptions options, Logger* log = nullptr);
  ~HttpsClient();  // shutdown(); terminates if called on one of the client's own threads
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // done is called exactly once, on a client I/O thread; after shutdown() has returned, at once
  // on the calling thread with Failure::shutdown. Redirects are not followed.
  void async_send(OutboundRequest request, std::function<void(OutboundResponse)> done);

  // Blocks until the exchange is over. Called on a client I/O thread (inside a callback) it
  // would wait on itself: it then fails at once with Failure::invalid_request.
  OutboundResponse send(OutboundRequest request);

  // Closes every connection; requests in flight complete with Failure::shutdown, later ones too.
  // Joins the I/O threads. Idempotent; throws std::logic_error on a client I/O thread.
  void shutdown();

  struct Stats {
    uint64_t connections_opened = 0;  // TCP connections established
    uint64_t requests = 0;            // exchanges started (valid requests)
    uint64_t reused = 0;              // exchanges that went on a pooled connection
    uint64_t retried = 0;             // exchanges sent again on a fresh connection
  };
  Stats stats() const;

 private:
  struct Impl;  // keeps Beast and Asio out of this header: they cost ~30 s per includer
  std::unique_ptr<Impl> impl_;
};

// RFC 9110 Retry-After: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime), as a
// wait from now (0 for a date in the past); nullopt when absent or malformed.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

}  // namespace psahost::net
