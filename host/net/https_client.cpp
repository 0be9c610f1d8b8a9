#include "net/https_client.hpp"

#include "core/log.hpp"
#include "http/tls.hpp"
#include "net/prepared_request.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

namespace psahost::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using http::openssl_errors;

// Every connection runs on its own strand of the client's io_context: with several I/O threads,
// a connection's handlers still never run concurrently, and an exchange needs no lock.
using Strand = asio::strand<asio::io_context::executor_type>;
using TcpStream = beast::basic_stream<tcp, Strand>;
using TlsStream = ssl::stream<TcpStream>;
using Resolver = asio::ip::basic_resolver<tcp, Strand>;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Strand>;

// The client whose I/O thread this is, so that send() and shutdown() can refuse to wait on
// themselves.
class ClientCore;
thread_local const ClientCore* t_client = nullptr;

std::string millis(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

bool is_safe_method(std::string_view method) {
  // RFC 9110 9.2.1: read-only by definition, so sending one twice cannot create anything twice.
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

bool starts_like_http(beast::flat_buffer::const_buffers_type data) {
  constexpr std::string_view kPrefix = "HTTP/";
  const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
  const std::size_t n = std::min(bytes.size(), kPrefix.size());
  return bytes.substr(0, n) == kPrefix.substr(0, n);
}

ssl::context make_tls_context(const ClientOptions& options) {
  ssl::context tls(ssl::context::tls_client);
  SSL_CTX* ctx = tls.native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot set the minimum TLS version: " + openssl_errors());
  }
  // Kept refused even if a system-wide openssl.cnf lowers MinProtocol.
  SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                               SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (options.use_system_ca && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    throw std::runtime_error("cannot load the system's trusted certificates: " + openssl_errors());
  }
  if (!options.extra_ca_file.empty() &&
      SSL_CTX_load_verify_locations(ctx, options.extra_ca_file.c_str(), nullptr) != 1) {
    throw std::runtime_error("cannot load the outbound CA file " + options.extra_ca_file.string() +
                             ": " + openssl_errors());
  }
  return tls;
}

// Parses a response straight into the OutboundResponse. Beast's basic_parser does the HTTP work
// (framing, chunking, header limit, keep-alive); this keeps the first max_body bytes of the body
// and then stops the read, where Beast's own body limit would refuse the whole body.
class ResponseParser final : public bhttp::basic_parser<false> {
 public:
  ResponseParser(OutboundResponse& out, std::size_t max_body) : out_(out), max_body_(max_body) {}

  bool truncated() const { return truncated_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}

  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    out_.status = code;
  }

  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    std::string key(name.data(), name.size());
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out_.headers.push_back({std::move(key), std::string(value.data(), value.size())});
  }

  void on_header_impl(beast::error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length)
      out_.body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*length, max_body_)));
  }

  std::size_t on_body_impl(beast::string_view body, beast::error_code& ec) override {
    return append(body, ec);
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code& ec) override {
    return append(body, ec);
  }

  void on_finish_impl(beast::error_code&) override {}

  std::size_t append(beast::string_view body, beast::error_code& ec) {
    const std::size_t room = max_body_ - out_.body.size();
    if (body.size() <= room) {
      out_.body.append(body.data(), body.size());
      return body.size();
    }
    out_.body.append(body.data(), room);
    truncated_ = true;
    ec = bhttp::error::body_limit;
    return room;
  }

  OutboundResponse& out_;
  const std::size_t max_body_;
  bool truncated_ = false;
};

// One TLS connection to one origin. Owned by the exchange using it, or by the pool while idle;
// in the pool it has no operation outstanding.
struct Connection {
  Connection(const Strand& strand, ssl::context& tls, std::string origin)
      : stream(strand, tls), origin(std::move(origin)) {}

  Strand strand() { return stream.get_executor(); }
  TcpStream& transport() { return stream.next_layer(); }

