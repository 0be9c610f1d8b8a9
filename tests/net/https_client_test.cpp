#include "net/https_client.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"
#include "support/process.hpp"
#include "support/tcp_sockets.hpp"
#include "support/wait.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using psahost::net::ClientOptions;
using psahost::net::Failure;
using psahost::net::HttpsClient;
using psahost::net::OutboundRequest;
using psahost::net::OutboundResponse;
using psahost::net::parse_retry_after;

using psahost::test::eventually;

namespace {

// --- a hostile little HTTPS server ---------------------------------------------------------

struct Received {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class TestServer;

// One accepted TLS connection, served by blocking calls on its own thread. Its socket is only
// shut down (never closed) until the server is destroyed, so that the server can always wake
// a blocked call through it.
class Peer {
 public:
  Peer(TestServer& server, tcp::socket socket, ssl::context& tls, int index)
      : index(index), server_(server), stream_(std::move(socket), tls) {}

  bool handshake() {
    beast::error_code ec;
    stream_.handshake(ssl::stream_base::server, ec);
    if (const char* name = SSL_get_servername(stream_.native_handle(), TLSEXT_NAMETYPE_host_name))
      sni = name;
    return !ec;
  }

  std::optional<Received> read_request();

  bool write(std::string_view bytes) {
    beast::error_code ec;
    asio::write(stream_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  void respond(int status, std::string_view body, std::string_view extra_headers = {}) {
    write("HTTP/1.1 " + std::to_string(status) +
          " Whatever\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
          std::string(extra_headers) + "\r\n" + std::string(body));
  }

  // close_notify without waiting for the client's, then FIN.
  void close() {
    beast::error_code ec;
    SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
    stream_.shutdown(ec);
    kill();
  }

  // Blocks until the client closes (or the server is destroyed).
  void wait_until_closed() {
    char buf[4096];
    beast::error_code ec;
    while (!ec) stream_.read_some(asio::buffer(buf), ec);
  }

  void kill() { ::shutdown(stream_.next_layer().native_handle(), SHUT_RDWR); }

  const int index;  // accept order, from 0
  std::string sni;

 private:
  TestServer& server_;
  ssl::stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
};

class TestServer {
 public:
  using Behaviour = std::function<void(Peer&)>;

  TestServer(const fs::path& cert, const fs::path& key, Behaviour behaviour,
             const std::string& address = "127.0.0.1")
      : behaviour_(std::move(behaviour)),
        tls_(ssl::context::tls_server),
        acceptor_(ioc_, tcp::endpoint(asio::ip::make_address(address), 0)) {
    psahost::http::configure_server_context(tls_.native_handle(), cert, key);
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocked accept
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (auto& peer : peers_) peer->kill();
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const {
    return "https://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int accepted() const { return accepted_; }
  int finished() const { return finished_; }
  std::size_t requests() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::string sni(int index) const {
    std::lock_guard lock(mutex_);
    return peers_.at(static_cast<std::size_t>(index))->sni;
  }

  void record(Received r) {
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(r));
  }

 private:
  void accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      std::lock_guard lock(mutex_);
      auto& peer =
          peers_.emplace_back(std::make_unique<Peer>(*this, std::move(socket), tls_, accepted_++));
      threads_.emplace_back([this, p = peer.get()] {
        try {
          if (p->handshake()) behaviour_(*p);
        } catch (...) {
        }
        ++finished_;
      });
    }
  }

  Behaviour behaviour_;
  asio::io_context ioc_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0}, finished_{0};
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<std::thread> threads_;
  std::vector<Received> received_;
  std::thread accept_thread_;
};

std::optional<Received> Peer::read_request() {
  bhttp::request<bhttp::string_body> request;
  beast::error_code ec;
  bhttp::read(stream_, buffer_, request, ec);
  if (ec) return std::nullopt;
  Received r;
  r.method = std::string(request.method_string());
  r.target = std::string(request.target());
  r.body = request.body();
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(field.value());
  }
  server_.record(r);
  return r;
}

// Answers every request with its own body, and its method in X-Method.
void echo(Peer& peer) {
  while (auto request = peer.read_request()) {
    peer.respond(200, request->body, "X-Method: " + request->method + "\r\n");
  }
}

// --- fixtures -------------------------------------------------------------------------------

// The project's self-signed certificate (localhost, 127.0.0.1, ::1), trusted by the client
// through extra_ca_file.
struct Tls {
  Tls() { REQUIRE(psahost::http::ensure_self_signed_certificate(cert, key)); }
  ClientOptions trusting() const {
    ClientOptions options;
    options.extra_ca_file = cert;
    return options;
  }
  psahost::test::TempDir dir;
  fs::path cert = dir.path() / "cert.pem";
  fs::path key = dir.path() / "key.pem";
};

// A self-signed certificate for partner.example only.
void write_partner_certificate(const fs::path& cert_file, const fs::path& key_file) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key);
  X509* cert = X509_new();
  REQUIRE(cert);
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("partner.example"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_subject_alt_name, "DNS:partner.example"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, const_cast<char*>(value));
    REQUIRE(ext);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  std::FILE* f = std::fopen(cert_file.c_str(), "w");
  REQUIRE(f);
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_file.c_str(), "w");
  REQUIRE(f);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

