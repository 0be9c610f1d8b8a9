// A fake ConnectWise PSA site for the connector's tests, on a local HTTPS receiver: the REST API
// at /v4_6_release/apis/3.0 (companies, service tickets and their notes, time entries,
// agreements, system info) behind the API member's Basic keys and the clientId header (401
// otherwise), the callback signing key at a key_url, and callbacks signed the way ConnectWise
// signs them: x-content-signature = base64(HMAC-SHA256(SHA-256(signing key), body)). It keeps
// what it was sent, and can answer a planned failure, before or after doing what was asked.
#pragma once

#include "core/crypto.hpp"
#include "http/message.hpp"
#include "support/receiver.hpp"
#include "support/webhooks.hpp"

#include <json/value.h>
#include <psa/sdk.hpp>

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace psahost::test {

class ConnectWiseFake {
 public:
  static constexpr const char* kApi = "/v4_6_release/apis/3.0";
  static constexpr const char* kSigningKey = "cw-callback-signing-key-3f9a";

  ConnectWiseFake() : receiver_([this](const Received& r) { return answer(r); }) {}

  std::string base_url() const { return receiver_.origin(); }
  const std::filesystem::path& ca_file() const { return receiver_.ca_file(); }
  std::string key_url() const { return base_url() + kApi + "/system/callbackentry/key/7"; }

  // The connection's credentials: the API member "acme+PUBKEY" / "PRIVKEY" and the clientId.
  static std::string credentials(const std::string& private_key = "PRIVKEY-8c1d") {
    return R"({"type":"basic","username":"acme+PUBKEY-41aa","password":")" + private_key +
           R"(","headers":{"clientId":"6f2e5b2c-client-id"}})";
  }

  // Records, by kind: "companies", "tickets", "entries".
  void put(const std::string& kind, const Json::Value& record) {
    std::lock_guard lock(mutex_);
    records_[kind][record["id"].asString()] = record;
  }
  Json::Value get(const std::string& kind, const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto k = records_.find(kind);
    if (k == records_.end()) return Json::Value();
    auto it = k->second.find(id);
    return it == k->second.end() ? Json::Value() : it->second;
  }
  std::vector<Json::Value> notes(const std::string& ticket) const {
    std::lock_guard lock(mutex_);
    auto it = notes_.find(ticket);
    return it == notes_.end() ? std::vector<Json::Value>{} : it->second;
  }
  std::vector<Json::Value> agreements() const {
    std::lock_guard lock(mutex_);
    std::vector<Json::Value> out;
    for (const auto& [id, a] : agreements_) out.push_back(a);
    return out;
  }
  int key_fetches() const {
    std::lock_guard lock(mutex_);
    return key_fetches_;
  }
  // Requests received with this method whose path (without the query) starts with prefix.
  std::size_t count(const std::string& method, const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& r : receiver_.received()) {
      if (r.method == method && path_of(r.target).rfind(std::string(kApi) + prefix, 0) == 0) ++n;
    }
    return n;
  }
  std::vector<Received> received() const { return receiver_.received(); }

  // The next request with this method and path prefix is answered status; after_applying, it
  // first takes effect (the answer is lost on the way, as a timeout would lose it).
  void fail_next(const std::string& method, const std::string& prefix, int status,
                 bool after_applying = false) {
    std::lock_guard lock(mutex_);
    failures_.push_back({method, std::string(kApi) + prefix, status, after_applying, false});
  }
  // The next request with this method and path prefix is answered 200 with an HTML page, as a
  // proxy in front of the site might answer.
  void garble_next(const std::string& method, const std::string& prefix) {
    std::lock_guard lock(mutex_);
    failures_.push_back({method, std::string(kApi) + prefix, 200, false, true});
  }

  // A callback about record as ConnectWise posts it: the record as a JSON string in Entity.
  std::string callback(const std::string& type, const std::string& action,
                       const Json::Value& record, const std::string& message_id,
                       const std::string& key_url = "") const {
    Json::Value c;
    c["MessageId"] = message_id;
    c["FromUrl"] = base_url();
    c["CompanyId"] = "acme";
    c["MemberId"] = "dispatch";
    c["Action"] = action;
    c["Type"] = type;
    c["ID"] = record["id"];
    c["Entity"] = record.isNull() ? std::string() : psa::json::write(record);
    c["Metadata"]["key_url"] = key_url.empty() ? this->key_url() : key_url;
    return psa::json::write(c);
  }

  static std::map<std::string, std::string> signed_headers(const std::string& body,
                                                           const std::string& key = kSigningKey) {
    return {{"x-content-signature",
             crypto::base64_encode(crypto::hmac_sha256(crypto::sha256(key), body))},
            {"content-type", "application/json"}};
  }

 private:
  struct Failure {
    std::string method, prefix;
    int status;
    bool after_applying;
    bool garbage;
  };

  static std::string path_of(const std::string& target) {
    return target.substr(0, target.find('?'));
  }
  static std::string query_of(const std::string& target) {
    const auto q = target.find('?');
    return q == std::string::npos ? "" : target.substr(q + 1);
  }
  static http::Response error(int status, const std::string& code, const std::string& message) {
    Json::Value e;
    e["code"] = code;
    e["message"] = message;
    return http::Response::json(status, e);
  }
  static void apply_patch(Json::Value& record, const Json::Value& ops) {
    for (const auto& op : ops) {
      std::string field = op["path"].asString();
      if (!field.empty() && field[0] == '/') field.erase(0, 1);
      if (op["op"].asString() == "replace" || op["op"].asString() == "add") {
        record[field] = op["value"];
      }
    }
  }

  std::optional<http::Response> answer(const Received& r) {
    const std::string path = path_of(r.target);
    std::lock_guard lock(mutex_);
    if (path.rfind(std::string(kApi) + "/system/callbackentry/key/", 0) == 0) {
      ++key_fetches_;
      Json::Value k;
      k["signing_key"] = kSigningKey;
      return http::Response::json(200, k);
    }
    const std::string basic = "Basic " + crypto::base64_encode("acme+PUBKEY-41aa:PRIVKEY-8c1d");
    if (r.header("authorization") != basic || r.header("clientid") != "6f2e5b2c-client-id") {
      return error(401, "Unauthorized", "The API member's keys or the clientId are not valid");
    }
    std::optional<Failure> failure;
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->method == r.method && path.rfind(it->prefix, 0) == 0) {
        failure = *it;
        failures_.erase(it);
        break;
      }
    }
    if (failure && failure->garbage) {
      return http::Response::text(200, "<html><body>Bad gateway</body></html>", "text/html");
    }
    if (failure && !failure->after_applying) {
      return error(failure->status, "ServerError", "planned failure");
    }
    http::Response response = route(r, path.substr(std::string(kApi).size()));
    if (failure) return error(failure->status, "ServerError", "planned failure after applying");
    return response;
  }

  http::Response route(const Received& r, const std::string& path) {
    const auto segments = split(path);
    Json::Value body;
    if (!r.body.empty()) {
      try {
        body = json_of(r.body);
      } catch (const std::exception&) {
        return error(400, "InvalidObject", "the body is not JSON");
      }
    }
    if (r.method == "GET" && path == "/system/info") {
      Json::Value info;
      info["version"] = "v2025.1.10431";
      info["isCloud"] = true;
      info["serverTimeZone"] = "Eastern Standard Time";
      return http::Response::json(200, info);
    }
    // /company/companies/{id}, /service/tickets/{id}, /time/entries/{id}
    static const std::map<std::string, std::string> kKinds = {{"/company/companies", "companies"},
                                                              {"/service/tickets", "tickets"},
                                                              {"/time/entries", "entries"}};
    if (segments.size() == 3) {
      auto kind = kKinds.find("/" + segments[0] + "/" + segments[1]);
      if (kind != kKinds.end()) {
        auto& records = records_[kind->second];
        auto it = records.find(segments[2]);
        if (it == records.end()) return error(404, "NotFound", "no such record");
        if (r.method == "GET") return http::Response::json(200, it->second);
        if (r.method == "PATCH") {
          if (!body.isArray()) return error(400, "InvalidObject", "a PATCH takes a JSON Patch");
          apply_patch(it->second, body);
          return http::Response::json(200, it->second);
        }
      }
    }
    // /service/tickets/{id}/notes
    if (segments.size() == 4 && segments[0] == "service" && segments[1] == "tickets" &&
        segments[3] == "notes") {
      if (!records_["tickets"].count(segments[2])) return error(404, "NotFound", "no such ticket");
      auto& notes = notes_[segments[2]];
      if (r.method == "GET") {
        Json::Value list(Json::arrayValue);
        for (const auto& n : notes) list.append(n);
        return http::Response::json(200, list);
      }
      if (r.method == "POST") {
        if (!body["text"].isString() || body["text"].asString().empty()) {
          return error(400, "InvalidObject", "text is required");
        }
        Json::Value note = body;
        note["id"] = next_id_++;
        note["ticketId"] = std::stoi(segments[2]);
        notes.push_back(note);
        return http::Response::json(201, note);
      }
    }
    if (path == "/finance/agreements" && r.method == "GET") {
      // Only the condition the connector sends: customerPO="<reference>".
      const std::string conditions =
          http::percent_decode(query_param(r.target, "conditions"), true);
      const std::string prefix = "customerPO=\"";
      Json::Value list(Json::arrayValue);
      if (conditions.rfind(prefix, 0) == 0 && conditions.back() == '"') {
        const std::string wanted =
            conditions.substr(prefix.size(), conditions.size() - prefix.size() - 1);
        for (const auto& [id, a] : agreements_) {
          if (a["customerPO"].asString() == wanted) list.append(a);
        }
      } else if (!conditions.empty()) {
        return error(400, "InvalidCondition", "unsupported conditions: " + conditions);
      }
      return http::Response::json(200, list);
    }
    if (path == "/finance/agreements" && r.method == "POST") {
      for (const char* required : {"name", "type", "company", "contact"}) {
        if (!body.isMember(required)) {
          return error(400, "InvalidObject", std::string(required) + " is required");
        }
      }
      if (!body["company"]["id"].isIntegral() || !body["contact"]["id"].isIntegral()) {
        return error(400, "InvalidObject", "company and contact need an id");
      }
      Json::Value a = body;
      a["id"] = next_id_++;
      agreements_[a["id"].asInt()] = a;
      return http::Response::json(201, a);
    }
    if (segments.size() == 3 && segments[0] == "finance" && segments[1] == "agreements" &&
        r.method == "PATCH") {
      auto it = agreements_.find(std::stoi(segments[2]));
      if (it == agreements_.end()) return error(404, "NotFound", "no such agreement");
      apply_patch(it->second, body);
      return http::Response::json(200, it->second);
    }
    return error(404, "NotFound", r.method + " " + path + " is not served by this fake");
  }

  static std::string query_param(const std::string& target, const std::string& name) {
    const std::string query = query_of(target);
    std::size_t at = 0;
    while (at <= query.size()) {
      const auto end = query.find('&', at);
      const std::string pair = query.substr(at, end == std::string::npos ? end : end - at);
      if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
      if (end == std::string::npos) break;
      at = end + 1;
    }
    return "";
  }

  static std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    std::size_t at = 1;
    while (at < path.size()) {
      const auto end = path.find('/', at);
      out.push_back(path.substr(at, end == std::string::npos ? end : end - at));
      if (end == std::string::npos) break;
      at = end + 1;
    }
    return out;
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::string, Json::Value>> records_;
  std::map<std::string, std::vector<Json::Value>> notes_;
  std::map<int, Json::Value> agreements_;
  std::deque<Failure> failures_;
  int key_fetches_ = 0;
  int next_id_ = 9001;
  Receiver receiver_;  // last: it stops answering before the state it reads goes away
};

}  // namespace psahost::test
