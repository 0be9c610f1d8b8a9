#include "webhooks/inbound.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"
#include "core/json_check.hpp"
#include "core/log.hpp"
#include "plugins/registry.hpp"
#include "webhooks/inbox.hpp"
#include "webhooks/key_hosts.hpp"
#include "webhooks/signature.hpp"

#include <json/reader.h>
#include <psa/sdk.hpp>

#include <chrono>

namespace psahost::webhooks {
namespace {

http::Response unauthorized(const std::string& detail) {
  http::Response r = http::problem(401, "invalid-signature", "Unauthorized",
                                   "the request is not signed for this connection: " + detail);
  return r;
}

// A control character in a header value is never legitimate and would end up in logs and in
// what the connector is handed; horizontal tab is the one RFC 9110 allows.
std::optional<std::string> header_with_control_character(const http::Request& request) {
  for (const auto& [name, value] : request.headers) {
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) return name;
    }
  }
  return std::nullopt;
}

bool parse_json(const std::string& body, Json::Value& out) {
  thread_local std::unique_ptr<Json::CharReader> reader = [] {
    Json::CharReaderBuilder builder;
    Json::CharReaderBuilder::strictMode(&builder.settings_);
    builder["allowSpecialFloats"] = false;
    return std::unique_ptr<Json::CharReader>(builder.newCharReader());
  }();
  std::string errors;
  try {
    return reader->parse(body.data(), body.data() + body.size(), &out, &errors);
  } catch (const std::exception&) {
    return false;  // jsoncpp throws past its nesting limit
  }
}

// Headers the connector may read later. Signatures and credentials are left out: they have
// done their work, and what is not stored cannot leak.
// Written directly rather than through a Json::Value: this runs for every inbound request.
std::string stored_headers(const http::Request& request, const plugins::Inbound& spec) {
  std::string out = "{";
  for (const auto& [name, value] : request.headers) {
    if (name == "authorization" || name == "cookie" || name == "webhook-signature" ||
        name == "x-content-signature" || (!spec.header.empty() && name == spec.header)) {
      continue;
    }
    if (out.size() > 1) out += ',';
    psa::json::append_string(out, name);
    out += ':';
    psa::json::append_string(out, value);
  }
  out += '}';
  return out;
}