OutboundRequest post(std::string url, std::string body = "{}") {
  OutboundRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers.push_back({"Content-Type", "application/json"});
  return r;
}

OutboundRequest get(std::string url) {
  OutboundRequest r;
  r.method = "GET";
  r.url = std::move(url);
  return r;
}

}  // namespace

// --- the exchange ---------------------------------------------------------------------------

TEST_CASE("a POST arrives with its body and headers intact and the response comes back") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    if (auto request = peer.read_request()) {
      peer.respond(201, R"({"id":"42"})", "X-Reply: yes\r\nX-Reply: again\r\n");
    }
  });
  HttpsClient client(tls.trusting());

  OutboundRequest request = post(server.url("/hooks/a?x=1&y=%20z#fragment"), R"({"n":1})");
  request.headers.push_back({"webhook-id", "msg_1"});
  const OutboundResponse response = client.send(request);

  REQUIRE(response.ok());
  CHECK(response.status == 201);
  CHECK(response.body == R"({"id":"42"})");
  CHECK(response.header("x-reply") == "yes, again");
  CHECK(response.header("content-length") == "11");
  CHECK_FALSE(response.header("absent"));
  CHECK(response.request_sent);
  CHECK_FALSE(response.truncated);
  CHECK_FALSE(response.reused_connection);

  const auto received = server.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].method == "POST");
  CHECK(received[0].target == "/hooks/a?x=1&y=%20z");
  CHECK(received[0].body == R"({"n":1})");
  CHECK(received[0].headers.at("host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(received[0].headers.at("content-length") == "7");
  CHECK(received[0].headers.at("content-type") == "application/json");
  CHECK(received[0].headers.at("webhook-id") == "msg_1");
  CHECK(received[0].headers.at("user-agent").rfind("psahost/", 0) == 0);
}

TEST_CASE("psahost's own HTTPS server is reached over one keep-alive connection") {
  Tls tls;
  psahost::Logger log(psahost::LogLevel::error);
  psahost::Metrics metrics;
  psahost::http::Router router;
  router.add_sync("POST", "/v1/echo", [](const psahost::http::Request& request, const auto&) {
    return psahost::http::Response::text(200, request.body);
  });
  psahost::http::ServerOptions options;
  options.port = 0;
  options.threads = 1;
  options.cert_file = tls.cert;
  options.key_file = tls.key;
  psahost::http::Server server(options, router, log, metrics);
  server.start();
  HttpsClient client(tls.trusting());

  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/v1/echo";
  for (int i = 0; i < 3; ++i) {
    const auto response = client.send(post(url, "ping " + std::to_string(i)));
    REQUIRE(response.ok());
    CHECK(response.status == 200);
    CHECK(response.body == "ping " + std::to_string(i));
  }
  CHECK(client.stats().connections_opened == 1);
  CHECK(client.stats().reused == 2);
}

TEST_CASE("sequential requests to one origin go over one connection") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  HttpsClient client(tls.trusting());

  for (int i = 0; i < 5; ++i) {
    const auto response = client.send(post(server.url("/n"), std::to_string(i)));
    REQUIRE(response.ok());
    CHECK(response.body == std::to_string(i));
    CHECK(response.reused_connection == (i > 0));
  }
  CHECK(server.accepted() == 1);
  CHECK(client.stats().connections_opened == 1);
  CHECK(client.stats().requests == 5);
  CHECK(client.stats().reused == 4);
}

