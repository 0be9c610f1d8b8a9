#include "support/https_client.hpp"

#include <json/reader.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <memory>
#include <stdexcept>

namespace psahost::test {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The blocking calls are asynchronous operations run to completion on a private io_context,
// because Asio's synchronous calls have no timeout and a test must never hang on a server bug.
class Connection {
 public:
  Connection(uint16_t port, ssl::context& tls, std::chrono::milliseconds timeout)
      : port_(port), timeout_(timeout), stream_(ioc_, tls) {}

  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  beast::flat_buffer& buffer() { return buffer_; }
  net::io_context& ioc() { return ioc_; }
  uint16_t port() const { return port_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Runs the operations started on the stream until they complete or the deadline passes.
  // On timeout they are cancelled and run to their (aborted) completion; returns false.
  bool run_until(Clock::time_point deadline) {
    ioc_.restart();
    ioc_.run_until(deadline);
    if (ioc_.stopped()) return true;
    beast::get_lowest_layer(stream_).socket().cancel();
    ioc_.restart();
    ioc_.run();
    return false;
  }

  void connect() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).async_connect(
        tcp::endpoint(net::ip::address_v4::loopback(), port_),
        [&](beast::error_code e) { ec = e; });
    if (!run_until(Clock::now() + timeout_)) fail("connect", net::error::timed_out);
    if (ec) fail("connect", ec);
  }

  void handshake() {
    beast::error_code ec;
    stream_.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    if (!run_until(Clock::now() + timeout_)) fail("TLS handshake", net::error::timed_out);
    if (ec) {
      std::string why = ec.message();
      const long verify = SSL_get_verify_result(stream_.native_handle());
      if (verify != X509_V_OK)
        why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      throw std::runtime_error("TLS handshake with 127.0.0.1:" + std::to_string(port_) +
                               " failed: " + why);
    }
  }

  [[noreturn]] void fail(std::string_view step, const beast::error_code& ec) const {
    throw std::runtime_error(std::string(step) + " on https://127.0.0.1:" + std::to_string(port_) +
                             " failed: " + ec.message());
  }

 private:
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  net::io_context ioc_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

}  // namespace

Json::Value HttpResponse::json() const {
  Json::CharReaderBuilder builder;
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value value;
  std::string errors;
  if (!reader->parse(body.data(), body.data() + body.size(), &value, &errors)) {
    throw std::runtime_error("response body (status " + std::to_string(status) +
                             ") is not JSON: " + errors + ": " + body.substr(0, 200));
  }
  return value;
}

std::string HttpResponse::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

// Settings must be in place before the connection exists: SSL_new copies them from the
// context.
ssl::context client_context(const ClientOptions& options) {
  ssl::context tls(ssl::context::tls_client);
  SSL_CTX* ctx = tls.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, options.min_tls) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, options.max_tls) != 1) {
    throw std::runtime_error("invalid TLS version range for the test client");
  }
  if (options.verify_peer) {
    tls.set_verify_mode(ssl::verify_peer);
    if (options.ca_file.empty()) {
      tls.set_default_verify_paths();
    } else {
      tls.load_verify_file(options.ca_file);
    }
  } else {
    tls.set_verify_mode(ssl::verify_none);
  }
  return tls;
}

}  // namespace

struct HttpsClient::Impl {
  Impl(uint16_t port, const ClientOptions& options)
      : tls(client_context(options)), connection(port, tls, options.timeout) {
    if (options.verify_peer) {
      // The address we dial is what the certificate must name (its IP SAN).
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(connection.stream().native_handle()),
                                    "127.0.0.1");
    }
  }

  ssl::context tls;  // before the connection, which refers to it
  Connection connection;
};

HttpsClient::HttpsClient(uint16_t port, ClientOptions options)
    : impl_(std::make_unique<Impl>(port, options)) {
  impl_->connection.connect();
  impl_->connection.handshake();
}

HttpsClient::~HttpsClient() = default;