  // Whether the server has neither closed this idle connection nor sent anything on it since.
  // A peek at the socket rather than a read kept pending while idle: cancelling a TLS read
  // midway is not safe, and any byte an idle HTTP/1.1 connection receives (close_notify, an
  // unsolicited 408) means it is going away.
  bool looks_alive() {
    if (buffer.size() != 0) return false;
    char byte;
    const ssize_t n =
        ::recv(transport().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  TlsStream stream;
  beast::flat_buffer buffer;
  const std::string origin;
  Clock::time_point idle_since{};
};

// Idle keep-alive connections by origin, newest last: a request takes the newest, so the
// oldest ones age out.
class Pool {
 public:
  Pool(std::size_t max_per_origin, Clock::duration idle_timeout)
      : max_per_origin_(max_per_origin), idle_timeout_(idle_timeout) {}

  std::unique_ptr<Connection> take(const std::string& origin) {
    std::vector<std::unique_ptr<Connection>> dead;  // closed outside the lock
    std::unique_ptr<Connection> found;
    {
      std::lock_guard lock(mutex_);
      const auto it = idle_.find(origin);
      if (it == idle_.end()) return nullptr;
      auto& list = it->second;
      const auto now = Clock::now();
      while (!list.empty() && !found) {
        auto conn = std::move(list.back());
        list.pop_back();
        if (now - conn->idle_since < idle_timeout_ && conn->looks_alive()) {
          found = std::move(conn);
        } else {
          dead.push_back(std::move(conn));
        }
      }
      if (list.empty()) idle_.erase(it);
    }
    return found;
  }

  // Keeps conn for reuse unless the pool is closed or its origin's idle list is full (then the
  // oldest goes). Returns true when the sweep timer must be armed for it.
  bool put(std::unique_ptr<Connection> conn) {
    std::unique_ptr<Connection> evicted;
    std::lock_guard lock(mutex_);
    if (closed_ || max_per_origin_ == 0) return false;  // conn closes on return, outside no lock
    auto& list = idle_[conn->origin];
    if (list.size() >= max_per_origin_) {
      evicted = std::move(list.front());
      list.pop_front();
    }
    conn->idle_since = Clock::now();
    list.push_back(std::move(conn));
    if (sweep_armed_) return false;
    sweep_armed_ = true;
    return true;
  }

  // Closes the connections idle for idle_timeout; returns when the next one will be due, or
  // nullopt (and disarms) when none is left.
  std::optional<Clock::time_point> sweep() {
    std::vector<std::unique_ptr<Connection>> expired;
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    std::optional<Clock::time_point> next;
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      while (!list.empty() && now - list.front()->idle_since >= idle_timeout_) {
        expired.push_back(std::move(list.front()));
        list.pop_front();
      }
      if (list.empty()) {
        it = idle_.erase(it);
        continue;
      }
      const auto due = list.front()->idle_since + idle_timeout_;
      if (!next || due < *next) next = due;
      ++it;
    }
    if (!next) sweep_armed_ = false;
    return next;
  }

  // Closes every idle connection; later put()s close theirs at once.
  void close() {
    std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> idle;
    std::lock_guard lock(mutex_);
    closed_ = true;
    idle.swap(idle_);
  }

 private:
  const std::size_t max_per_origin_;
  const Clock::duration idle_timeout_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> idle_;
  bool sweep_armed_ = false;
  bool closed_ = false;
};

class Exchange;

// Everything the exchanges share: the I/O threads, the TLS context, the pool and the registry
// of exchanges in flight that shutdown walks. It outlives every exchange.
class ClientCore {
 public:
  ClientCore(ClientOptions options, Logger* log);

  void submit(OutboundRequest request, std::function<void(OutboundResponse)> done);
  void shutdown();

  // Calls done with response on an I/O thread, or right here once the threads are gone.
  void deliver_soon(std::function<void(OutboundResponse)> done, OutboundResponse response);
  void invoke(const std::function<void(OutboundResponse)>& done, OutboundResponse response);
  // An exchange has called its done: shutdown may be waiting for the last one.
  void release(const Exchange* exchange);
  void keep_idle(std::unique_ptr<Connection> conn);
  void on_sweep(const beast::error_code& ec);

  const ClientOptions options;
  Logger* const log;
  const std::string user_agent;
  ssl::context tls;  // before the io_context: the connections' SSL objects refer to it
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  Pool pool;
  Timer sweep_timer;
  std::vector<std::thread> threads;

  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> connections_opened{0}, requests{0}, reused{0}, retried{0};