TEST_CASE("concurrent requests from several threads each get their own answer") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  ClientOptions options = tls.trusting();
  options.threads = 2;
  HttpsClient client(options);

  constexpr int kThreads = 4, kEach = 5;
  std::vector<std::promise<OutboundResponse>> results(kThreads * kEach);
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int n = t * kEach + i;
        client.async_send(
            post(server.url(), "request " + std::to_string(n)),
            [&results, n](OutboundResponse r) { results[n].set_value(std::move(r)); });
      }
    });
  }
  for (auto& s : senders) s.join();
  for (int n = 0; n < kThreads * kEach; ++n) {
    const auto response = results[n].get_future().get();
    REQUIRE(response.ok());
    CHECK(response.body == "request " + std::to_string(n));
  }
  CHECK(server.requests() == kThreads * kEach);
  CHECK(client.stats().requests == kThreads * kEach);
  CHECK(client.stats().connections_opened == static_cast<uint64_t>(server.accepted()));
}

TEST_CASE("a HEAD response has no body and leaves its connection usable") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    while (auto request = peer.read_request()) {
      if (request->method == "HEAD") {
        peer.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      } else {
        peer.respond(200, "after head");
      }
    }
  });
  HttpsClient client(tls.trusting());
  OutboundRequest head = get(server.url());
  head.method = "HEAD";

  const auto first = client.send(head);
  REQUIRE(first.ok());
  CHECK(first.header("content-length") == "1000");
  CHECK(first.body.empty());
  const auto second = client.send(get(server.url()));
  REQUIRE(second.ok());
  CHECK(second.body == "after head");
  CHECK(server.accepted() == 1);
}

// --- TLS ------------------------------------------------------------------------------------

TEST_CASE("a certificate no trusted CA vouches for fails with Failure::tls and nothing is sent") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  HttpsClient client(ClientOptions{});  // the system store only

  const auto response = client.send(post(server.url()));
  CHECK(response.failure == Failure::tls);
  CHECK_THAT(response.error, Catch::Contains("certificate verify failed: self-signed certificate"));
  CHECK(response.status == 0);
  CHECK_FALSE(response.request_sent);
  CHECK(server.requests() == 0);
}

TEST_CASE("a certificate for another name or IP address fails with Failure::tls") {
  psahost::test::TempDir dir;
  const auto cert = dir.path() / "partner.pem", key = dir.path() / "partner.key";
  write_partner_certificate(cert, key);
  TestServer server(cert, key, echo);
  ClientOptions options;
  options.extra_ca_file = cert;  // trusted, but for partner.example only
  HttpsClient client(options);

  const auto by_ip = client.send(post(server.url()));
  CHECK(by_ip.failure == Failure::tls);
  CHECK_THAT(by_ip.error, Catch::Contains("IP address mismatch"));

  const auto by_name =
      client.send(post("https://localhost:" + std::to_string(server.port()) + "/"));
  CHECK(by_name.failure == Failure::tls);
  CHECK_THAT(by_name.error, Catch::Contains("hostname mismatch"));
  CHECK(server.requests() == 0);
}

TEST_CASE("a host name is verified and sent as SNI, an IP address is verified without SNI") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  ClientOptions options = tls.trusting();
  options.max_idle_per_origin = 0;
  HttpsClient client(options);

  const auto by_name =
      client.send(post("https://localhost:" + std::to_string(server.port()) + "/"));
  REQUIRE(by_name.ok());
  const auto by_ip = client.send(post(server.url()));
  REQUIRE(by_ip.ok());

  REQUIRE(server.accepted() == 2);
  CHECK(server.sni(0) == "localhost");
  CHECK(server.sni(1).empty());
}

