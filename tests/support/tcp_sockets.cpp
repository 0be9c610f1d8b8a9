#include "support/tcp_sockets.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace psahost::test {
namespace {

// "0100007F:1F90" (127.0.0.1:8080, the address in the kernel's byte order) into its port, or
// nothing when the address is not 127.0.0.1.
std::optional<uint16_t> loopback_port(const std::string& field) {
  const auto colon = field.find(':');
  if (colon == std::string::npos || field.substr(0, colon) != "0100007F") return std::nullopt;
  return static_cast<uint16_t>(std::stoul(field.substr(colon + 1), nullptr, 16));
}

template <typename Match>
std::optional<TcpSocket> find_socket(Match match) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream row(line);
    std::string slot, local, remote, state, queues;
    if (!(row >> slot >> local >> remote >> state >> queues)) continue;
    const auto colon = queues.find(':');
    if (colon == std::string::npos) continue;
    TcpSocket s;
    s.state = std::stoi(state, nullptr, 16);
    s.tx_queue = std::stoul(queues.substr(0, colon), nullptr, 16);
    s.rx_queue = std::stoul(queues.substr(colon + 1), nullptr, 16);
    if (match(local, remote, s)) return s;
  }
  return std::nullopt;
}

}  // namespace

std::optional<TcpSocket> loopback_socket(uint16_t local_port, uint16_t remote_port) {
  return find_socket([&](const std::string& local, const std::string& remote, const TcpSocket&) {
    return loopback_port(local) == local_port && loopback_port(remote) == remote_port;
  });
}

bool loopback_socket_to_in(uint16_t remote_port, int state) {
  return find_socket([&](const std::string&, const std::string& remote, const TcpSocket& s) {
           return s.state == state && loopback_port(remote) == remote_port;
         })
      .has_value();
}

bool loopback_listening(uint16_t port) {
  return find_socket([&](const std::string& local, const std::string&, const TcpSocket& s) {
           return s.state == kTcpListen && loopback_port(local) == port;
         })
      .has_value();
}

}  // namespace psahost::test
