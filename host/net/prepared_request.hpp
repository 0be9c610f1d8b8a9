// An OutboundRequest checked and turned into what goes on the wire: the origin to connect to
// and the request head. Refusals happen here, before any connection exists.
#pragma once

#include "net/https_client.hpp"

#include <cstdint>
#include <string>

namespace psahost::net {

struct PreparedRequest {
  std::string host;  // lower-case DNS name (no trailing dot) or IP literal (IPv6 unbracketed)
  bool host_is_ip = false;
  uint16_t port = 443;
  std::string origin;             // "https://host[:port]", for the pool key and logs
  std::string method;             // as given (methods are case-sensitive)
  std::string head;               // request line and header fields, ending in the empty line
  bool connection_close = false;  // the caller asked for Connection: close
};

// A header field value without CR, LF, NUL or another control character (HTAB is allowed).
bool is_field_value(std::string_view value);

// Fills out and returns "" when the request may be sent; otherwise returns why it is refused.
std::string prepare_request(const OutboundRequest& request, std::string_view user_agent,
                            PreparedRequest& out);

}  // namespace psahost::net