TEST_CASE("an extra CA file that cannot be loaded is named in the error") {
  psahost::test::TempDir dir;
  ClientOptions options;
  options.extra_ca_file = dir.path() / "missing.pem";
  CHECK_THROWS_WITH(HttpsClient(options), Catch::Contains(options.extra_ca_file.string()));

  options.extra_ca_file = dir.path() / "garbage.pem";
  std::ofstream(options.extra_ca_file) << "not a certificate\n";
  CHECK_THROWS_WITH(HttpsClient(options), Catch::Contains(options.extra_ca_file.string()));
}

// --- refused before sending -----------------------------------------------------------------

TEST_CASE("http://, user information and malformed URLs are refused before connecting") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  HttpsClient client(tls.trusting());
  const std::string port = std::to_string(server.port());

  for (const std::string& url :
       {"http://127.0.0.1:" + port + "/", "https://user:pw@127.0.0.1:" + port + "/",
        std::string("https://"), std::string("not a url"), "https://127.0.0.1:" + port + " /x",
        std::string("https://127.0.0.1:99999/"), std::string("https://exa%2fmple.com/"),
        std::string("ftp://127.0.0.1/")}) {
    INFO(url);
    const auto response = client.send(post(url));
    CHECK(response.failure == Failure::invalid_request);
    CHECK_FALSE(response.request_sent);
  }
  CHECK(server.accepted() == 0);
}

TEST_CASE("CR, LF or NUL in a header, a bad header name or method is refused before connecting") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  HttpsClient client(tls.trusting());

  std::vector<OutboundRequest> refused;
  auto with_header = [&](std::string name, std::string value) {
    OutboundRequest r = post(server.url());
    r.headers.push_back({std::move(name), std::move(value)});
    refused.push_back(std::move(r));
  };
  with_header("X-Test", "a\r\nX-Injected: 1");
  with_header("X-Test", "a\nb");
  with_header("X-Test", std::string("a\0b", 3));
  with_header("X Test", "a");
  with_header("X-Test:", "a");
  with_header("", "a");
  with_header("Content-Length", "99");
  with_header("Transfer-Encoding", "chunked");
  OutboundRequest bad_method = post(server.url());
  bad_method.method = "PO ST";
  refused.push_back(bad_method);
  bad_method.method = "GET /x HTTP/1.1\r\n";
  refused.push_back(bad_method);

  for (auto& request : refused) {
    const auto response = client.send(request);
    CHECK(response.failure == Failure::invalid_request);
    CHECK_THAT(response.error, !Catch::Contains("X-Injected"));
  }
  CHECK(server.accepted() == 0);
}

// --- timeouts -------------------------------------------------------------------------------

TEST_CASE("a server that accepts the request and never answers times out") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    peer.read_request();
    peer.wait_until_closed();
  });
  HttpsClient client(tls.trusting());
  OutboundRequest request = post(server.url());
  request.timeout = 300ms;

  const auto response = client.send(request);
  CHECK(response.failure == Failure::timeout);
  CHECK(response.request_sent);
  CHECK(response.status == 0);
}

TEST_CASE("a server that never completes the TLS handshake times out while connecting") {
  asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));  // never accepts
  ClientOptions options;
  options.connect_timeout = 300ms;
  HttpsClient client(options);

  const auto response = client.send(
      post("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/"));
  CHECK(response.failure == Failure::timeout);
  CHECK_FALSE(response.request_sent);
}

// --- hostile answers ------------------------------------------------------------------------

TEST_CASE("a 10 MB response body is cut off at the limit and its connection is not reused") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    if (peer.index > 0) return echo(peer);
    if (!peer.read_request()) return;
    constexpr std::size_t kSize = std::size_t{10} << 20;
    if (!peer.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kSize) + "\r\n\r\n"))
      return;
    const std::string chunk(std::size_t{64} << 10, 'x');
    for (std::size_t sent = 0; sent < kSize && peer.write(chunk);) sent += chunk.size();
  });
  HttpsClient client(tls.trusting());

  const auto response = client.send(get(server.url()));
  REQUIRE(response.ok());
  CHECK(response.status == 200);
  CHECK(response.truncated);
  CHECK(response.body.size() == ClientOptions{}.max_response_body);
  CHECK(response.body.find_first_not_of('x') == std::string::npos);

  const auto next = client.send(get(server.url()));
  REQUIRE(next.ok());
  CHECK_FALSE(next.reused_connection);
  CHECK(server.accepted() == 2);
}