 private:
  std::mutex lifecycle_mutex_;  // one shutdown at a time
  std::mutex state_mutex_;
  std::condition_variable all_done_;
  enum class State { running, stopping, stopped } state_ = State::running;
  std::size_t in_flight_ = 0;  // callbacks still to be called
  std::unordered_map<const Exchange*, std::weak_ptr<Exchange>> exchanges_;
};

// One request and its response, possibly over two connections (one retry). Every handler runs
// on the strand of its connection, and the first thing each does is to return if the exchange
// has already completed: a timeout or shutdown completes it while operations are still pending.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(ClientCore& client, PreparedRequest prepared, std::string body,
           Clock::time_point started, Clock::time_point deadline,
           std::function<void(OutboundResponse)> done, Strand strand,
           std::unique_ptr<Connection> pooled)
      : client_(client),
        prepared_(std::move(prepared)),
        body_(std::move(body)),
        started_(started),
        deadline_(deadline),
        done_(std::move(done)),
        strand_(std::move(strand)),
        conn_(std::move(pooled)),
        reused_(conn_ != nullptr),
        resolver_(strand_),
        resolve_timer_(strand_) {}

  const Strand& strand() const { return strand_; }

  void start() {
    if (finished_) return;
    if (reused_) {
      ++client_.reused;
      write();
    } else {
      connect();
    }
  }

  // Shutdown: whatever is pending is cut off, and the caller hears of it now. The connection is
  // closed, not destroyed: pending operations still refer to it until their handlers have run.
  void abort() {
    if (finished_) return;
    // Cut off in the middle of writing, some of the request may be out.
    response_.request_sent = response_.request_sent || write_started_;
    close_everything();
    fail(Failure::shutdown, "the HTTPS client was shut down");
  }

 private:
  // --- connecting -------------------------------------------------------------------------

  void connect() {
    conn_ = std::make_unique<Connection>(strand_, client_.tls, prepared_.origin);
    connect_deadline_ = std::min(deadline_, Clock::now() + client_.options.connect_timeout);
    SSL* ssl = conn_->stream.native_handle();
    const char* host = prepared_.host.c_str();
    const bool ok = prepared_.host_is_ip
                        ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
                        : SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    if (!ok)
      return fail(Failure::tls, "cannot set up TLS for " + origin() + ": " + openssl_errors());
    if (!prepared_.host_is_ip) SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);

    if (prepared_.host_is_ip) {
      beast::error_code ec;
      const auto address = asio::ip::make_address(prepared_.host, ec);
      if (ec) return fail(Failure::invalid_request, "the URL's IP address is not usable");
      endpoints_.assign(1, tcp::endpoint(address, prepared_.port));
      if (!keep_permitted()) return;
      return connect_tcp();
    }
    // getaddrinfo cannot be interrupted: on timeout the exchange completes without waiting for
    // it, and its late answer finds the exchange finished.
    resolve_timer_.expires_at(connect_deadline_);
    resolve_timer_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (ec || self->finished_) return;
      self->resolver_.cancel();
      self->fail(Failure::timeout, "resolving " + self->origin() + " timed out after " +
                                       millis(Clock::now() - self->started_));
    });
    resolver_.async_resolve(prepared_.host, std::to_string(prepared_.port),
                            beast::bind_front_handler(&Exchange::on_resolved, shared_from_this()));
  }

  void on_resolved(const beast::error_code& ec, const tcp::resolver::results_type& results) {
    if (finished_) return;
    resolve_timer_.cancel();
    if (ec || results.empty()) {
      return fail(Failure::resolve, "cannot resolve " + origin() + ": " +
                                        (ec ? ec.message() : std::string("no address")));
    }
    endpoints_.clear();
    for (const auto& entry : results) endpoints_.push_back(entry.endpoint());
    if (!keep_permitted()) return;
    connect_tcp();
  }

  // Drops the addresses the address policy refuses; fails the exchange when none is left.
  bool keep_permitted() {
    const auto& policy = client_.options.address_policy;
    if (!policy) return true;
    std::string refused;
    std::erase_if(endpoints_, [&](const tcp::endpoint& e) {
      IpAddress a;
      if (e.address().is_v4()) {
        a = IpAddress::from_v4(e.address().to_v4().to_uint());
      } else {
        a = IpAddress::from_v6(e.address().to_v6().to_bytes());
      }
      auto why = policy->refusal(a);
      if (why && refused.empty()) refused = *why;
      return why.has_value();
    });
    if (!endpoints_.empty()) return true;
    fail(Failure::connect, "cannot connect to " + origin() + ": " + refused);
    return false;
  }

  void connect_tcp() {
    conn_->transport().expires_at(connect_deadline_);
    conn_->transport().async_connect(
        endpoints_, beast::bind_front_handler(&Exchange::on_connected, shared_from_this()));
  }

  void on_connected(const beast::error_code& ec, const tcp::endpoint&) {
    if (finished_) return;
    if (ec == beast::error::timeout) {
      return fail(Failure::timeout, "connecting to " + origin() + " timed out after " +
                                        millis(Clock::now() - started_));
    }
    if (ec) return fail(Failure::connect, "cannot connect to " + origin() + ": " + ec.message());
    ++client_.connections_opened;
    // A request is written whole; Nagle would only delay its last segment.
    beast::error_code ignored;
    conn_->transport().socket().set_option(tcp::no_delay(true), ignored);
    conn_->stream.async_handshake(
        ssl::stream_base::client,
        beast::bind_front_handler(&Exchange::on_handshake, shared_from_this()));
  }

  void on_handshake(const beast::error_code& ec) {
    if (finished_) return;
    if (ec == beast::error::timeout) {
      return fail(Failure::timeout, "the TLS handshake with " + origin() + " timed out after " +
                                        millis(Clock::now() - started_));
    }
    if (ec) {
      const long verify = SSL_get_verify_result(conn_->stream.native_handle());
      const std::string why = verify != X509_V_OK ? std::string("certificate verify failed: ") +
                                                        X509_verify_cert_error_string(verify)
                                                  : ec.message();
      return fail(Failure::tls, "the TLS handshake with " + origin() + " failed: " + why);
    }
    write();
  }

  // --- the exchange -------------------------------------------------------------------------

  void write() {
    write_started_ = true;
    response_.reused_connection = reused_;
    conn_->transport().expires_at(deadline_);
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(prepared_.head),
                                                       asio::buffer(body_)};
    asio::async_write(conn_->stream, buffers,
                      beast::bind_front_handler(&Exchange::on_written, shared_from_this()));
  }

  void on_written(const beast::error_code& ec, std::size_t written) {
    if (finished_) return;
    if (ec) {
      // The TLS stream counts a record as written only once all of it is on the socket, and a
      // server can decrypt nothing of a record it has not received whole: 0 here means the
      // server saw no byte of this request, so even a POST may go again.
      if (written == 0 && reused_ && !retried_ && ec != beast::error::timeout) return retry();
      response_.request_sent = response_.request_sent || written > 0;
      if (ec == beast::error::timeout) {
        return fail(Failure::timeout, "sending the request to " + origin() + " timed out after " +
                                          millis(Clock::now() - started_));
      }
      return fail(Failure::closed,
                  "the connection to " + origin() + " failed while sending: " + ec.message());
    }
    response_.request_sent = true;
    read();
  }

  void read() {
    parser_.emplace(response_, client_.options.max_response_body);
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        client_.options.max_response_header, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(boost::none);  // ResponseParser cuts the body off itself
    if (prepared_.method == "HEAD") parser_->skip(true);
    bhttp::async_read(conn_->stream, conn_->buffer, *parser_,
                      beast::bind_front_handler(&Exchange::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (finished_) return;
    if (ec == bhttp::error::body_limit && parser_->truncated()) {
      response_.truncated = true;
      return succeed(false);  // the rest of the body is still coming: the connection goes
    }
    if (ec) return read_failed(ec);
    if (response_.status / 100 == 1 && response_.status != 101) {
      // Interim (100 Continue, 103 Early Hints): the final response follows.
      response_.status = 0;
      response_.headers.clear();
      return read();
    }
    const bool reusable = parser_->keep_alive() && !prepared_.connection_close &&
                          conn_->buffer.size() == 0 && response_.status != 101;
    succeed(reusable);
  }

  void read_failed(const beast::error_code& ec) {
    const bool nothing_back = !parser_->got_some() && conn_->buffer.size() == 0;
    // A pooled connection the server closed just as this request went out: nothing came back,
    // so a request that cannot change anything is sent once more on a fresh connection. Any
    // other request may have been processed, and is left to the caller.
    if (nothing_back && reused_ && !retried_ && ec != beast::error::timeout &&
        is_safe_method(prepared_.method)) {
      return retry();
    }
    if (ec == beast::error::timeout) {
      return fail(Failure::timeout,
                  origin() + " did not answer within " + millis(Clock::now() - started_));
    }
    if (ec == bhttp::error::header_limit) {
      return fail(Failure::protocol, "the response header from " + origin() + " is over " +
                                         std::to_string(client_.options.max_response_header) +
                                         " bytes");
    }
    const auto& http_errors = bhttp::make_error_code(bhttp::error::end_of_stream).category();
    if (ec.category() == http_errors && ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return fail(Failure::protocol,
                  "the response from " + origin() + " is not valid HTTP/1.1: " + ec.message());
    }
    if (ec.category() == asio::error::get_ssl_category()) {
      return fail(Failure::tls,
                  "TLS failed on the connection to " + origin() + ": " + ec.message());
    }
    // The connection went away. If what came before does not even begin like a status line,
    // the server does not speak HTTP.
    if (conn_->buffer.size() > 0 && !starts_like_http(conn_->buffer.data())) {
      return fail(Failure::protocol, "the response from " + origin() + " is not HTTP");
    }
    if (nothing_back) {
      return fail(Failure::closed,
                  origin() + " closed the connection without answering (" + ec.message() + ")");
    }
    fail(Failure::closed,
         origin() + " closed the connection in the middle of the response (" + ec.message() + ")");
  }

  void retry() {
    ++client_.retried;
    retried_ = true;
    reused_ = false;
    close_everything();
    conn_.reset();  // no operation is pending on it: this runs from its last handler
    parser_.reset();
    response_.status = 0;
    response_.headers.clear();
    response_.body.clear();
    if (client_.stopping) return fail(Failure::shutdown, "the HTTPS client was shut down");
    connect();
  }

  // --- completion ---------------------------------------------------------------------------

  void close_everything() {
    resolve_timer_.cancel();
    resolver_.cancel();
    if (conn_) conn_->transport().close();
  }

  // Only from a handler of the connection's last operation, with nothing else pending on it.
  void succeed(bool reusable) {
    if (reusable && !client_.stopping) {
      conn_->transport().expires_never();
      if (conn_->buffer.capacity() > std::size_t{16} * 1024) conn_->buffer.shrink_to_fit();
      client_.keep_idle(std::move(conn_));
    } else if (conn_) {
      conn_->transport().close();
    }
    complete();
  }

  void fail(Failure failure, std::string error) {
    response_.failure = failure;
    response_.error = std::move(error);
    if (conn_) conn_->transport().close();
    complete();
  }

  void complete() {
    if (finished_) return;
    finished_ = true;
    resolve_timer_.cancel();
    response_.elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    if (client_.log && client_.log->enabled(LogLevel::debug)) {
      // The origin only: paths, queries, headers and bodies may carry credentials.
      Json::Value fields;
      fields["origin"] = prepared_.origin;
      fields["method"] = prepared_.method;
      fields["status"] = response_.status;
      fields["ms"] = static_cast<double>(response_.elapsed.count()) / 1000.0;
      fields["reused"] = response_.reused_connection;
      if (!response_.ok()) {
        fields["failure"] = std::string(to_string(response_.failure));
        fields["error"] = response_.error;
      }
      client_.log->debug("outbound request", fields);
    }
    client_.invoke(done_, std::move(response_));
    done_ = nullptr;
    client_.release(this);
  }

  std::string origin() const { return prepared_.origin; }

  ClientCore& client_;
  const PreparedRequest prepared_;
  const std::string body_;
  const Clock::time_point started_;
  const Clock::time_point deadline_;
  Clock::time_point connect_deadline_;
  std::function<void(OutboundResponse)> done_;
  const Strand strand_;
  std::unique_ptr<Connection> conn_;
  bool reused_;
  bool retried_ = false;
  bool write_started_ = false;
  bool finished_ = false;
  Resolver resolver_;
  Timer resolve_timer_;
  std::vector<tcp::endpoint> endpoints_;
  std::optional<ResponseParser> parser_;
  OutboundResponse response_;
};

// --- the client ---------------------------------------------------------------------------

ClientCore::ClientCore(ClientOptions opts, Logger* logger)
    : options(std::move(opts)),
      log(logger),
      user_agent(options.user_agent.empty() ? std::string("psahost/") + PSAHOST_VERSION
                                            : options.user_agent),
      tls(make_tls_context(options)),
      pool(options.max_idle_per_origin, options.idle_timeout),
      sweep_timer(asio::make_strand(ioc)) {
  if (!is_field_value(user_agent)) {
    throw std::invalid_argument("ClientOptions::user_agent holds a control character");
  }
  work.emplace(ioc.get_executor());
  const unsigned count = std::max(1u, options.threads);
  try {
    for (unsigned i = 0; i < count; ++i) {
      threads.emplace_back([this] {
        t_client = this;
        for (;;) {
          try {
            ioc.run();
            return;
          } catch (const std::exception& e) {
            if (log) {
              Json::Value fields;
              fields["error"] = e.what();
              log->error("HTTPS client I/O thread caught an exception", fields);
            }
          }
        }
      });
    }
  } catch (...) {
    work.reset();
    ioc.stop();
    for (auto& t : threads) t.join();
    throw;
  }
}

void ClientCore::submit(OutboundRequest request, std::function<void(OutboundResponse)> done) {
  const auto started = Clock::now();
  PreparedRequest prepared;
  if (std::string why = prepare_request(request, user_agent, prepared); !why.empty()) {
    OutboundResponse refused;
    refused.failure = Failure::invalid_request;
    refused.error = std::move(why);
    return deliver_soon(std::move(done), std::move(refused));
  }
  const auto timeout = request.timeout > std::chrono::milliseconds::zero()
                           ? request.timeout
                           : options.request_timeout;

  std::unique_lock lock(state_mutex_);
  if (state_ != State::running) {
    lock.unlock();
    OutboundResponse refused;
    refused.failure = Failure::shutdown;
    refused.error = "the HTTPS client was shut down";
    return deliver_soon(std::move(done), std::move(refused));
  }
  // Registered in the same step that checks the state, so that shutdown sees every exchange it
  // must cut off.
  auto pooled = pool.take(prepared.origin);
  Strand strand = pooled ? pooled->strand() : asio::make_strand(ioc);
  auto exchange =
      std::make_shared<Exchange>(*this, std::move(prepared), std::move(request.body), started,
                                 started + timeout, std::move(done), strand, std::move(pooled));
  ++in_flight_;
  ++requests;
  exchanges_.emplace(exchange.get(), exchange);
  lock.unlock();
  asio::post(strand, [exchange] { exchange->start(); });
}

void ClientCore::deliver_soon(std::function<void(OutboundResponse)> done,
                              OutboundResponse response) {
  std::unique_lock lock(state_mutex_);
  if (state_ == State::stopped) {
    lock.unlock();
    return invoke(done, std::move(response));
  }
  ++in_flight_;
  lock.unlock();
  asio::post(ioc, [this, done = std::move(done), response = std::move(response)]() mutable {
    invoke(done, std::move(response));
    release(nullptr);
  });
}

void ClientCore::invoke(const std::function<void(OutboundResponse)>& done,
                        OutboundResponse response) {
  if (!done) return;
  try {
    done(std::move(response));
  } catch (const std::exception& e) {
    // A throwing callback must not take an I/O thread down with it.
    if (log) {
      Json::Value fields;
      fields["error"] = e.what();
      log->error("an outbound request's completion callback threw", fields);
    }
  } catch (...) {
    if (log) log->error("an outbound request's completion callback threw");
  }
}

void ClientCore::release(const Exchange* exchange) {
  std::lock_guard lock(state_mutex_);
  if (exchange) exchanges_.erase(exchange);
  if (--in_flight_ == 0) all_done_.notify_all();
}

void ClientCore::keep_idle(std::unique_ptr<Connection> conn) {
  if (!pool.put(std::move(conn))) return;
  asio::post(sweep_timer.get_executor(), [this] {
    if (stopping) return;
    sweep_timer.expires_after(options.idle_timeout);
    sweep_timer.async_wait([this](const beast::error_code& ec) { on_sweep(ec); });
  });
}

void ClientCore::on_sweep(const beast::error_code& ec) {
  if (ec || stopping) return;
  if (const auto next = pool.sweep()) {
    sweep_timer.expires_at(*next);
    sweep_timer.async_wait([this](const beast::error_code& e) { on_sweep(e); });
  }
}

void ClientCore::shutdown() {
  if (t_client == this) {
    throw std::logic_error("HttpsClient::shutdown called from one of the client's own threads");
  }
  std::lock_guard lifecycle(lifecycle_mutex_);
  std::vector<std::shared_ptr<Exchange>> live;
  {
    std::lock_guard lock(state_mutex_);
    if (state_ == State::stopped) return;
    state_ = State::stopping;
    stopping = true;
    for (const auto& [_, weak] : exchanges_) {
      if (auto exchange = weak.lock()) live.push_back(std::move(exchange));
    }
  }
  for (auto& exchange : live) {
    asio::post(exchange->strand(), [exchange] { exchange->abort(); });
  }
  live.clear();
  pool.close();
  asio::post(sweep_timer.get_executor(), [this] { sweep_timer.cancel(); });
  {
    // Every exchange completes at once when aborted; what is left are callbacks running.
    std::unique_lock lock(state_mutex_);
    all_done_.wait(lock, [&] { return in_flight_ == 0; });
    state_ = State::stopped;
  }
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  threads.clear();
  // No I/O thread is left: the handlers still queued (cancelled operations of finished
  // exchanges) run here, so that the connections they hold are released before the io_context.
  ioc.restart();
  while (ioc.poll() > 0) {
  }
  pool.close();
}

}  // namespace

