// POST /webhooks/{connection}: verifies the signature by the connector's declared scheme, checks
// the body is JSON, and appends the request to the durable inbox through the group-commit
// writer, answering 200 only after the commit. A repeated delivery is answered 200, stored once.
#pragma once

#include "http/message.hpp"
#include "webhooks/connections.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace psahost {
class Logger;
class Metrics;
namespace plugins {
class PluginRegistry;
}
}  // namespace psahost

namespace psahost::webhooks {

// Fetches a ConnectWise signing key: GET url, answer {"signing_key": "..."}. done gets the key,
// or nullopt and why not. Called only for URLs on the connection's own origin.
using KeyFetcher = std::function<void(
    const std::string& url,
    std::function<void(std::optional<std::string> key, std::string error)> done)>;

struct InboundEnv {
  store::Store& store;
  Connections& connections;
  const plugins::PluginRegistry& plugins;
  Logger& log;
  KeyFetcher fetch_key;            // empty: ConnectWise connections answer 503
  std::function<void()> received;  // a new inbox entry was committed; may be empty
  std::chrono::seconds replay_window{300};
};

class InboundWebhooks {
 public:
  explicit InboundWebhooks(InboundEnv env) : env_(std::move(env)) {}

  void handle(const http::Request& request, const std::string& connection_name,
              http::Responder respond);

 private:
  void verified(const http::Request& request, std::shared_ptr<const OpenedConnection> connection,
                const plugins::Inbound& spec, http::Responder respond);
  void verify_connectwise(const http::Request& request,
                          std::shared_ptr<const OpenedConnection> connection,
                          const plugins::Inbound& spec, http::Responder respond);

  InboundEnv env_;
  std::mutex keys_mutex_;
  std::map<std::string, std::string> connectwise_keys_;  // signing key by key_url
};

// The value at an RFC 6901 pointer, or null when there is none.
const Json::Value* at_pointer(const Json::Value& document, std::string_view pointer);

}  // namespace psahost::webhooks