TEST_CASE("a response header over the limit is Failure::protocol") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    if (!peer.read_request()) return;
    peer.write("HTTP/1.1 200 OK\r\nX-Big: " + std::string(100'000, 'a') +
               "\r\nContent-Length: 0\r\n\r\n");
    peer.wait_until_closed();
  });
  HttpsClient client(tls.trusting());

  const auto response = client.send(get(server.url()));
  CHECK(response.failure == Failure::protocol);
  CHECK_THAT(response.error, Catch::Contains("header"));
}

TEST_CASE("garbage instead of HTTP is Failure::protocol") {
  Tls tls;
  const auto reply = GENERATE(as<std::string>{}, "SSH-2.0-OpenSSH_9.2\r\n", "hello there\r\n\r\n",
                              "HTTP/1.1 abc Nope\r\n\r\n");
  TestServer server(tls.cert, tls.key, [&](Peer& peer) {
    if (!peer.read_request()) return;
    peer.write(reply);
    peer.close();
  });
  HttpsClient client(tls.trusting());

  INFO(reply);
  const auto response = client.send(get(server.url()));
  CHECK(response.failure == Failure::protocol);
}

TEST_CASE("a redirect is returned as it is, not followed") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [&](Peer& peer) {
    while (peer.read_request()) {
      peer.respond(302, "", "Location: /elsewhere\r\n");
    }
  });
  HttpsClient client(tls.trusting());

  const auto response = client.send(post(server.url("/start")));
  REQUIRE(response.ok());
  CHECK(response.status == 302);
  CHECK(response.header("location") == "/elsewhere");
  CHECK(server.requests() == 1);
}

TEST_CASE("a chunked response body is put back together and the connection reused") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    while (peer.read_request()) {
      peer.write(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n");
    }
  });
  HttpsClient client(tls.trusting());

  for (int i = 0; i < 2; ++i) {
    const auto response = client.send(get(server.url()));
    REQUIRE(response.ok());
    CHECK(response.body == "hello, world");
  }
  CHECK(server.accepted() == 1);
}

TEST_CASE("interim 1xx responses are skipped for the final one") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    if (!peer.read_request()) return;
    peer.write(
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    peer.wait_until_closed();
  });
  HttpsClient client(tls.trusting());

  const auto response = client.send(post(server.url()));
  REQUIRE(response.ok());
  CHECK(response.status == 200);
  CHECK(response.body == "ok");
  CHECK_FALSE(response.header("link"));
}

// --- connection reuse when the server closes ------------------------------------------------

TEST_CASE("a pooled connection the server has closed is noticed before the next request") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    if (peer.index > 0) return echo(peer);
    if (auto request = peer.read_request()) peer.respond(200, "first");
    peer.close();  // idle now, as servers' keep-alive timeouts do
  });
  HttpsClient client(tls.trusting());

  REQUIRE(client.send(post(server.url())).ok());
  REQUIRE(eventually([&] { return server.finished() == 1; }));
  // The server's FIN has reached the client's socket: the pool can see the connection is gone.
  REQUIRE(eventually([&] {
    return psahost::test::loopback_socket_to_in(server.port(), psahost::test::kTcpCloseWait);
  }));

  const auto response = client.send(post(server.url(), "second"));
  REQUIRE(response.ok());
  CHECK(response.body == "second");
  CHECK_FALSE(response.reused_connection);
  CHECK(client.stats().retried == 0);
  CHECK(server.accepted() == 2);
  CHECK(server.requests() == 2);
}

// The server reads the second request on the first connection and drops it unanswered, as a
// server closing an idle connection at the moment the request arrives does.
void drop_second_request(Peer& peer) {
  if (peer.index > 0) return echo(peer);
  if (peer.read_request()) peer.respond(200, "first");
  if (peer.read_request()) peer.close();
}

