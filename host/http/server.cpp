#include "http/server.hpp"

#include "http/tls.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
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

// What the open file limit leaves for connections: a reserve for the database and its WAL,
// plugin libraries, outbound connections, logs and the acceptor itself.
std::size_t connections_for_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 10'000;
  const auto files = static_cast<std::size_t>(limit.rlim_cur);
  return files > 512 ? files - 256 : std::max<std::size_t>(16, files / 2);
}

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Concrete executor types throughout: a connection never leaves its io_context, so the
// type-erased any_io_executor would only cost a copy and a virtual call per operation.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;
using TlsStream = ssl::stream<Socket>;

constexpr Clock::time_point kNever = Clock::time_point::max();
// Small first read of a keep-alive connection: most idle connections never send again, so they
// should not each hold a header-sized buffer.
constexpr std::size_t kFirstReadSize = 1024;
// Read size once a request is arriving, as Beast's own read loop uses.
constexpr std::size_t kReadSize = std::size_t{64} * 1024;
// Scratch size for discarding what a closing client still sends.
constexpr std::size_t kDrainSize = std::size_t{16} * 1024;
// Buffers are reused from request to request; one that a large request or response grew past
// this is released rather than held for the rest of a long keep-alive connection.
constexpr std::size_t kKeptCapacity = std::size_t{64} * 1024;
// Backoff after a failed accept (EMFILE and friends), so the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetry{100};

void to_upper(std::string& s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
}

void to_lower(std::string& s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
}

// Metric labels must come from a fixed set: a client choosing the method must not be able to
// grow the metrics without bound.
std::string_view metric_method(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST", "PUT",
                                                "DELETE", "OPTIONS", "PATCH"};
  for (auto known : kKnown) {
    if (method == known) return known;
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

void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

void append_http_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

// Parses straight into the handlers' Request, with no Beast message in between: a request
// costs no field allocations beyond the Request's own, and no copy from one to the other.
// Beast's basic_parser still does all the HTTP work (limits, framing, chunking, keep-alive).
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& request) : request_(request) {}

  unsigned version() const { return version_; }
  // The first Expect field asks for 100 Continue.
  bool expects_continue() const { return expects_continue_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    request_.method.assign(method.data(), method.size());
    to_upper(request_.method);
    request_.target.assign(target.data(), target.size());
    version_ = static_cast<unsigned>(version);
  }

  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}

  void on_field_impl(bhttp::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code&) override {
    if (name == bhttp::field::expect && !seen_expect_) {
      seen_expect_ = true;
      expects_continue_ = beast::iequals(value, "100-continue");
    }
    std::string key(name_string.data(), name_string.size());
    to_lower(key);
    auto [it, inserted] = request_.headers.try_emplace(std::move(key), value.data(), value.size());
    if (!inserted)
      (it->second += ", ").append(value.data(), value.size());  // RFC 9110 5.3 field combination
  }

  void on_header_impl(beast::error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    // The parser has already refused a length over the body limit.
    if (length) request_.body.reserve(static_cast<std::size_t>(*length));
  }

  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(beast::error_code&) override {}

  Request& request_;
  unsigned version_ = 11;
  bool seen_expect_ = false;
  bool expects_continue_ = false;
};

// An io_context run by exactly one thread. A connection stays on one worker for its whole
// life, so its handlers never run concurrently: no strand, and no lock around its state.
struct IoWorker {
  explicit IoWorker(Metrics::RequestShard& requests) : requests(requests) {}

  // Hint 1 (one thread runs it): handlers it posts to itself go to a thread-private queue
  // instead of through the scheduler's lock. Other threads may still post to it.
  net::io_context ioc{1};
  Metrics::RequestShard& requests;  // written only from this worker's thread
  std::optional<net::executor_work_guard<Executor>> work;
  std::thread thread;
  // Answers posted from other threads take this, so that none is queued after the worker has
  // run for the last time: nothing would ever run or release it.
  std::mutex post_mutex;
  bool closed = false;
};

class Session;

