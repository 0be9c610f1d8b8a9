// A stand-in for an external system in tests: an HTTPS server on 127.0.0.1 with its own
// self-signed certificate (psahost trusts it through --outbound-ca), which records every request
// and answers as the test says: a status, a delay, no answer at all, a huge body.
#pragma once

#include "http/message.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace psahost::test {

struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const;
};

class Receiver {
 public:
  // What to answer; nullopt means never answer (the connection is held until shutdown).
  using Behaviour = std::function<std::optional<http::Response>(const Received&)>;

  explicit Receiver(Behaviour behaviour = {});  // by default 200 with "ok"
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  void set_behaviour(Behaviour behaviour);
  uint16_t port() const;
  std::string url(const std::string& path = "/") const;  // https://127.0.0.1:PORT/path
  std::string origin() const;                            // https://127.0.0.1:PORT
  const std::filesystem::path& ca_file() const;          // its certificate, to trust
  std::vector<Received> received() const;
  std::size_t count() const;
  // Waits until at least n requests arrived; false after the limit.
  bool wait_for(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(20)) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace psahost::test