TEST_CASE("a GET whose pooled connection is dropped unanswered is sent once more on a new one") {
  Tls tls;
  TestServer server(tls.cert, tls.key, drop_second_request);
  HttpsClient client(tls.trusting());

  REQUIRE(client.send(get(server.url())).ok());
  const auto response = client.send(get(server.url()));
  REQUIRE(response.ok());
  CHECK(response.status == 200);
  CHECK_FALSE(response.reused_connection);
  CHECK(client.stats().retried == 1);
  CHECK(server.accepted() == 2);
  CHECK(server.requests() == 3);
}

TEST_CASE("a POST whose pooled connection is dropped unanswered is not sent again") {
  Tls tls;
  TestServer server(tls.cert, tls.key, drop_second_request);
  HttpsClient client(tls.trusting());

  REQUIRE(client.send(post(server.url())).ok());
  const auto response = client.send(post(server.url(), "once only"));
  CHECK(response.failure == Failure::closed);
  CHECK(response.request_sent);
  CHECK(response.reused_connection);
  CHECK(client.stats().retried == 0);
  CHECK(server.accepted() == 1);
  CHECK(server.requests() == 2);
}

TEST_CASE("Connection: close from the server takes the connection out of the pool") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    if (peer.read_request()) peer.respond(200, "bye", "Connection: close\r\n");
    peer.close();
  });
  HttpsClient client(tls.trusting());

  REQUIRE(client.send(post(server.url())).ok());
  const auto second = client.send(post(server.url()));
  REQUIRE(second.ok());
  CHECK_FALSE(second.reused_connection);
  CHECK(server.accepted() == 2);
}

TEST_CASE("with max_idle_per_origin 0 every request opens its own connection") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  ClientOptions options = tls.trusting();
  options.max_idle_per_origin = 0;
  HttpsClient client(options);

  for (int i = 0; i < 3; ++i) REQUIRE(client.send(post(server.url())).ok());
  CHECK(server.accepted() == 3);
  CHECK(client.stats().reused == 0);
}

TEST_CASE("an idle pooled connection is closed after idle_timeout") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  ClientOptions options = tls.trusting();
  options.idle_timeout = 1s;
  HttpsClient client(options);

  REQUIRE(client.send(post(server.url())).ok());
  // echo returns once the client has closed the connection.
  REQUIRE(eventually([&] { return server.finished() == 1; }));
  const auto next = client.send(post(server.url()));
  REQUIRE(next.ok());
  CHECK_FALSE(next.reused_connection);
  CHECK(server.accepted() == 2);
}

TEST_CASE("a refused connection is Failure::connect") {
  asio::io_context ioc;
  tcp::acceptor bound(ioc);  // bound, so no one else takes the port, but not listening
  bound.open(tcp::v4());
  bound.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  HttpsClient client(ClientOptions{});

  const auto response =
      client.send(post("https://127.0.0.1:" + std::to_string(bound.local_endpoint().port()) + "/"));
  CHECK(response.failure == Failure::connect);
  CHECK_FALSE(response.request_sent);
  CHECK_THAT(response.error, Catch::Contains("127.0.0.1"));
}

// --- threads and shutdown -------------------------------------------------------------------

TEST_CASE("shutdown completes requests in flight with Failure::shutdown") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    peer.read_request();
    peer.wait_until_closed();
  });
  HttpsClient client(tls.trusting());

  std::mutex mutex;
  std::vector<OutboundResponse> done;
  for (int i = 0; i < 3; ++i) {
    client.async_send(post(server.url()), [&](OutboundResponse r) {
      std::lock_guard lock(mutex);
      done.push_back(std::move(r));
    });
  }
  REQUIRE(eventually([&] { return server.requests() == 3; }));
  client.shutdown();

  std::lock_guard lock(mutex);
  REQUIRE(done.size() == 3);
  for (const auto& r : done) CHECK(r.failure == Failure::shutdown);

  // Later requests complete at once, on the caller's thread; shutdown is idempotent.
  const auto late = client.send(post(server.url()));
  CHECK(late.failure == Failure::shutdown);
  client.shutdown();
}