HttpResponse HttpsClient::request(const std::string& method, const std::string& target,
                                  const std::string& body,
                                  const std::map<std::string, std::string>& headers) {
  Connection& c = impl_->connection;
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(c.port()));
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    req.set(name, value);
    if (beast::iequals(name, "content-type")) has_content_type = true;
  }
  if (!body.empty() && !has_content_type) req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();  // the framing is always honest; use write_raw for lies

  const std::string what = method + " " + target;
  const auto deadline = Clock::now() + c.timeout();
  beast::error_code ec;
  bhttp::async_write(c.stream(), req, [&](beast::error_code e, std::size_t) { ec = e; });
  if (!c.run_until(deadline)) c.fail("writing " + what, net::error::timed_out);
  if (ec) c.fail("writing " + what, ec);

  for (;;) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    if (method == "HEAD") parser.skip(true);
    bhttp::async_read(c.stream(), c.buffer(), parser,
                      [&](beast::error_code e, std::size_t) { ec = e; });
    if (!c.run_until(deadline)) c.fail("reading the answer to " + what, net::error::timed_out);
    if (ec) c.fail("reading the answer to " + what, ec);
    auto& res = parser.get();
    const int status = static_cast<int>(res.result_int());
    if (status / 100 == 1 && status != 101) continue;  // interim (100 Continue): the final follows
    HttpResponse out;
    out.status = status;
    for (const auto& field : res) {
      auto [it, inserted] = out.headers.emplace(lower(field.name_string()), field.value());
      if (!inserted) (it->second += ", ") += field.value();
    }
    out.body = std::move(res.body());
    return out;
  }
}

HttpResponse HttpsClient::get(const std::string& target,
                              const std::map<std::string, std::string>& headers) {
  return request("GET", target, {}, headers);
}

HttpResponse HttpsClient::post(const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  return request("POST", target, body, headers);
}

void HttpsClient::write_raw(std::string_view bytes) {
  Connection& c = impl_->connection;
  beast::error_code ec;
  net::async_write(c.stream(), net::buffer(bytes.data(), bytes.size()),
                   [&](beast::error_code e, std::size_t) { ec = e; });
  if (!c.run_until(Clock::now() + c.timeout())) c.fail("raw write", net::error::timed_out);
  if (ec) c.fail("raw write", ec);
}

std::pair<std::string, bool> HttpsClient::read_until_closed(std::chrono::milliseconds timeout) {
  Connection& c = impl_->connection;
  // Bytes a previous response read pulled in ahead of time belong to this caller.
  std::string out = beast::buffers_to_string(c.buffer().data());
  c.buffer().consume(c.buffer().size());
  const auto deadline = Clock::now() + timeout;
  char chunk[4096];
  for (;;) {
    beast::error_code ec;
    std::size_t n = 0;
    c.stream().async_read_some(net::buffer(chunk), [&](beast::error_code e, std::size_t got) {
      ec = e;
      n = got;
    });
    const bool completed = c.run_until(deadline);
    out.append(chunk, n);
    if (!completed) return {out, false};
    // eof (close_notify), stream_truncated (FIN without it), reset: all mean the peer left.
    if (ec) return {out, true};
  }
}

std::string HttpsClient::negotiated_protocol() const {
  return SSL_get_version(impl_->connection.stream().native_handle());
}

uint16_t HttpsClient::local_port() const {
  return beast::get_lowest_layer(impl_->connection.stream()).socket().local_endpoint().port();
}

std::string try_handshake(uint16_t port, int tls_version) {
  ssl::context tls(ssl::context::tls_client);
  SSL_CTX* ctx = tls.native_handle();
  // Level 0 and the full cipher list so that OpenSSL really offers an old protocol instead of
  // refusing locally; the refusal under test must come from the server.
  SSL_CTX_set_security_level(ctx, 0);
  if (SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0") != 1 ||
      SSL_CTX_set_min_proto_version(ctx, tls_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, tls_version) != 1) {
    throw std::runtime_error("the test client cannot enable TLS version " +
                             std::to_string(tls_version));
  }
  tls.set_verify_mode(ssl::verify_none);
  Connection connection(port, tls, std::chrono::milliseconds(10'000));
  connection.connect();
  try {
    connection.handshake();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace psahost::test
