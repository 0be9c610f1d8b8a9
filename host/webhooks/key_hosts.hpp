// Where a ConnectWise callback's signing key may be fetched from. The key's address comes from
// the unverified body, so it is fetched only from the vendor's own hosts for the connection's
// region: never from wherever a request says.
#pragma once

#include "webhooks/connections.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace psahost::webhooks {

// The origins ("https://host[:port]") a connection accepts Metadata.key_url on:
// - its base URL's own origin;
// - settings.key_hosts when the connection sets it (host names, "host:port" for another port):
//   exactly those, so a partner can add an on-premises host or leave the sandbox out;
// - otherwise, when the base URL is on ConnectWise's cloud ({prefix}{region}.myconnectwise.net
//   with prefix "", "api-" or "sandbox-"), that region's three hosts. A real sandbox callback
//   carries its key_url on sandbox-na.myconnectwise.net while its records link to
//   na.myconnectwise.net, and a connection is configured with the API host api-na.
std::vector<std::string> key_origins(const Connection& connection);

// Whether key_url is on one of key_origins(connection).
bool key_url_allowed(std::string_view key_url, const Connection& connection);

}  // namespace psahost::webhooks
