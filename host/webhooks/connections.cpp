#include "webhooks/connections.hpp"

#include "auth/tokens.hpp"
#include "core/clock.hpp"
#include "store/json_column.hpp"
#include "webhooks/signature.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

namespace psahost::webhooks {
namespace {

// Long enough that a CLI change (a rotated secret, a disabled connection) shows within seconds;
// short enough that the cache saves a query and an AES-GCM open on almost every request.
constexpr auto kCacheTtl = std::chrono::seconds(5);

constexpr const char* kColumns =
    "id, tenant_id, name, connector, COALESCE(base_url, ''), settings, status, secret IS NOT "
    "NULL, credentials IS NOT NULL, created_at";

Connection from_row(const store::Row& r) {
  Connection c;
  c.id = r.text(0);
  c.tenant_id = r.text(1);
  c.name = r.text(2);
  c.connector = r.text(3);
  c.base_url = r.text(4);
  c.settings = store::from_text(r.text(5));
  c.status = r.text(6);
  c.has_secret = r.integer(7) != 0;
  c.has_credentials = r.integer(8) != 0;
  c.created_at = r.text(9);
  return c;
}

}  // namespace

std::string secret_context(const std::string& connection_id) {
  return "connection:" + connection_id + ":secret";
}

std::string credentials_context(const std::string& connection_id) {
  return "connection:" + connection_id + ":credentials";
}

Json::Value connection_json(const Connection& c) {
  Json::Value v;
  v["id"] = c.id;
  v["name"] = c.name;
  v["connector"] = c.connector;
  v["base_url"] = c.base_url.empty() ? Json::Value() : Json::Value(c.base_url);
  v["settings"] = c.settings;
  v["status"] = c.status;
  v["has_secret"] = c.has_secret;
  v["has_credentials"] = c.has_credentials;
  v["created_at"] = c.created_at;
  return v;
}

bool is_connection_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '~' || c == '-';
  });
}

std::optional<std::string> check_base_url(std::string_view url, const net::AddressPolicy* policy) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "expected an absolute URL like https://example.myconnectwise.net";
  if (parsed->scheme() != "https") return "expected an https:// URL (TLS everywhere)";
  if (parsed->host().empty()) return "the URL names no host";
  if (parsed->has_userinfo()) return "credentials do not belong in the URL";
  if (parsed->has_query() || parsed->has_fragment()) return "expected no query or fragment";
  if (policy) return policy->refusal_for_host(parsed->host());
  return std::nullopt;
}

std::string origin_of(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->scheme() != "https" || parsed->host().empty() || parsed->has_userinfo()) {
    return "";
  }
  std::string host = parsed->host();
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string origin = "https://" + host;
  if (parsed->has_port() && parsed->port() != "443") origin += ":" + std::string(parsed->port());
  return origin;
}

std::variant<Connection, std::vector<ConnectionError>> Connections::add(
    const NewConnection& request, const plugins::Manifest& connector) {
  std::vector<ConnectionError> errors;
  if (!is_connection_name(request.name)) {
    errors.push_back({"name",
                      "expected 1 to 128 characters of letters, digits and . _ ~ - (it becomes "
                      "the path /webhooks/NAME)"});
  }
  const std::string scheme = connector.inbound ? connector.inbound->signature : "";
  if (scheme == "standard-webhooks") {
    if (!standard_webhooks_key(request.secret)) {
      errors.push_back({"secret",
                        "expected a Standard Webhooks secret: whsec_ followed by base64 of 24 to "
                        "64 bytes"});
    }
  } else if (scheme.starts_with("hmac-")) {
    if (request.secret.size() < 8) {
      errors.push_back({"secret",
                        "expected the webhook key the system gave you (8 characters "
                        "or more)"});
    }
  }
  if (!request.base_url.empty()) {
    if (auto problem = check_base_url(request.base_url, policy_.get()))
      errors.push_back({"base-url", *problem});
  } else if (scheme == "connectwise") {
    errors.push_back({"base-url",
                      "ConnectWise callbacks are verified with a key fetched from the "
                      "connection's own site; give its URL, e.g. https://na.myconnectwise.net"});
  }
  if (!request.settings.isObject()) errors.push_back({"settings", "expected a JSON object"});
  if (!errors.empty()) return errors;

  Connection c;
  c.id = auth::new_id("con");
  c.tenant_id = request.tenant_id;
  c.name = request.name;
  c.connector = connector.id;
  c.base_url = request.base_url;
  c.settings = request.settings;
  c.status = "active";
  c.has_secret = !request.secret.empty();
  c.has_credentials = !request.credentials.isNull();
  c.created_at = now_rfc3339();
  const store::Value sealed_secret =
      c.has_secret ? store::Value(box_.seal(request.secret, secret_context(c.id))) : nullptr;
  const store::Value sealed_credentials =
      c.has_credentials
          ? store::Value(box_.seal(store::to_text(request.credentials), credentials_context(c.id)))
          : nullptr;
  try {
    store_.write([&](store::Tx& tx) {
      tx.exec(
          "INSERT INTO connections (id, tenant_id, name, connector, base_url, settings, secret, "
          "credentials, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
          "'active', ?, ?)",
          {c.id, c.tenant_id, c.name, c.connector,
           c.base_url.empty() ? store::Value(nullptr) : store::Value(c.base_url),
           store::to_text(c.settings), sealed_secret, sealed_credentials, c.created_at,
           c.created_at});
    });
  } catch (const store::ConstraintError&) {
    return std::vector<ConnectionError>{
        {"name", "a connection named '" + request.name + "' already exists"}};
  }
  return c;
}

