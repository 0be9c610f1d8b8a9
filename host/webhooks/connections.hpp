// Connections: one configured instance of a connector for one tenant, served at
// /webhooks/{name}. Secrets are sealed at rest and opened only here, in memory; the connector
// sees the connection's public part (connection_json) and never a secret.
#pragma once

#include "core/secret_box.hpp"
#include "net/address_policy.hpp"
#include "plugins/manifest.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace psahost::webhooks {

struct Connection {
  std::string id;
  std::string tenant_id;
  std::string name;
  std::string connector;  // the connector plugin's id
  std::string base_url;   // "" when none was configured
  Json::Value settings = Json::objectValue;
  std::string status;  // active | disabled
  bool has_secret = false;
  bool has_credentials = false;
  std::string created_at;
};

// What the connector and the API see of a connection: no secret, only whether one is set.
Json::Value connection_json(const Connection& c);

// A connection with its webhook secret opened, as the inbound path needs it.
struct OpenedConnection {
  Connection connection;
  std::string secret;  // the text as configured ("" when none)
  std::string key;     // the MAC key: decoded bytes for whsec_ secrets, else the text
};

struct NewConnection {
  std::string tenant_id;
  std::string name;
  std::string connector;
  std::string secret;
  std::string base_url;
  Json::Value settings = Json::objectValue;
  Json::Value credentials;  // null: none
};

// A field of a NewConnection that cannot be accepted; field is the CLI option's name.
struct ConnectionError {
  std::string field;
  std::string message;
};

// ^[A-Za-z0-9._~-]{1,128}$: URL-safe as a path segment without escaping, and long enough to
// carry an unguessable token for systems that cannot sign (HaloPSA).
bool is_connection_name(std::string_view name);

// https://host[:port][/path], no userinfo, query or fragment, and a host the address policy
// does not refuse (when one is given); nullopt when acceptable.
std::optional<std::string> check_base_url(std::string_view url,
                                          const net::AddressPolicy* policy = nullptr);

// scheme+host+port of an https URL ("https://example.com:8443"), "" if it is not one.
std::string origin_of(std::string_view url);

class Connections {
 public:
  Connections(store::Store& store, const crypto::SecretBox& box) : store_(store), box_(box) {}

  // Base URLs are checked against this at add(); the default refuses every internal range.
  void set_address_policy(std::shared_ptr<const net::AddressPolicy> policy) {
    policy_ = std::move(policy);
  }

  // Checks the request against the connector's manifest (a secret of the right form for its
  // signature scheme, a base URL where the scheme needs one) and stores it sealed. Returns the
  // errors, or the stored connection. Blocks until committed.
  std::variant<Connection, std::vector<ConnectionError>> add(const NewConnection& request,
                                                             const plugins::Manifest& connector);

  std::vector<Connection> list(const std::string& tenant_id);
  std::optional<Connection> get(const std::string& tenant_id, const std::string& id);

  // The active connection served at /webhooks/{name}, with its secret opened; nullopt when
  // there is none (or it is disabled). Cached for a few seconds, so that the inbound path pays
  // neither a query nor an AES-GCM open per request, and a change made by the CLI in another
  // process is seen soon.
  std::shared_ptr<const OpenedConnection> open_by_name(std::string_view name);

  // The sealed credentials of a connection, opened; null when none.
  Json::Value credentials(const std::string& id);
  // Replaces a connection's credentials (an OAuth2 refresh token that rotated). Blocks.
  void store_credentials(const std::string& id, const Json::Value& credentials);

 private:
  struct Cached {
    std::shared_ptr<const OpenedConnection> value;
    std::chrono::steady_clock::time_point loaded;
  };
  std::shared_ptr<const OpenedConnection> load(std::string_view name);

  store::Store& store_;
  const crypto::SecretBox& box_;
  std::shared_ptr<const net::AddressPolicy> policy_ = std::make_shared<net::AddressPolicy>();
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> by_name_;
};

// The tenant's connections, by name; only active ones when active_only.
std::vector<Connection> tenant_connections(store::Tx& tx, const std::string& tenant_id,
                                           bool active_only);

// The context a connection's sealed values are bound to.
std::string secret_context(const std::string& connection_id);
std::string credentials_context(const std::string& connection_id);

}  // namespace psahost::webhooks