// The natural key of a delivery: the declared body members, else the body's digest.
std::string dedupe_key(const http::Request& request, const Json::Value& body,
                       const plugins::Inbound& spec) {
  if (spec.signature == "standard-webhooks") {
    return "id:" + std::string(*request.header("webhook-id"));
  }
  if (!spec.dedupe.empty()) {
    std::string key = "key:";
    bool complete = true;
    for (const auto& pointer : spec.dedupe) {
      const Json::Value* v = at_pointer(body, pointer);
      if (!v || v->isNull() || v->isObject() || v->isArray()) {
        complete = false;
        break;
      }
      key += psa::json::write(*v);
      key += '\x1f';
    }
    if (complete) return key;
  }
  return "sha256:" + crypto::sha256_hex(request.body);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const Json::Value* at_pointer(const Json::Value& document, std::string_view pointer) {
  const Json::Value* at = &document;
  if (pointer.empty()) return at;
  if (pointer[0] != '/') return nullptr;
  pointer.remove_prefix(1);
  for (;;) {
    const auto slash = pointer.find('/');
    const std::string_view raw = pointer.substr(0, slash);
    std::string token;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (c == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += c;
      }
    }
    if (at->isObject()) {
      at = at->find(token.data(), token.data() + token.size());
      if (!at) return nullptr;
    } else if (at->isArray()) {
      if (token.empty() || token.size() > 9 ||
          token.find_first_not_of("0123456789") != std::string::npos) {
        return nullptr;
      }
      const auto index = static_cast<Json::ArrayIndex>(std::stoul(token));
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
    if (slash == std::string_view::npos) return at;
    pointer.remove_prefix(slash + 1);
  }
}

void InboundWebhooks::handle(const http::Request& request, const std::string& connection_name,
                             http::Responder respond) {
  std::shared_ptr<const OpenedConnection> connection;
  try {
    connection = env_.connections.open_by_name(connection_name);
  } catch (const std::exception& e) {
    Json::Value f;
    f["connection"] = connection_name;
    f["error"] = e.what();
    env_.log.error("cannot open a connection's secret", f);
    return respond(http::problem(500, "internal-error", "Internal Server Error"));
  }
  // Decided by the name alone, before any secret is touched.
  if (!connection) {
    return respond(http::problem(404, "unknown-connection", "Not Found",
                                 "no active connection is served at this address"));
  }
  const auto manifest = env_.plugins.manifest_of(connection->connection.connector);
  if (!manifest || !manifest->inbound) {
    http::Response r = http::problem(503, "connector-unavailable", "Service Unavailable",
                                     "the connector " + connection->connection.connector +
                                         " of this connection is not installed");
    r.headers.emplace_back("Retry-After", "60");
    return respond(std::move(r));
  }
  const plugins::Inbound& spec = *manifest->inbound;
  if (auto name = header_with_control_character(request)) {
    return respond(http::problem(400, "invalid-header", "Bad Request",
                                 "the " + *name + " header holds a control character"));
  }

  const auto header = [&](std::string_view name) { return request.header(name).value_or(""); };
  if (spec.signature == "standard-webhooks") {
    const std::string_view id = header("webhook-id");
    if (id.size() > 256) {
      return respond(unauthorized("webhook-id is longer than 256 characters"));
    }
    const auto v = verify_standard_webhooks(connection->key, id, header("webhook-timestamp"),
                                            header("webhook-signature"), request.body, unix_now(),
                                            env_.replay_window);
    if (!v.ok()) return respond(unauthorized(v.reason));
  } else if (spec.signature == "hmac-sha256" || spec.signature == "hmac-sha1") {
    const auto v = verify_mac_header(spec.signature == "hmac-sha256" ? Mac::sha256 : Mac::sha1,
                                     connection->key, header(spec.header), spec.prefix,
                                     request.body, spec.escaped_body);
    if (!v.ok()) return respond(unauthorized(v.reason));
  } else if (spec.signature == "connectwise") {
    return verify_connectwise(request, std::move(connection), spec, std::move(respond));
  } else {
    return respond(http::problem(500, "internal-error", "Internal Server Error"));
  }
  verified(request, std::move(connection), spec, std::move(respond));
}

void InboundWebhooks::verify_connectwise(const http::Request& request,
                                         std::shared_ptr<const OpenedConnection> connection,
                                         const plugins::Inbound& spec, http::Responder respond) {
  const std::string_view signature = request.header("x-content-signature").value_or("");
  if (signature.empty()) return respond(unauthorized("the x-content-signature header is missing"));
  // The key's address comes from the unverified body itself, so it is trusted only on the
  // connection's own site; anything else would make the host fetch what an attacker chose.
  Json::Value body;
  if (!parse_json(request.body, body)) {
    return respond(unauthorized("the body is not JSON, so it names no signing key"));
  }
  const Json::Value* url = at_pointer(body, "/Metadata/key_url");
  if (!url || !url->isString() || url->asString().empty()) {
    return respond(unauthorized("Metadata.key_url is missing"));
  }
  const std::string key_url = url->asString();
  if (!key_url_allowed(key_url, connection->connection)) {
    Json::Value f;
    f["connection"] = connection->connection.name;
    f["key_url_origin"] = origin_of(key_url);
    env_.log.warn(
        "refused a ConnectWise callback whose key_url is not on the vendor's hosts for the "
        "connection",
        f);
    return respond(unauthorized(
        "Metadata.key_url is not on the connection's site or its region's ConnectWise hosts"));
  }
  const auto check = [this, spec, connection, respond,
                      request = std::make_shared<http::Request>(request)](const std::string& key) {
    const auto v = webhooks::verify_connectwise(
        key, request->header("x-content-signature").value_or(""), request->body);
    if (!v.ok()) return respond(unauthorized(v.reason));
    verified(*request, connection, spec, respond);
  };
  {
    std::lock_guard lock(keys_mutex_);
    if (auto it = connectwise_keys_.find(key_url); it != connectwise_keys_.end()) {
      const std::string key = it->second;
      return check(key);
    }
  }
  if (!env_.fetch_key) {
    return respond(http::problem(503, "connector-unavailable", "Service Unavailable",
                                 "this host cannot fetch ConnectWise signing keys"));
  }
  env_.fetch_key(
      key_url, [this, key_url, check, respond](std::optional<std::string> key, std::string error) {
        if (!key) {
          Json::Value f;
          f["error"] = error;
          env_.log.warn("could not fetch a ConnectWise signing key", f);
          http::Response r = http::problem(503, "signing-key-unavailable", "Service Unavailable",
                                           "the signing key could not be fetched; try again");
          r.headers.emplace_back("Retry-After", "5");
          return respond(std::move(r));
        }
        {
          std::lock_guard lock(keys_mutex_);
          // Keys are few (one per callback registration); a cap keeps a flood of distinct URLs on
          // the connection's own site from growing the cache without bound.
          if (connectwise_keys_.size() >= 1024) connectwise_keys_.clear();
          connectwise_keys_[key_url] = *key;
        }
        check(*key);
      });
}

void InboundWebhooks::verified(const http::Request& request,
                               std::shared_ptr<const OpenedConnection> connection,
                               const plugins::Inbound& spec, http::Responder respond) {
  // The body is only checked here; building it is needed only to read a natural key from it.
  Json::Value body;
  if (!is_json(request.body) || (!spec.dedupe.empty() && !parse_json(request.body, body))) {
    return respond(http::problem(400, "malformed-json", "Bad Request",
                                 "the signature is valid but the body is not JSON; nothing was "
                                 "stored"));
  }
  const Connection& c = connection->connection;
  env_.store.write_async(
      [tenant = c.tenant_id, id = c.id, key = dedupe_key(request, body, spec),
       headers = stored_headers(request, spec), raw = request.body, at = now_rfc3339()](
          store::Tx& tx) { store_inbox_entry(tx, tenant, id, key, headers, raw, at); },
      [this, respond = std::move(respond)](std::exception_ptr error) {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            Json::Value f;
            f["error"] = e.what();
            env_.log.error("could not store an inbound webhook", f);
          }
          // The sender retries on 5xx; nothing was stored.
          return respond(http::problem(503, "not-stored", "Service Unavailable",
                                       "the request could not be stored; send it again"));
        }
        if (env_.received) env_.received();
        // Xero's intent-to-receive check wants exactly this: 200, no body, no cookies.
        respond(http::Response::empty(200));
      });
}

}  // namespace psahost::webhooks
