#include "support/receiver.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

#include <mutex>

namespace psahost::test {

std::string Received::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

struct Receiver::Impl {
  TempDir dir;
  Logger log{LogLevel::error};
  Metrics metrics;
  http::Router router;
  std::unique_ptr<http::Server> server;
  mutable std::mutex mutex;
  Behaviour behaviour;
  std::vector<Received> received;
  std::vector<http::Responder> held;  // requests never answered, until shutdown
  std::filesystem::path cert;
};

Receiver::Receiver(Behaviour behaviour) : impl_(std::make_unique<Impl>()) {
  impl_->behaviour = std::move(behaviour);
  impl_->cert = impl_->dir.path() / "cert.pem";
  http::ensure_self_signed_certificate(impl_->cert, impl_->dir.path() / "key.pem");
  Impl* impl = impl_.get();
  impl_->router.fallback = [impl](const http::Request& req, const http::Params&,
                                  http::Responder respond) {
    Received r{req.method, req.target, req.headers, req.body};
    Behaviour behaviour;
    {
      std::lock_guard lock(impl->mutex);
      impl->received.push_back(r);
      behaviour = impl->behaviour;
    }
    std::optional<http::Response> answer =
        behaviour ? behaviour(r) : std::optional<http::Response>(http::Response::text(200, "ok"));
    if (!answer) {
      std::lock_guard lock(impl->mutex);
      impl->held.push_back(std::move(respond));
      return;
    }
    respond(std::move(*answer));
  };
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.cert_file = impl_->cert;
  options.key_file = impl_->dir.path() / "key.pem";
  options.body_limit = std::size_t{4} * 1024 * 1024;
  impl_->server =
      std::make_unique<http::Server>(options, impl_->router, impl_->log, impl_->metrics);
  impl_->server->start();
}

Receiver::~Receiver() {
  impl_->server->shutdown(std::chrono::milliseconds(200));
  std::lock_guard lock(impl_->mutex);
  impl_->held.clear();
}

void Receiver::set_behaviour(Behaviour behaviour) {
  std::lock_guard lock(impl_->mutex);
  impl_->behaviour = std::move(behaviour);
}

uint16_t Receiver::port() const {
  return impl_->server->port();
}

std::string Receiver::origin() const {
  return "https://127.0.0.1:" + std::to_string(port());
}

std::string Receiver::url(const std::string& path) const {
  return origin() + path;
}

const std::filesystem::path& Receiver::ca_file() const {
  return impl_->cert;
}

std::vector<Received> Receiver::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

std::size_t Receiver::count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received.size();
}

bool Receiver::wait_for(std::size_t n, std::chrono::milliseconds limit) const {
  return eventually([&] { return count() >= n; }, limit);
}

}  // namespace psahost::test
