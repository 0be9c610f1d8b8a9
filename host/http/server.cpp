#include "http/server.hpp"

#include "http/tls.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace psahost::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Small first read of a keep-alive connection: most idle connections never send again, so they
// should not each hold a header-sized buffer.
constexpr std::size_t kFirstReadSize = 1024;
// Scratch size for discarding what a closing client still sends.
constexpr std::size_t kDrainSize = std::size_t{16} * 1024;
// Backoff after a failed accept (EMFILE and friends), so the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetry{100};

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Metric labels must come from a fixed set: a client choosing the method must not be able to
// grow the metrics without bound.
std::string metric_method(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST", "PUT",
                                                "DELETE", "OPTIONS", "PATCH"};
  for (auto known : kKnown) {
    if (method == known) return std::string(known);
  }
  return "OTHER";
}

bool is_malformed(const beast::error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_target).category()) return false;
  switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::bad_line_ending:
    case bhttp::error::bad_method:
    case bhttp::error::bad_target:
    case bhttp::error::bad_version:
    case bhttp::error::bad_field:
    case bhttp::error::bad_value:
    case bhttp::error::bad_content_length:
    case bhttp::error::bad_transfer_encoding:
    case bhttp::error::bad_chunk:
    case bhttp::error::bad_chunk_extension:
    case bhttp::error::bad_obs_fold:
    case bhttp::error::multiple_content_length:
    case bhttp::error::unexpected_body:
      return true;
    default:
      return false;
  }
}

Json::Value one_field(const char* name, Json::Value value) {
  Json::Value fields(Json::objectValue);
  fields[name] = std::move(value);
  return fields;
}

std::string display_address(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return "https://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

class Session;

// Everything the connections share: the io_context, the TLS context, the acceptor and the
// registry of live connections that shutdown walks. Connections hold it by shared_ptr, so
// it outlives every socket created on its io_context.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(ServerOptions options, const Router& router, Logger& log, Metrics& metrics)
      : options(std::move(options)), router(router), log(log), metrics(metrics) {}

  void start();
  void shutdown(std::chrono::milliseconds grace);
  uint16_t port() const { return bound_port_.load(); }

  // Posts f onto a connection's strand unless the server has stopped its I/O threads; then
  // the connection has been closed already and the late answer is dropped.
  template <class F>
  void post_or_drop(const net::any_io_executor& executor, F&& f) {
    std::lock_guard lock(post_mutex_);
    if (io_closed_) return;
    net::post(executor, std::forward<F>(f));
  }

  void remove_session(const Session* session);

  const ServerOptions options;
  const Router& router;
  Logger& log;
  Metrics& metrics;
  std::atomic<bool> stopping{false};   // no new connections; answers carry Connection: close
  std::atomic<bool> abandoned{false};  // grace period over: completions only release
  net::io_context ioc;
  std::optional<ssl::context> tls;

 private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  std::vector<std::shared_ptr<Session>> live_sessions();
  bool on_io_thread() const;

  std::mutex lifecycle_mutex_;
  enum class State { created, running, stopped } state_ = State::created;
  std::atomic<uint16_t> bound_port_{0};
  std::optional<tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> accept_retry_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;

  std::mutex sessions_mutex_;
  std::condition_variable sessions_changed_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;

  std::mutex post_mutex_;
  bool io_closed_ = false;
};