// Everything the connections share: the workers, the TLS context, the acceptor and the
// registry of live connections that shutdown walks. Connections hold it by shared_ptr, so
// it outlives every socket created on its io_contexts.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(ServerOptions options, const Router& router, Logger& log, Metrics& metrics)
      : options(std::move(options)), router(router), log(log), metrics(metrics) {}

  void start();
  void shutdown(std::chrono::milliseconds grace);
  uint16_t port() const { return bound_port_.load(); }

  // Posts f onto a worker unless the server has stopped it for good; then the connection has
  // been closed already and the late answer is dropped.
  template <class F>
  void post_or_drop(IoWorker& worker, F&& f) {
    std::lock_guard lock(worker.post_mutex);
    if (worker.closed) return;
    net::post(worker.ioc, std::forward<F>(f));
  }

  void remove_session(const Session* session);

  const ServerOptions options;
  const Router& router;
  Logger& log;
  Metrics& metrics;
  std::atomic<bool> stopping{false};   // no new connections; answers carry Connection: close
  std::atomic<bool> abandoned{false};  // grace period over: completions only release
  std::optional<ssl::context> tls;

 private:
  void do_accept();
  void on_accept(beast::error_code ec, Socket socket);
  std::vector<std::shared_ptr<Session>> live_sessions();
  bool on_io_thread() const;

  std::mutex lifecycle_mutex_;
  enum class State { created, running, stopped } state_ = State::created;
  std::atomic<uint16_t> bound_port_{0};
  std::vector<std::unique_ptr<IoWorker>> workers_;  // [0] also runs the acceptor
  // Round-robin, and the worker the pending accept creates its socket on; both are touched
  // on the acceptor's thread only.
  std::size_t next_worker_ = 0;
  IoWorker* accepting_for_ = nullptr;
  std::optional<Acceptor> acceptor_;
  std::optional<Timer> accept_retry_;

  std::mutex sessions_mutex_;
  std::condition_variable sessions_changed_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;
  std::size_t max_connections_ = 0;  // set by start()
  std::size_t peak_since_trim_ = 0;  // under sessions_mutex_
  bool make_room();
};