TEST_CASE("send on one of the client's own threads fails instead of waiting on itself") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  HttpsClient client(tls.trusting());

  std::promise<OutboundResponse> inner;
  client.async_send(post(server.url()),
                    [&](OutboundResponse) { inner.set_value(client.send(post(server.url()))); });
  const auto response = inner.get_future().get();
  CHECK(response.failure == Failure::invalid_request);
  CHECK_THAT(response.error, Catch::Contains("async_send"));
}

TEST_CASE("a completion callback that throws does not stop the client") {
  Tls tls;
  TestServer server(tls.cert, tls.key, echo);
  HttpsClient client(tls.trusting());

  std::promise<void> called;
  client.async_send(post(server.url()), [&](OutboundResponse) {
    called.set_value();
    throw std::runtime_error("caller bug");
  });
  called.get_future().get();
  CHECK(client.send(post(server.url())).ok());
}

// --- Retry-After ----------------------------------------------------------------------------

TEST_CASE("Retry-After in delta-seconds is a wait in seconds") {
  const auto now = std::chrono::system_clock::now();
  CHECK(parse_retry_after("120", now) == std::chrono::seconds(120));
  CHECK(parse_retry_after(" 0 ", now) == std::chrono::seconds(0));
  CHECK(parse_retry_after("99999999999999999999", now) == std::chrono::seconds(int64_t{1} << 31));
}

TEST_CASE("Retry-After as an HTTP-date is the wait until that date, in any of the three forms") {
  // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 seconds after the epoch.
  const std::chrono::system_clock::time_point date{std::chrono::seconds(1445412480)};
  const auto now = date - std::chrono::seconds(90);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == std::chrono::seconds(90));
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now) == std::chrono::seconds(90));
  CHECK(parse_retry_after("Wed Oct 21 07:28:00 2015", now) == std::chrono::seconds(90));
  CHECK(parse_retry_after("Wed Oct  1 07:28:00 2015", now) == std::chrono::seconds(0));  // past
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now + std::chrono::milliseconds(500)) ==
        std::chrono::seconds(90));  // rounded up, never early
}

TEST_CASE("Retry-After that is neither a number nor an HTTP-date is ignored") {
  const auto now = std::chrono::system_clock::now();
  for (const char* value : {"", "  ", "soon", "-5", "1.5", "12s", "Wed, 32 Oct 2015 07:28:00 GMT",
                            "Wed, 21 Oct 2015 07:28:00 UTC", "Wed, 21 Oct 2015 25:28:00 GMT",
                            "21 Oct 2015 07:28:00", "Wed, 21 Oct 2015 07:28:00 GMT trailing"}) {
    INFO(value);
    CHECK_FALSE(parse_retry_after(value, now));
  }
}

TEST_CASE("an address policy refuses loopback after resolution, however the URL spells it") {
  Tls tls;
  TestServer server(tls.cert, tls.key, [](Peer& peer) {
    if (peer.read_request()) peer.respond(200, "internal secret");
  });
  const std::string port = std::to_string(server.port());
  ClientOptions options = tls.trusting();
  options.address_policy = std::make_shared<psahost::net::AddressPolicy>();
  HttpsClient client(options);
  for (const std::string host : {"127.0.0.1", "localhost", "127.1", "[::1]"}) {
    INFO(host);
    const auto response = client.send(post("https://" + host + ":" + port + "/x", "{}"));
    CHECK(response.failure == Failure::connect);
    CHECK_FALSE(response.request_sent);
    CHECK(response.body.empty());
    CHECK(response.error.find("--allow-outbound-network") != std::string::npos);
  }
  CHECK(server.accepted() == 0);

  // The operator allows the loopback range: the same request goes through.
  options.address_policy = std::make_shared<psahost::net::AddressPolicy>(
      psahost::net::AddressPolicy::parse_allowed("127.0.0.0/8,::1/128"));
  HttpsClient allowed(options);
  const auto response = allowed.send(post("https://127.0.0.1:" + port + "/x", "{}"));
  CHECK(response.ok());
  CHECK(response.status == 200);
}