// One TLS connection, carrying requests one after another. Every handler runs on the
// connection's strand; the only entry from other threads is the responder, which posts.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Listener> server, tcp::socket&& socket, std::string remote)
      : server_(std::move(server)),
        options_(server_->options),
        executor_(socket.get_executor()),
        stream_(std::move(socket), *server_->tls),
        remote_(std::move(remote)) {}

  ~Session() {
    server_->metrics.add_connection(-1);
    server_->remove_session(this);
  }

  const net::any_io_executor& executor() const { return executor_; }

  void start() {
    net::dispatch(executor_, beast::bind_front_handler(&Session::on_start, shared_from_this()));
  }

  // On the strand: a connection between requests is closed now; one in the middle of a request
  // finishes it, and its answer carries Connection: close.
  void begin_shutdown() {
    if (phase_ == Phase::handshake || phase_ == Phase::idle) lowest().close();
  }

  // Only once no I/O thread runs: nothing else can touch the stream concurrently.
  void close_now() { lowest().close(); }

 private:
  enum class Phase { handshake, idle, reading, handling, writing, closing };

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void on_start() {
    if (server_->stopping) return;
    lowest().expires_after(options_.handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return drop("handshake failed", ec);
    // The first request gets header_timeout from here for its whole header, including the
    // wait for its first byte: a fresh connection that sends nothing is not "idle".
    header_deadline_ = Clock::now() + options_.header_timeout;
    wait_for_request();
  }

  void wait_for_request() {
    if (server_->stopping) return close_gracefully();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(options_.body_limit));
    request_ = Request{};
    route_.clear();
    if (buffer_.size() > 0) {  // a pipelined request is already here
      start_header_deadline();
      return read_header();
    }
    phase_ = Phase::idle;
    if (first_request_) {
      lowest().expires_at(header_deadline_);
    } else {
      lowest().expires_after(options_.idle_timeout);
    }
    stream_.async_read_some(
        buffer_.prepare(kFirstReadSize),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return drop("connection closed between requests", ec);
    buffer_.commit(n);
    if (server_->abandoned) return;
    start_header_deadline();
    read_header();
  }

  void start_header_deadline() {
    phase_ = Phase::reading;
    if (!first_request_) header_deadline_ = Clock::now() + options_.header_timeout;
    // One deadline for the whole header, however many reads it takes: a slow trickle of bytes
    // cannot keep the connection alive by resetting a per-read timer.
    lowest().expires_at(header_deadline_);
    started_ = Clock::now();
  }

  void read_header() {
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (server_->abandoned) return;
    if (ec && refuse_unreadable(ec)) return;
    if (ec) return drop("request header not received", ec);
    const auto& message = parser_->get();
    if (!parser_->is_done() && message.version() >= 11 &&
        beast::iequals(message[bhttp::field::expect], "100-continue")) {
      // The body is acceptable: tell the client to send it rather than make it wait.
      continue_.emplace(bhttp::status::continue_, message.version());
      lowest().expires_after(options_.write_timeout);
      bhttp::async_write(
          stream_, *continue_,
          beast::bind_front_handler(&Session::on_continue_written, shared_from_this()));
      return;
    }
    read_body();
  }

  void on_continue_written(beast::error_code ec, std::size_t) {
    continue_.reset();
    if (server_->abandoned) return;
    if (ec) return drop("100 Continue not written", ec);
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return handle_request();
    lowest().expires_after(options_.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (server_->abandoned) return;
    if (ec && refuse_unreadable(ec)) return;
    if (ec) return drop("request body not received", ec);
    handle_request();
  }

  // Answers a request the parser refused, and closes: after such an error the position of
  // the next request in the byte stream is unknown, and an unread body may follow.
  bool refuse_unreadable(const beast::error_code& ec) {
    if (ec == bhttp::error::body_limit) {
      reject(problem(413, "payload-too-large", "Payload Too Large",
                     "the request body exceeds " + std::to_string(options_.body_limit) + " bytes"));
    } else if (ec == bhttp::error::header_limit) {
      reject(problem(431, "header-too-large", "Request Header Fields Too Large",
                     "the request line and headers exceed " +
                         std::to_string(options_.header_limit) + " bytes"));
    } else if (is_malformed(ec)) {
      reject(problem(400, "bad-request", "Bad Request", "malformed HTTP request: " + ec.message()));
    } else {
      return false;
    }
    return true;
  }

  void reject(Response response) {
    const auto& message = parser_->get();
    route_ = "rejected";
    metric_method_ = metric_method(message.method_string());
    version_ = message.version() == 10 ? 10 : 11;
    head_ = false;
    write_response(std::move(response), true);
  }

  void handle_request() {
    phase_ = Phase::handling;
    auto& message = parser_->get();
    request_.method = upper(message.method_string());
    request_.target = std::string(message.target());
    const auto question = request_.target.find('?');
    request_.path = request_.target.substr(0, question);
    if (question != std::string::npos) request_.query = request_.target.substr(question + 1);
    for (const auto& field : message) {
      auto [it, inserted] =
          request_.headers.emplace(lower(field.name_string()), std::string(field.value()));
      if (!inserted) (it->second += ", ") += field.value();  // RFC 9110 5.3 field combination
    }
    request_.body = std::move(message.body());
    request_.remote = remote_;
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    head_ = request_.method == "HEAD";
    metric_method_ = metric_method(request_.method);
    // Handling has no deadline of its own; the handler owns that. A timer left running from
    // the body read must not fire into the write.
    lowest().expires_never();

    Responder respond = make_responder();
    try {
      server_->router.dispatch(request_, respond, &route_);
    } catch (const std::exception& e) {
      server_->log.error("request dispatch failed", one_field("error", e.what()));
      respond(problem(500, "internal-error", "Internal Server Error"));
    }
  }

  Responder make_responder() {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    return [self = shared_from_this(), answered](Response response) {
      if (answered->exchange(true)) {
        self->server_->log.error("a request was answered twice; the second answer is ignored");
        return;
      }
      self->server_->post_or_drop(self->executor_,
                                  [self, response = std::move(response)]() mutable {
                                    self->on_response(std::move(response));
                                  });
    };
  }

  void on_response(Response response) {
    if (server_->abandoned) return;
    const bool close = response.close || !keep_alive_ || server_->stopping;
    write_response(std::move(response), close);
  }

  void write_response(Response response, bool close) {
    phase_ = Phase::writing;
    close_after_ = close;
    int status = response.status;
    if (status < 200 || status > 599) {
      server_->log.error("handler answered with an invalid status; sending 500",
                         one_field("status", status));
      response = problem(500, "internal-error", "Internal Server Error");
      status = 500;
    }
    auto& message = response_.emplace();
    message.version(version_);
    message.result(static_cast<unsigned>(status));
    if (!response.content_type.empty()) {
      message.set(bhttp::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers) {
      // The server owns the framing and the connection's fate.
      if (beast::iequals(name, "connection") || beast::iequals(name, "content-length") ||
          beast::iequals(name, "transfer-encoding")) {
        continue;
      }
      message.insert(name, value);
    }
    if (status != 204 && status != 304) {
      // HEAD announces the length the GET would have, and sends nothing.
      message.content_length(response.body.size());
      if (!head_) message.body() = std::move(response.body);
    }
    message.keep_alive(!close);

    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    server_->metrics.observe_request(route_, metric_method_, status, seconds);
    if (server_->log.enabled(LogLevel::debug)) {
      Json::Value fields;
      fields["method"] = metric_method_;
      fields["route"] = route_;
      fields["status"] = status;
      fields["ms"] = seconds * 1000.0;
      server_->log.debug("request", fields);
    }

    lowest().expires_after(options_.write_timeout);
    bhttp::async_write(stream_, *response_,
                       beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    response_.reset();
    if (server_->abandoned) return;
    if (ec) return drop("response not written", ec);
    if (close_after_) return close_gracefully();
    first_request_ = false;
    wait_for_request();
  }

  void close_gracefully() {
    phase_ = Phase::closing;
    lowest().expires_after(options_.close_timeout);
    // Only our half of the TLS shutdown: Asio's would then wait for the client's close_notify
    // and fail on application data still in flight (the rest of a refused body). Marking the
    // client's as received lets SSL_shutdown send ours and complete.
    SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
    stream_.async_shutdown(beast::bind_front_handler(&Session::on_tls_closed, shared_from_this()));
  }

  void on_tls_closed(beast::error_code ec) {
    if (ec) return drop("TLS shutdown failed", ec);
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    drain();
  }

  // Reads and discards until the client closes (or close_timeout): closing with unread bytes
  // would make the kernel send a reset, which can destroy our last response before the client
  // has read it.
  void drain() {
    lowest().async_read_some(buffer_.prepare(kDrainSize),
                             beast::bind_front_handler(&Session::on_drained, shared_from_this()));
  }

  void on_drained(beast::error_code ec, std::size_t) {
    if (ec) return lowest().close();
    drain();
  }

  // Timeouts, resets and clients going away are routine; the socket closes with the session.
  void drop(std::string_view why, const beast::error_code& ec) {
    if (!server_->log.enabled(LogLevel::debug)) return;
    Json::Value fields;
    fields["remote"] = remote_;
    fields["error"] = ec.message();
    server_->log.debug(why, fields);
  }

  const std::shared_ptr<Listener> server_;
  const ServerOptions& options_;
  const net::any_io_executor executor_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  const std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<bhttp::response<bhttp::string_body>> response_;

  Phase phase_ = Phase::handshake;
  bool first_request_ = true;
  bool keep_alive_ = false;
  bool head_ = false;
  bool close_after_ = false;
  unsigned version_ = 11;
  Clock::time_point header_deadline_;
  Clock::time_point started_ = Clock::now();
  Request request_;  // must stay put until the responder has been called
  std::string route_;
  std::string metric_method_;
};

void Listener::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (state_ != State::created) throw std::logic_error("the HTTPS server was started twice");

  tls.emplace(ssl::context::tls_server);
  configure_server_context(tls->native_handle(), options.cert_file, options.key_file);

  std::string host = options.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string where = host + ":" + std::to_string(options.port);
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(ioc);
    const auto results =
        resolver.resolve(host, std::to_string(options.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      throw std::runtime_error("cannot listen on " + where + ": cannot resolve the host: " +
                               (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }

  acceptor_.emplace(net::make_strand(ioc));
  const auto check = [&](const char* step) {
    if (ec)
      throw std::runtime_error("cannot listen on " + where + ": " + step + ": " + ec.message());
  };
  acceptor_->open(endpoint.protocol(), ec);
  check("socket");
  // Lets a restarted host bind while old connections of the previous one sit in TIME_WAIT.
  acceptor_->set_option(net::socket_base::reuse_address(true), ec);
  check("setsockopt");
  acceptor_->bind(endpoint, ec);
  check("bind");
  acceptor_->listen(net::socket_base::max_listen_connections, ec);
  check("listen");
  bound_port_ = acceptor_->local_endpoint(ec).port();
  check("getsockname");
  accept_retry_.emplace(acceptor_->get_executor());

  // Without a work guard the I/O threads would return while every connection waits for a
  // slow handler, and the answers posted later would never be written.
  work_.emplace(ioc.get_executor());
  do_accept();
  const unsigned count =
      options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  try {
    for (unsigned i = 0; i < count; ++i) {
      threads_.emplace_back([this] {
        for (;;) {
          try {
            ioc.run();
            return;
          } catch (const std::exception& e) {
            log.error("I/O thread caught an exception", one_field("error", e.what()));
          }
        }
      });
    }
  } catch (...) {
    work_.reset();
    ioc.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    throw;
  }
  state_ = State::running;
  Json::Value fields;
  fields["address"] = display_address(host, bound_port_);
  fields["threads"] = count;
  log.info("listening", fields);
}

void Listener::do_accept() {
  acceptor_->async_accept(net::make_strand(ioc),
                          beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping || ec == net::error::operation_aborted) return;
  if (ec) {
    Json::Value fields;
    fields["error"] = ec.message();
    log.warn("accept failed", fields);
    accept_retry_->expires_after(kAcceptRetry);
    accept_retry_->async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && !self->stopping) self->do_accept();
    });
    return;
  }
  beast::error_code peer_ec;
  std::string remote = socket.remote_endpoint(peer_ec).address().to_string();
  auto session =
      std::make_shared<Session>(shared_from_this(), std::move(socket), std::move(remote));
  metrics.add_connection(+1);
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.emplace(session.get(), session);
  }
  session->start();
  do_accept();
}

void Listener::remove_session(const Session* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
  if (sessions_.empty()) sessions_changed_.notify_all();
}

std::vector<std::shared_ptr<Session>> Listener::live_sessions() {
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard lock(sessions_mutex_);
  out.reserve(sessions_.size());
  for (const auto& [_, weak] : sessions_) {
    if (auto session = weak.lock()) out.push_back(std::move(session));
  }
  return out;
}

bool Listener::on_io_thread() const {
  const auto me = std::this_thread::get_id();
  return std::any_of(threads_.begin(), threads_.end(),
                     [&](const std::thread& t) { return t.get_id() == me; });
}

void Listener::shutdown(std::chrono::milliseconds grace) {
  std::lock_guard lock(lifecycle_mutex_);
  if (state_ != State::running) return;
  if (on_io_thread()) {
    throw std::logic_error("HTTPS server shutdown called from one of its own I/O threads");
  }
  state_ = State::stopped;
  const auto deadline = Clock::now() + grace;
  stopping = true;

  net::post(acceptor_->get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_->close(ignored);
    self->accept_retry_->cancel();
  });
  for (auto& session : live_sessions()) {
    net::post(session->executor(), [session] { session->begin_shutdown(); });
  }

  std::size_t left = 0;
  {
    std::unique_lock sessions_lock(sessions_mutex_);
    sessions_changed_.wait_until(sessions_lock, deadline, [&] { return sessions_.empty(); });
    left = sessions_.size();
  }
  if (left > 0) {
    Json::Value fields;
    fields["connections"] = static_cast<Json::UInt64>(left);
    log.warn("shutdown grace period over; closing the remaining connections", fields);
  }

  abandoned = true;
  work_.reset();
  ioc.stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  {
    std::lock_guard post_lock(post_mutex_);
    io_closed_ = true;
  }
  // No thread runs the io_context any more, so the sockets can be closed from here. The
  // completions this produces are run once so that the connections they hold are released.
  for (auto& session : live_sessions()) session->close_now();
  ioc.restart();
  while (ioc.poll() > 0) {
  }
  log.info("stopped listening");
}

}  // namespace

struct Server::Impl {
  std::shared_ptr<Listener> listener;
};

Server::Server(ServerOptions options, const Router& router, Logger& log, Metrics& metrics)
    : impl_(std::make_unique<Impl>(
          Impl{std::make_shared<Listener>(std::move(options), router, log, metrics)})) {}

Server::~Server() {
  try {
    impl_->listener->shutdown(std::chrono::milliseconds(0));
  } catch (const std::exception& e) {
    impl_->listener->log.error("HTTPS server shutdown failed", one_field("error", e.what()));
  }
}

void Server::start() {
  impl_->listener->start();
}

uint16_t Server::port() const {
  return impl_->listener->port();
}

void Server::shutdown(std::chrono::milliseconds grace) {
  impl_->listener->shutdown(grace);
}

}  // namespace psahost::http
