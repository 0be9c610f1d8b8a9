// What the kernel says about this machine's IPv4 TCP sockets (/proc/net/tcp): lets a test wait
// for a socket-level event (the server has read every byte sent to it, a peer's FIN arrived)
// instead of sleeping for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace psahost::test {

struct TcpSocket {
  int state = 0;             // the kernel's TCP state: 1 established, 8 close-wait, ...
  std::size_t tx_queue = 0;  // bytes sent and not yet acknowledged
  std::size_t rx_queue = 0;  // bytes received and not yet read by the socket's owner
};

inline constexpr int kTcpEstablished = 1;
inline constexpr int kTcpCloseWait = 8;
inline constexpr int kTcpListen = 10;

// The socket bound to 127.0.0.1:local_port and connected to 127.0.0.1:remote_port, if any.
std::optional<TcpSocket> loopback_socket(uint16_t local_port, uint16_t remote_port);
// Whether a socket connected to 127.0.0.1:remote_port is in state (any of them, if several).
bool loopback_socket_to_in(uint16_t remote_port, int state);
// Whether a socket listens on 127.0.0.1:port.
bool loopback_listening(uint16_t port);

}  // namespace psahost::test