struct HttpsClient::Impl : ClientCore {
  using ClientCore::ClientCore;
};

HttpsClient::HttpsClient(ClientOptions options, Logger* log)
    : impl_(std::make_unique<Impl>(std::move(options), log)) {}

HttpsClient::~HttpsClient() {
  if (t_client == static_cast<const ClientCore*>(impl_.get())) {
    // Joining its own thread cannot end; carrying on would free what that thread still uses.
    std::fputs("fatal: psahost::net::HttpsClient destroyed on one of its own I/O threads\n",
               stderr);
    std::terminate();
  }
  impl_->shutdown();
}

void HttpsClient::async_send(OutboundRequest request, std::function<void(OutboundResponse)> done) {
  impl_->submit(std::move(request), std::move(done));
}

OutboundResponse HttpsClient::send(OutboundRequest request) {
  if (t_client == static_cast<const ClientCore*>(impl_.get())) {
    OutboundResponse refused;
    refused.failure = Failure::invalid_request;
    refused.error =
        "HttpsClient::send called on one of the client's own threads (it would wait on itself); "
        "use async_send there";
    return refused;
  }
  std::promise<OutboundResponse> promise;
  auto future = promise.get_future();
  impl_->submit(std::move(request),
                [&promise](OutboundResponse response) { promise.set_value(std::move(response)); });
  return future.get();
}

void HttpsClient::shutdown() {
  impl_->shutdown();
}

HttpsClient::Stats HttpsClient::stats() const {
  Stats s;
  s.connections_opened = impl_->connections_opened.load();
  s.requests = impl_->requests.load();
  s.reused = impl_->reused.load();
  s.retried = impl_->retried.load();
  return s;
}

std::optional<std::string> OutboundResponse::header(std::string_view lower_name) const {
  std::optional<std::string> value;
  for (const auto& field : headers) {
    if (field.name != lower_name) continue;
    if (value) {
      *value += ", ";
      *value += field.value;
    } else {
      value = field.value;
    }
  }
  return value;
}

std::string_view to_string(Failure failure) {
  switch (failure) {
    case Failure::none:
      return "none";
    case Failure::invalid_request:
      return "invalid_request";
    case Failure::resolve:
      return "resolve";
    case Failure::connect:
      return "connect";
    case Failure::tls:
      return "tls";
    case Failure::timeout:
      return "timeout";
    case Failure::protocol:
      return "protocol";
    case Failure::closed:
      return "closed";
    case Failure::shutdown:
      return "shutdown";
  }
  return "unknown";
}

}  // namespace psahost::net
