// The http.request host call: a connector's synchronous HTTPS request to its own system (to
// fetch what a webhook only names by id, to look a record up before creating it), sent by the
// host with the connection's credentials and only to the origins the connector may reach.
#pragma once

#include "delivery/credentials.hpp"
#include "net/https_client.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/manifest.hpp"
#include "webhooks/connections.hpp"

#include <string>

namespace psahost {
class Logger;
namespace plugins {
class PluginRegistry;
}
}  // namespace psahost

namespace psahost::delivery {

// A connector reaches its connection's own site (base_url) and the origins its manifest lists
// under network; nothing else, whatever a payload or a connector asks.
bool may_reach(const webhooks::Connection& connection, const plugins::Manifest& manifest,
               const std::string& url);

// Resolves a request's "url" or "path" (relative to the connection's base_url) to an absolute
// URL; "" with *problem set when neither is usable.
std::string request_url(const Json::Value& request, const webhooks::Connection& connection,
                        std::string* problem);

// http.request (no permission beyond being the connection's connector):
//   {"tenant_id","connection_id","method","url"|"path","headers":{...},"body":"..."|{...},
//    "timeout_ms"} -> {"status","headers":{...},"body","truncated"}
// A JSON body (an object or array) is sent as application/json. An answer that is not HTTP
// (timeout, refused, TLS) is PSA_ERROR with the reason; any HTTP status is PSA_OK. A 401 drops
// the connection's cached OAuth2 token.
void register_connector_http(plugins::HostCalls& calls, webhooks::Connections& connections,
                             const plugins::PluginRegistry& plugins, net::HttpsClient& client,
                             ConnectionAuth& auth, Logger& log);

}  // namespace psahost::delivery