// One TLS connection, carrying requests one after another. Every handler runs on its worker's
// thread; the only entry from other threads is the responder, which posts there.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Listener> server, IoWorker& worker, Socket&& socket, std::string remote)
      : server_(std::move(server)),
        options_(server_->options),
        worker_(worker),
        stream_(std::move(socket), *server_->tls),
        timer_(worker.ioc) {
    request_.remote = std::move(remote);
  }

  ~Session() {
    server_->metrics.add_connection(-1);
    server_->remove_session(this);
  }

  IoWorker& worker() const { return worker_; }

  // Between requests or still shaking hands: closing it loses nothing the client sent.
  bool evictable() const { return evictable_.load(std::memory_order_relaxed); }
  // From any thread: closes the connection on its worker if it is still evictable there.
  // False when another accept chose it already (its close is on the way), so each new
  // connection makes room by closing a different one.
  bool evict() {
    bool expected = true;
    if (!evictable_.compare_exchange_strong(expected, false)) return false;
    server_->post_or_drop(worker_, [self = shared_from_this()] { self->begin_shutdown(); });
    return true;
  }

  void start() {
    net::post(worker_.ioc, [self = shared_from_this()] { self->on_start(); });
  }

  // On the worker: a connection between requests is closed now; one in the middle of a request
  // finishes it, and its answer carries Connection: close.
  void begin_shutdown() {
    if (phase_ == Phase::handshake || phase_ == Phase::idle) close_socket();
  }

  // Only once no I/O thread runs: nothing else can touch the stream concurrently.
  void close_now() {
    close_socket();
    timer_.cancel();
  }

 private:
  enum class Phase { handshake, idle, reading, handling, writing, closing };

  void close_socket() {
    beast::error_code ignored;
    stream_.next_layer().close(ignored);
  }

  // Deadlines. One timer per connection, moved lazily: a later deadline (the common case, as
  // each request pushes it out) only updates deadline_, and the timer, when it fires early,
  // re-arms itself for it. Only an earlier deadline re-arms the timer at once. So a keep-alive
  // request costs no timer operations, where a timer per read and write would cost several.
  void set_deadline(Clock::time_point at) {
    deadline_ = at;
    if (at < timer_at_) arm_timer(at);
  }

  void arm_timer(Clock::time_point at) {
    timer_at_ = at;
    timer_.expires_at(at);
    // A weak reference: a pending wait must not keep a finished connection alive.
    timer_.async_wait([weak = weak_from_this()](const beast::error_code& ec) {
      if (ec) return;  // re-armed or cancelled
      if (auto self = weak.lock()) self->on_timer();
    });
  }

  void on_timer() {
    timer_at_ = kNever;
    if (deadline_ == kNever) return;
    if (Clock::now() < deadline_) return arm_timer(deadline_);
    // Closing fails the pending read or write, whose handler then ends the connection.
    timed_out_ = true;
    close_socket();
  }

  void on_start() {
    if (server_->stopping) return;
    set_deadline(Clock::now() + options_.handshake_timeout);
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

  // Clears the previous request in place, so that its strings keep their capacity.
  void reset_request() {
    request_.method.clear();
    request_.target.clear();
    request_.path.clear();
    request_.query.clear();
    request_.headers.clear();
    request_.body.clear();
    if (request_.body.capacity() > kKeptCapacity) std::string().swap(request_.body);
    if (buffer_.size() == 0 && buffer_.capacity() > kKeptCapacity) buffer_.shrink_to_fit();
    route_.clear();
    header_done_ = false;
    parser_.emplace(request_);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(options_.body_limit));
  }

  void wait_for_request() {
    if (server_->stopping) return close_gracefully();
    reset_request();
    if (buffer_.size() > 0) {  // a pipelined request is already here
      start_header_deadline();
      return parse();
    }
    set_phase(Phase::idle);
    set_deadline(first_request_ ? header_deadline_ : Clock::now() + options_.idle_timeout);
    read_more();
  }

  void start_header_deadline() {
    set_phase(Phase::reading);
    started_ = Clock::now();
    if (!first_request_) header_deadline_ = started_ + options_.header_timeout;
    // One deadline for the whole header, however many reads it takes: a slow trickle of bytes
    // cannot keep the connection alive by resetting a per-read timer.
    set_deadline(header_deadline_);
  }

  void read_more() {
    const std::size_t size =
        phase_ == Phase::idle ? kFirstReadSize : beast::read_size(buffer_, kReadSize);
    stream_.async_read_some(buffer_.prepare(size),
                            beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (phase_ == Phase::idle) {
      if (ec) return drop("connection closed between requests", ec);
      if (server_->abandoned) return;
      start_header_deadline();
      return parse();
    }
    if (server_->abandoned) return;
    if (ec)
      return drop(header_done_ ? "request body not received" : "request header not received", ec);
    parse();
  }

  // Feeds what is buffered to the parser: the same loop as Beast's read, without its extra
  // round through the io_context when the whole request is already here.
  void parse() {
    while (buffer_.size() > 0 && !parser_->is_done()) {
      beast::error_code ec;
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        if (refuse_unreadable(ec)) return;
        return drop(header_done_ ? "request body not received" : "request header not received", ec);
      }
      if (!header_done_ && parser_->is_header_done()) {
        header_done_ = true;
        if (!parser_->is_done() && start_body()) return;
      }
      if (used == 0) break;
    }
    if (parser_->is_done()) return handle_request();
    read_more();
  }

  // The header is in and a body follows. Returns true when it wrote 100 Continue, after which
  // parsing resumes.
  bool start_body() {
    if (parser_->version() >= 11 && parser_->expects_continue()) {
      // The body is acceptable: tell the client to send it rather than make it wait.
      continue_.clear();
      append_http_version(continue_, parser_->version());
      continue_ += " 100 Continue\r\n\r\n";
      set_deadline(Clock::now() + options_.write_timeout);
      net::async_write(
          stream_, net::buffer(continue_),
          beast::bind_front_handler(&Session::on_continue_written, shared_from_this()));
      return true;
    }
    set_deadline(Clock::now() + options_.body_timeout);
    return false;
  }

  void on_continue_written(beast::error_code ec, std::size_t) {
    if (server_->abandoned) return;
    if (ec) return drop("100 Continue not written", ec);
    set_deadline(Clock::now() + options_.body_timeout);
    parse();
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
    route_ = "rejected";
    metric_method_ = metric_method(request_.method);
    version_ = parser_->version() == 10 ? 10 : 11;
    head_ = false;
    write_response(std::move(response), true);
  }

  void handle_request() {
    set_phase(Phase::handling);
    // Handling has no deadline of its own; the handler owns that.
    set_deadline(kNever);
    const auto question = request_.target.find('?');
    request_.path.assign(request_.target, 0, question);
    if (question != std::string::npos) request_.query.assign(request_.target, question + 1);
    keep_alive_ = parser_->keep_alive();
    version_ = parser_->version();
    head_ = request_.method == "HEAD";
    metric_method_ = metric_method(request_.method);
    awaiting_.store(++request_number_, std::memory_order_release);

    dispatching_ = true;
    try {
      server_->router.dispatch(request_, make_responder(), &route_);
    } catch (const std::exception& e) {
      server_->log.error("request dispatch failed", one_field("error", e.what()));
      make_responder()(problem(500, "internal-error", "Internal Server Error"));
    }
    dispatching_ = false;
  }

  Responder make_responder() {
    return [self = shared_from_this(), number = request_number_](Response response) mutable {
      self->answer(number, std::move(response));
    };
  }

  // Any thread. The responder of the request being handled is the only one that can answer,
  // and only once: a copy called again, or a stale one from an earlier request, is refused.
  void answer(uint64_t number, Response response) {
    uint64_t expected = number;
    if (!awaiting_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
      server_->log.error("a request was answered twice; the second answer is ignored");
      return;
    }
    // Answered from inside the handler (every synchronous route): already on this connection's
    // thread, so write now. dispatching_ is only read once we know this is that thread.
    if (worker_.ioc.get_executor().running_in_this_thread() && dispatching_) {
      return on_response(std::move(response));
    }
    server_->post_or_drop(worker_,
                          [self = shared_from_this(), response = std::move(response)]() mutable {
                            self->on_response(std::move(response));
                          });
  }

  void on_response(Response response) {
    if (server_->abandoned) return;
    const bool close = response.close || !keep_alive_ || server_->stopping;
    write_response(std::move(response), close);
  }

  void write_response(Response response, bool close) {
    set_phase(Phase::writing);
    close_after_ = close;
    int status = response.status;
    if (status < 200 || status > 599) {
      server_->log.error("handler answered with an invalid status; sending 500",
                         one_field("status", status));
      response = problem(500, "internal-error", "Internal Server Error");
      status = 500;
    }
    serialize(response, status, close);

    const auto now = Clock::now();
    const double seconds = std::chrono::duration<double>(now - started_).count();
    worker_.requests.observe(route_, metric_method_, status, seconds);
    if (server_->log.enabled(LogLevel::debug)) {
      Json::Value fields;
      fields["method"] = std::string(metric_method_);
      fields["route"] = route_;
      fields["status"] = status;
      fields["ms"] = seconds * 1000.0;
      server_->log.debug("request", fields);
    }

    set_deadline(now + options_.write_timeout);
    net::async_write(stream_, net::buffer(out_),
                     beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  // The response as Beast's serializer would write it (same start line, field order and
  // Connection semantics), into one reused buffer: one TLS write, no per-field allocations.
  void serialize(const Response& response, int status, bool close) {
    out_.clear();
    append_http_version(out_, version_);
    out_ += ' ';
    append_number(out_, static_cast<std::uint64_t>(status));
    out_ += ' ';
    out_ += bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    out_ += "\r\n";
    if (!response.content_type.empty()) {
      out_ += "Content-Type: ";
      out_ += response.content_type;
      out_ += "\r\n";
    }
    for (const auto& [name, value] : response.headers) {
      // The server owns the framing and the connection's fate.
      if (beast::iequals(name, "connection") || beast::iequals(name, "content-length") ||
          beast::iequals(name, "transfer-encoding")) {
        continue;
      }
      out_ += name;
      out_ += ": ";
      out_ += value;
      out_ += "\r\n";
    }
    const bool has_body = status != 204 && status != 304;
    if (has_body) {
      // HEAD announces the length the GET would have, and sends nothing.
      out_ += "Content-Length: ";
      append_number(out_, response.body.size());
      out_ += "\r\n";
    }
    // HTTP/1.1 is persistent unless it says close; HTTP/1.0 only if it says keep-alive.
    if (version_ >= 11 && close) out_ += "Connection: close\r\n";
    if (version_ < 11 && !close) out_ += "Connection: keep-alive\r\n";
    out_ += "\r\n";
    if (has_body && !head_) out_ += response.body;
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (server_->abandoned) return;
    if (ec) return drop("response not written", ec);
    if (close_after_) return close_gracefully();
    first_request_ = false;
    if (out_.capacity() > kKeptCapacity) std::string().swap(out_);
    wait_for_request();
  }

  void close_gracefully() {
    set_phase(Phase::closing);
    set_deadline(Clock::now() + options_.close_timeout);
    // Only our half of the TLS shutdown: Asio's would then wait for the client's close_notify
    // and fail on application data still in flight (the rest of a refused body). Marking the
    // client's as received lets SSL_shutdown send ours and complete.
    SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
    stream_.async_shutdown(beast::bind_front_handler(&Session::on_tls_closed, shared_from_this()));
  }

  void on_tls_closed(beast::error_code ec) {
    if (ec) return drop("TLS shutdown failed", ec);
    beast::error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    drain();
  }

  // Reads and discards until the client closes (or close_timeout): closing with unread bytes
  // would make the kernel send a reset, which can destroy our last response before the client
  // has read it.
  void drain() {
    stream_.next_layer().async_read_some(
        buffer_.prepare(kDrainSize),
        beast::bind_front_handler(&Session::on_drained, shared_from_this()));
  }

  void on_drained(beast::error_code ec, std::size_t) {
    if (ec) return close_socket();
    drain();
  }

  // Timeouts, resets and clients going away are routine; the socket closes with the session.
  void drop(std::string_view why, beast::error_code ec) {
    if (!server_->log.enabled(LogLevel::debug)) return;
    if (timed_out_) ec = beast::error::timeout;
    Json::Value fields;
    fields["remote"] = request_.remote;
    fields["error"] = ec.message();
    server_->log.debug(why, fields);
  }

  const std::shared_ptr<Listener> server_;
  const ServerOptions& options_;
  IoWorker& worker_;
  TlsStream stream_;
  Timer timer_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::string out_;       // the serialized response, reused
  std::string continue_;  // "HTTP/1.1 100 Continue", while it is written

  void set_phase(Phase phase) {
    phase_ = phase;
    evictable_.store(phase == Phase::handshake || phase == Phase::idle, std::memory_order_relaxed);
  }

  Phase phase_ = Phase::handshake;
  // Read on the acceptor's thread when the connection cap is reached.
  std::atomic<bool> evictable_{true};
  bool first_request_ = true;
  bool header_done_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  bool close_after_ = false;
  bool dispatching_ = false;  // inside router.dispatch, on this connection's thread
  bool timed_out_ = false;
  unsigned version_ = 11;
  Clock::time_point deadline_ = kNever;  // when the current step must be done
  Clock::time_point timer_at_ = kNever;  // when the timer fires; never later than deadline_
  Clock::time_point header_deadline_;
  Clock::time_point started_ = Clock::now();
  uint64_t request_number_ = 0;
  std::atomic<uint64_t> awaiting_{0};  // the request number still to be answered, or 0
  Request request_;                    // must stay put until the responder has been called
  std::string route_;
  std::string_view metric_method_;
};

void Listener::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (state_ != State::created) throw std::logic_error("the HTTPS server was started twice");

  max_connections_ = options.max_connections ? options.max_connections : connections_for_fd_limit();
  tls.emplace(ssl::context::tls_server);
  configure_server_context(tls->native_handle(), options.cert_file, options.key_file);

  const unsigned count =
      options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  // A start that threw earlier may have left these behind; the acceptor goes before the
  // io_context it was created on.
  accept_retry_.reset();
  acceptor_.reset();
  workers_.clear();
  for (unsigned i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<IoWorker>(metrics.add_request_shard()));
  }
  net::io_context& first = workers_.front()->ioc;

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
    tcp::resolver resolver(first);
    const auto results =
        resolver.resolve(host, std::to_string(options.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      throw std::runtime_error("cannot listen on " + where + ": cannot resolve the host: " +
                               (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }

  // One acceptor handing connections round-robin to the workers, rather than one
  // SO_REUSEPORT acceptor each: binding stays exclusive (a second host on the port fails to
  // start instead of silently sharing it) and the spread does not depend on address hashing.
  acceptor_.emplace(first);
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
  accept_retry_.emplace(first);

  // Without a work guard the I/O threads would return while every connection waits for a
  // slow handler, and the answers posted later would never be written.
  for (auto& worker : workers_) worker->work.emplace(worker->ioc.get_executor());
  do_accept();
  try {
    for (auto& worker : workers_) {
      worker->thread = std::thread([this, &ioc = worker->ioc] {
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
    for (auto& worker : workers_) {
      worker->work.reset();
      worker->ioc.stop();
    }
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) worker->thread.join();
    }
    throw;
  }
  state_ = State::running;
  Json::Value fields;
  fields["address"] = display_address(host, bound_port_);
  fields["threads"] = count;
  log.info("listening", fields);
}

void Listener::do_accept() {
  // The socket is created on the worker that will own the connection.
  accepting_for_ = workers_[next_worker_].get();
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_->async_accept(accepting_for_->ioc,
                          beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, Socket socket) {
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
  // Requests and responses are each written whole; Nagle would only hold back the last
  // segment of a large response until the previous one is acknowledged.
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote = socket.remote_endpoint(ignored).address().to_string();
  if (!make_room()) {
    socket.close(ignored);
    metrics.count_refused_connection();
    log.warn("connection limit reached and no connection is idle; new connection refused",
             one_field("max_connections", static_cast<Json::UInt64>(max_connections_)));
    return do_accept();
  }
  try {
    auto session = std::make_shared<Session>(shared_from_this(), *accepting_for_, std::move(socket),
                                             std::move(remote));
    metrics.add_connection(+1);
    {
      std::lock_guard lock(sessions_mutex_);
      sessions_.emplace(session.get(), session);
    }
    session->start();
  } catch (const std::exception& e) {
    // One connection that could not be set up (SSL_new out of memory) must not stop accepting.
    log.warn("connection setup failed", one_field("error", e.what()));
  }
  do_accept();
}

bool Listener::make_room() {
  // Released only after the lock: the last reference to a session runs its destructor, which
  // takes sessions_mutex_ itself.
  std::vector<std::shared_ptr<Session>> looked_at;
  bool evicted = false;
  {
    std::lock_guard lock(sessions_mutex_);
    if (sessions_.size() < max_connections_) return true;
    for (const auto& [_, weak] : sessions_) {
      looked_at.push_back(weak.lock());
      if (looked_at.back() && looked_at.back()->evictable() && looked_at.back()->evict()) {
        evicted = true;
        break;
      }
    }
  }
  if (!evicted) return false;
  metrics.count_refused_connection();
  return true;
}

void Listener::remove_session(const Session* session) {
  bool trim = false;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(session);
    peak_since_trim_ = std::max(peak_since_trim_, sessions_.size() + 1);
    // After a burst the allocator keeps the freed connection buffers in its arenas; give them
    // back once the burst is over, so the host's memory goes down with its connections.
    if (peak_since_trim_ >= 256 && sessions_.size() <= peak_since_trim_ / 8) {
      peak_since_trim_ = sessions_.size();
      trim = true;
    }
    if (sessions_.empty()) sessions_changed_.notify_all();
  }
  if (trim) ::malloc_trim(0);
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
  return std::any_of(workers_.begin(), workers_.end(),
                     [&](const auto& worker) { return worker->thread.get_id() == me; });
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
    net::post(session->worker().ioc, [session] { session->begin_shutdown(); });
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
  for (auto& worker : workers_) {
    worker->work.reset();
    worker->ioc.stop();
  }
  for (auto& worker : workers_) worker->thread.join();
  for (auto& worker : workers_) {
    std::lock_guard post_lock(worker->post_mutex);
    worker->closed = true;
  }
  // No thread runs the io_contexts any more, so the sockets can be closed from here. The
  // completions this produces are run once so that the connections they hold are released.
  for (auto& session : live_sessions()) session->close_now();
  for (auto& worker : workers_) worker->ioc.restart();
  for (std::size_t ran = 1; ran > 0;) {
    ran = 0;
    for (auto& worker : workers_) ran += worker->ioc.poll();
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
