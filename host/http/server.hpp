// The HTTPS server: accepts TLS connections, reads requests with size limits and timeouts,
// hands them to the router and writes the responses; drains gracefully on shutdown.
#pragma once

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace psahost::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8443;  // 0 = pick a free port (read it back with port())
  // I/O threads, each running its own io_context; a connection stays on the one it was
  // handed to (round-robin). 0 = std::thread::hardware_concurrency().
  unsigned threads = 0;
  // Bytes of request line + headers; a larger header is answered 431, then closed.
  std::size_t header_limit = std::size_t{16} * 1024;
  // A larger body is answered 413 without reading it, then the connection is closed.
  std::size_t body_limit = std::size_t{1024} * 1024;
  // The whole header must arrive within this from its first byte (the first request of a
  // connection: from the end of the handshake), so a client dribbling bytes is dropped.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  // How long a closing connection keeps discarding what the client still sends, until the
  // client closes too: closing on unread bytes resets the connection, which can destroy the
  // last response (a 413 sent while the client is still uploading) before it is read.
  std::chrono::milliseconds close_timeout{5'000};
  std::filesystem::path cert_file, key_file;
  // Connections served at once. At the cap a new connection closes an idle keep-alive one (or
  // one still in its handshake) to make room, so a flood of idle connections cannot lock out a
  // health probe; when none is idle the new one is closed at once. 0 = from the process's open
  // file limit (what it leaves after a reserve for the database, plugins and outbound calls).
  std::size_t max_connections = 0;
};

class Server {
 public:
  Server(ServerOptions options, const Router& router, Logger& log, Metrics& metrics);
  ~Server();  // calls shutdown if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens and starts the I/O threads. Throws std::runtime_error with a message
  // naming host:port and the OS error if it cannot bind, or naming the file if cert/key can't
  // be loaded. Throws std::logic_error if called twice.
  void start();
  uint16_t port() const;  // the bound port, after start()

  // Graceful stop: stop accepting; requests already being read or handled finish and their
  // responses are written (with Connection: close); idle keep-alive connections are closed;
  // waits up to `grace` for that, then force-closes the rest, stops the io_contexts and joins
  // their threads. Idempotent; safe to call from any thread except an I/O thread.
  void shutdown(std::chrono::milliseconds grace);

 private:
  struct Impl;  // keeps Beast and Asio out of this header: they cost ~30 s per includer
  std::unique_ptr<Impl> impl_;
};

}  // namespace psahost::http
