// A PSA's REST API as the PSA connectors reach it: through the host's http.request, which adds
// the connection's credentials (this code never holds them), with the answers a hook cannot use
// turned into errors the host retries (Unavailable) or that say which credentials to check.
#pragma once

#include <psa/sdk.hpp>

#include "psa_shared.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace connectors {

struct Reply {
  int status = 0;
  Json::Value body;  // the parsed answer; null when it was empty
};

// The PSA did not answer usably (no answer, 429, 5xx, not JSON, cut short): the hook fails with
// this and the host tries the delivery again later, with backoff.
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  Unavailable(const std::string& what, int retry_after_seconds)
      : std::runtime_error(what), retry_after_seconds_(retry_after_seconds) {}
  // What a 429's Retry-After asked for, in seconds (delta-seconds form); 0 when it said nothing.
  int retry_after_seconds() const { return retry_after_seconds_; }

 private:
  int retry_after_seconds_ = 0;
};

// What differs in how one PSA's API is spoken of.
struct PsaDialect {
  const char* system;       // "Autotask", in messages
  const char* credentials;  // what the partner configured: "API user"
  const char* check;        // what to check when they are refused
  // What an error answer says, for a message: ": ..." or "".
  std::string (*detail)(const Reply&);
};

class PsaApi {
 public:
  // request: the hook's request, with tenant_id and connection.
  PsaApi(const psa::Host& host, const Json::Value& request, const PsaDialect& dialect)
      : host_(host),
        tenant_id_(request["tenant_id"].asString()),
        connection_(request["connection"]),
        dialect_(dialect) {}

  // Any answer but 401/403, 429, 5xx or garbage is returned for the caller to judge.
  Reply call(const std::string& method, const std::string& path,
             const Json::Value& body = Json::nullValue) const {
    Json::Value q;
    q["tenant_id"] = tenant_id_;
    q["connection_id"] = connection_["id"];
    q["method"] = method;
    q["path"] = prefix_ + path;
    q["headers"]["Accept"] = "application/json";
    if (!body.isNull()) q["body"] = body;
    // A hook makes up to three calls within its 30 s timeout_ms.
    q["timeout_ms"] = 10000;
    Json::Value answer;
    try {
      answer = host_.call("http.request", q);
    } catch (const psa::HostError& e) {
      throw Unavailable(method + " " + path + ": " + e.what());
    }
    Reply r;
    r.status = answer["status"].asInt();
    if (answer["truncated"].asBool()) {
      throw Unavailable(method + " " + path + ": the answer was cut short at the host's limit");
    }
    const std::string body_text = answer["body"].asString();
    if (!body_text.empty()) {
      try {
        r.body = psa::json::parse(body_text);
      } catch (const std::exception&) {
        if (r.status >= 200 && r.status < 300) {
          throw Unavailable(method + " " + path + " answered " + status_text(r.status) +
                            " with a body that is not JSON");
        }
      }
    }
    if (r.status == 429) {
      int seconds = 0;
      for (auto it = answer["headers"].begin(); it != answer["headers"].end(); ++it) {
        if (lower(it.name()) != "retry-after" || !it->isString()) continue;
        const std::string v = it->asString();
        if (!v.empty() && v.size() <= 6 && v.find_first_not_of("0123456789") == std::string::npos)
          seconds = std::stoi(v);
      }
      throw Unavailable(failure(method, path, r), seconds);
    }
    if (r.status >= 500) throw Unavailable(failure(method, path, r));
    if (r.status == 401 || r.status == 403) {
      throw std::runtime_error(std::string(dialect_.system) + " refused the connection's " +
                               dialect_.credentials + " (" + std::to_string(r.status) + " on " +
                               method + " " + path + "): " + dialect_.check);
    }
    return r;
  }

  // GET one record: its body; nullopt when the PSA answers 404.
  std::optional<Json::Value> read(const std::string& path) const {
    const Reply r = call("GET", path);
    if (r.status == 404) return std::nullopt;
    if (r.status != 200 || !r.body.isObject()) throw std::runtime_error(failure("GET", path, r));
    return r.body;
  }

  // The body of a 2xx answer; anything else throws, naming the request and the answer.
  Json::Value expect_ok(const std::string& method, const std::string& path,
                        const Json::Value& body = Json::nullValue) const {
    const Reply r = call(method, path, body);
    if (r.status < 200 || r.status >= 300) throw std::runtime_error(failure(method, path, r));
    return r.body;
  }

  const psa::Host& host() const { return host_; }
  const std::string& tenant_id() const { return tenant_id_; }
  const Json::Value& connection() const { return connection_; }
  const Json::Value& settings() const { return connection_["settings"]; }
  std::string connection_id() const { return connection_["id"].asString(); }
  // The path of an API resource under the connection's base URL, as sync.push requests name it.
  std::string path(const std::string& resource) const { return prefix_ + resource; }

  // Our id of the object the PSA knows as external_id, when a change linked them.
  std::optional<std::string> linked_object(const std::string& type,
                                           const std::string& external_id) const {
    return connectors::linked_object(host_, tenant_id_, type, external_id);
  }
  // The PSA's id of one of our objects, when a change linked them.
  std::optional<std::string> linked_external(const std::string& type,
                                             const std::string& object_id) const {
    return connectors::linked_external(host_, tenant_id_, type, object_id);
  }

 protected:
  // The API's path under the connection's base URL, unless the base URL names it already.
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  static std::string status_text(int status) {
    return status > 0 ? std::to_string(status) : std::string("nothing");
  }
  std::string failure(const std::string& method, const std::string& path, const Reply& r) const {
    return method + " " + path + " answered " + status_text(r.status) + dialect_.detail(r);
  }

  const psa::Host& host_;
  std::string tenant_id_;
  Json::Value connection_;
  const PsaDialect& dialect_;
  std::string prefix_;
};

}  // namespace connectors