std::vector<Connection> tenant_connections(store::Tx& tx, const std::string& tenant_id,
                                           bool active_only) {
  std::vector<Connection> out;
  tx.each(std::string("SELECT ") + kColumns + " FROM connections WHERE tenant_id = ?" +
              (active_only ? " AND status = 'active'" : "") + " ORDER BY name",
          {tenant_id}, [&](const store::Row& r) { out.push_back(from_row(r)); });
  return out;
}

std::vector<Connection> Connections::list(const std::string& tenant_id) {
  std::vector<Connection> out;
  store_.read([&](store::Tx& tx) { out = tenant_connections(tx, tenant_id, false); });
  return out;
}

std::optional<Connection> Connections::get(const std::string& tenant_id, const std::string& id) {
  std::optional<Connection> out;
  store_.read([&](store::Tx& tx) {
    if (auto r = tx.query_one(
            std::string("SELECT ") + kColumns + " FROM connections WHERE tenant_id = ? AND id = ?",
            {tenant_id, id})) {
      out = from_row(*r);
    }
  });
  return out;
}

std::shared_ptr<const OpenedConnection> Connections::open_by_name(std::string_view name) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = by_name_.find(std::string(name));
    if (it != by_name_.end() && now - it->second.loaded < kCacheTtl) return it->second.value;
  }
  auto opened = load(name);
  std::lock_guard lock(mutex_);
  if (opened) {
    by_name_[std::string(name)] = Cached{opened, now};
  } else {
    // Unknown names are not cached: they would let anyone grow the map without bound.
    by_name_.erase(std::string(name));
  }
  return opened;
}

std::shared_ptr<const OpenedConnection> Connections::load(std::string_view name) {
  if (!is_connection_name(name)) return nullptr;
  std::optional<Connection> found;
  std::optional<std::string> sealed;
  store_.read([&](store::Tx& tx) {
    if (auto r = tx.query_one(std::string("SELECT ") + kColumns +
                                  ", secret FROM connections WHERE name = ? AND status = 'active'",
                              {std::string(name)})) {
      found = from_row(*r);
      sealed = r->optional_text(10);
    }
  });
  if (!found) return nullptr;
  auto opened = std::make_shared<OpenedConnection>();
  if (sealed) {
    auto secret = box_.open(*sealed, secret_context(found->id));
    // A secret that does not open (another host's key file) makes the connection unusable
    // rather than silently unauthenticated.
    if (!secret)
      throw std::runtime_error("the secret of connection " + found->name +
                               " does not open with this host's key");
    opened->secret = std::move(*secret);
    opened->key = standard_webhooks_key(opened->secret).value_or(opened->secret);
  }
  opened->connection = std::move(*found);
  return opened;
}

Json::Value Connections::credentials(const std::string& id) {
  std::optional<std::string> sealed;
  store_.read([&](store::Tx& tx) {
    if (auto r = tx.query_one("SELECT credentials FROM connections WHERE id = ?", {id})) {
      sealed = r->optional_text(0);
    }
  });
  if (!sealed) return Json::nullValue;
  auto text = box_.open(*sealed, credentials_context(id));
  if (!text)
    throw std::runtime_error("the credentials of connection " + id +
                             " do not open with this host's key");
  return store::from_text(*text);
}

void Connections::store_credentials(const std::string& id, const Json::Value& credentials) {
  const std::string sealed = box_.seal(store::to_text(credentials), credentials_context(id));
  store_.write([&](store::Tx& tx) {
    tx.exec("UPDATE connections SET credentials = ?, updated_at = ? WHERE id = ?",
            {sealed, now_rfc3339(), id});
  });
}

}  // namespace psahost::webhooks
