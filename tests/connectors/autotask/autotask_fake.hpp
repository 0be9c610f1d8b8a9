// A fake Autotask zone for the connector's tests, on a local HTTPS receiver: the REST API at
// /ATServicesRest/V1.0 (Companies, Tickets and their Notes, TimeEntries, Resources, Contracts,
// queries, ThresholdInformation) behind the ApiIntegrationCode, UserName and Secret headers (401
// otherwise), and webhooks signed the way Autotask signs them: X-Hook-Signature: sha1= and the
// base64 HMAC-SHA1, under the webhook's secret key, of the body as Autotask serialises it for
// signing, with & < > ' " and every non-ASCII character written \uXXXX, while the body sent
// keeps them as they are. It keeps what it was sent, and can answer a planned failure, before
// or after doing what was asked.
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

class AutotaskFake {
 public:
  static constexpr const char* kApi = "/ATServicesRest/V1.0";
  static constexpr const char* kWebhookSecret = "at-webhook-secret-key-71c2";

  struct Webhook {
    std::string body;         // as sent
    std::string signed_form;  // as signed
  };

  AutotaskFake() : receiver_([this](const Received& r) { return answer(r); }) {}

  std::string base_url() const { return receiver_.origin(); }
  const std::filesystem::path& ca_file() const { return receiver_.ca_file(); }

  // The connection's credentials: Autotask's three API headers.
  static std::string credentials(const std::string& secret = "API-SECRET-55e1") {
    return R"({"type":"headers","headers":{"ApiIntegrationCode":"INTEGRATION-CODE-9d",)"
           R"("UserName":"api-user@acme.example","Secret":")" +
           secret + R"("}})";
  }

  // Records by entity path: "Companies", "Tickets", "TimeEntries", "Resources".
  void put(const std::string& entities, const Json::Value& record) {
    std::lock_guard lock(mutex_);
    records_[entities][record["id"].asInt64()] = record;
  }
  Json::Value get(const std::string& entities, int64_t id) const {
    std::lock_guard lock(mutex_);
    auto k = records_.find(entities);
    if (k == records_.end()) return Json::Value();
    auto it = k->second.find(id);
    return it == k->second.end() ? Json::Value() : it->second;
  }
  std::vector<Json::Value> all(const std::string& entities) const {
    std::lock_guard lock(mutex_);
    std::vector<Json::Value> out;
    auto k = records_.find(entities);
    if (k != records_.end()) {
      for (const auto& [id, r] : k->second) out.push_back(r);
    }
    return out;
  }
  std::vector<Json::Value> notes(int64_t ticket) const {
    std::vector<Json::Value> out;
    for (const auto& n : all("TicketNotes")) {
      if (n["ticketID"].asInt64() == ticket) out.push_back(n);
    }
    return out;
  }
  // Requests received with this method whose path (without the query) starts with prefix.
  std::size_t count(const std::string& method, const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& r : receiver_.received()) {
      const std::string path = r.target.substr(0, r.target.find('?'));
      if (r.method == method && path.rfind(std::string(kApi) + prefix, 0) == 0) ++n;
    }
    return n;
  }
  std::vector<Received> received() const { return receiver_.received(); }
  // How often a picklist (entityInformation/fields) was read.
  int field_reads() const {
    std::lock_guard lock(mutex_);
    return field_reads_;
  }
  // Queries answered for an entity path ("TimeEntries").
  int queries(const std::string& entities) const {
    std::lock_guard lock(mutex_);
    auto it = queries_.find(entities);
    return it == queries_.end() ? 0 : it->second;
  }
  void remove(const std::string& entities, int64_t id) {
    std::lock_guard lock(mutex_);
    records_[entities].erase(id);
  }

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
  // As fail_next and garble_next, for the next request whose body holds body_part only (one
  // query among the polls).
  void fail_next_with(const std::string& method, const std::string& prefix,
                      const std::string& body_part, int status, bool garbage = false) {
    std::lock_guard lock(mutex_);
    failures_.push_back({method, std::string(kApi) + prefix, status, false, garbage, body_part});
  }
  // Requests with this method and path prefix whose body holds body_part.
  std::size_t count_with(const std::string& method, const std::string& prefix,
                         const std::string& body_part) const {
    std::size_t n = 0;
    for (const auto& r : receiver_.received()) {
      const std::string path = r.target.substr(0, r.target.find('?'));
      if (r.method == method && path.rfind(std::string(kApi) + prefix, 0) == 0 &&
          r.body.find(body_part) != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

  static Webhook webhook(const std::string& action, const std::string& entity_type, int64_t id,
                         const Json::Value& fields, int64_t sequence, const std::string& guid) {
    Json::Value w;
    w["Action"] = action;
    w["Guid"] = guid;
    w["EntityType"] = entity_type;
    w["Id"] = static_cast<Json::Int64>(id);
    w["Fields"] = fields.isNull() ? Json::Value(Json::objectValue) : fields;
    w["EventTime"] = "2026-03-02T10:15:00.000Z";
    w["SequenceNumber"] = static_cast<Json::Int64>(sequence);
    w["PersonID"] = 29682885;
    std::string escaped;
    write_escaped(escaped, w);
    return {psa::json::write(w), escaped};
  }

  static std::map<std::string, std::string> signed_headers(
      const std::string& signed_form, const std::string& secret = kWebhookSecret) {
    return {{"x-hook-signature",
             "sha1=" + crypto::base64_encode(crypto::hmac_sha1(secret, signed_form))},
            {"content-type", "application/json"}};
  }

 private:
  struct Failure {
    std::string method, prefix;
    int status;
    bool after_applying;
    bool garbage;
    std::string body_part = {};  // only a request whose body holds this
  };

  // JSON as Autotask's serialiser writes what it signs: the characters HTML cares about and
  // everything beyond ASCII as \uXXXX (UTF-16 code units, upper-case hex).
  static void write_escaped(std::string& out, const Json::Value& v) {
    if (v.isObject()) {
      out += '{';
      bool first = true;
      for (const auto& name : v.getMemberNames()) {
        if (!first) out += ',';
        first = false;
        escape_string(out, name);
        out += ':';
        write_escaped(out, v[name]);
      }
      out += '}';
    } else if (v.isArray()) {
      out += '[';
      for (Json::ArrayIndex i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        write_escaped(out, v[i]);
      }
      out += ']';
    } else if (v.isString()) {
      escape_string(out, v.asString());
    } else {
      out += psa::json::write(v);
    }
  }

  static void unit(std::string& out, uint32_t u) {
    char buf[16];  // a code unit is at most 0xFFFF; room for any uint32_t all the same
    std::snprintf(buf, sizeof buf, "\\u%04X", u);
    out += buf;
  }

  static void escape_string(std::string& out, const std::string& s) {
    out += '"';
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '&' || c == '<' || c == '>' || c == '\'') {
        unit(out, c);
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20) {
        unit(out, c);
      } else if (c < 0x80) {
        out += static_cast<char>(c);
      } else {
        // UTF-8 -> code point -> UTF-16
        uint32_t cp = 0;
        int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
        cp = c & (n == 1 ? 0x1F : n == 2 ? 0x0F : 0x07);
        for (int k = 0; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
        if (cp >= 0x10000) {
          cp -= 0x10000;
          unit(out, 0xD800 + (cp >> 10));
          unit(out, 0xDC00 + (cp & 0x3FF));
        } else {
          unit(out, cp);
        }
      }
    }
    out += '"';
  }

  static http::Response error(int status, const std::string& message) {
    Json::Value e;
    e["errors"].append(message);
    return http::Response::json(status, e);
  }

  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  // A record's member by name, whatever its case, as Autotask's queries match them.
  static Json::Value member(const Json::Value& record, const std::string& name) {
    for (const auto& n : record.getMemberNames()) {
      if (lower(n) == lower(name)) return record[n];
    }
    return Json::Value();
  }
  // -1, 0 or 1; numbers by value, times (ISO 8601 text) as text; -2 when they do not compare.
  static int compare(const Json::Value& a, const Json::Value& b) {
    if (a.isNumeric() && b.isNumeric()) {
      return a.asInt64() < b.asInt64() ? -1 : a.asInt64() > b.asInt64() ? 1 : 0;
    }
    if (a.isString() && b.isString()) {
      const std::string x = a.asString().substr(0, 19), y = b.asString().substr(0, 19);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return -2;
  }
  // {Entity}/entityInformation/fields as the REST API answers it ("Finding resource and child
  // access URLs of REST API entities"): a picklist's values as text, with labels. This
  // instance's values; another instance may number them otherwise.
  static Json::Value fields_of(const std::string& entities) {
    const auto picklist = [](const char* name,
                             std::initializer_list<std::pair<const char*, const char*>> values) {
      Json::Value f;
      f["name"] = name;
      f["dataType"] = "integer";
      f["isPickList"] = true;
      f["isRequired"] = true;
      f["isReadOnly"] = false;
      f["picklistValues"] = Json::Value(Json::arrayValue);
      int order = 0;
      for (const auto& [value, label] : values) {
        Json::Value v;
        v["value"] = value;
        v["label"] = label;
        v["isDefaultValue"] = false;
        v["sortOrder"] = order++;
        v["parentValue"] = "";
        v["isActive"] = true;
        v["isSystem"] = true;
        f["picklistValues"].append(v);
      }
      return f;
    };
    Json::Value out;
    out["fields"] = Json::Value(Json::arrayValue);
    if (entities == "Companies") {
      out["fields"].append(picklist("companyType", {{"1", "Customer"},
                                                    {"2", "Lead"},
                                                    {"3", "Prospect"},
                                                    {"4", "Dead"},
                                                    {"6", "Cancellation"},
                                                    {"7", "Vendor"},
                                                    {"8", "Partner"}}));
    } else if (entities == "Tickets") {
      out["fields"].append(picklist(
          "status", {{"1", "New"}, {"5", "Complete"}, {"8", "In Progress"}, {"12", "Waiting"}}));
    } else if (entities == "Contracts") {
      out["fields"].append(picklist("contractType", {{"1", "Time and Materials"},
                                                     {"3", "Fixed Price"},
                                                     {"4", "Block Hours"},
                                                     {"6", "Retainer"},
                                                     {"7", "Recurring Service"},
                                                     {"8", "Per Ticket"}}));
    }
    return out;
  }
  static bool same(const Json::Value& a, const Json::Value& b) {
    if (a.isNumeric() && b.isNumeric()) return a.asInt64() == b.asInt64();
    return a.isString() && b.isString() && a.asString() == b.asString();
  }

  std::optional<http::Response> answer(const Received& r) {
    const std::string path = r.target.substr(0, r.target.find('?'));
    std::lock_guard lock(mutex_);
    if (r.header("apiintegrationcode") != "INTEGRATION-CODE-9d" ||
        r.header("username") != "api-user@acme.example" ||
        r.header("secret") != "API-SECRET-55e1") {
      return error(401, "User authentication failed");
    }
    std::optional<Failure> failure;
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->method == r.method && path.rfind(it->prefix, 0) == 0 &&
          r.body.find(it->body_part) != std::string::npos) {
        failure = *it;
        failures_.erase(it);
        break;
      }
    }
    if (failure && failure->garbage) {
      return http::Response::text(200, "<html><body>Bad gateway</body></html>", "text/html");
    }
    if (failure && failure->status == 429) {
      // Autotask's thresholds: 429 with the wait in Retry-After.
      http::Response busy = error(429, "request threshold exceeded");
      busy.headers.emplace_back("Retry-After", "1");
      return busy;
    }
    if (failure && !failure->after_applying) return error(failure->status, "planned failure");
    if (path.rfind(kApi, 0) != 0) return error(404, "not an Autotask REST path");
    http::Response response = route(r, path.substr(std::string(kApi).size()));
    if (failure) return error(failure->status, "planned failure after applying");
    return response;
  }

  static Json::Value item_id(int64_t id) {
    Json::Value v;
    v["itemId"] = static_cast<Json::Int64>(id);
    return v;
  }

  http::Response route(const Received& r, const std::string& path) {
    std::vector<std::string> segments;
    for (std::size_t at = 1; at < path.size();) {
      const auto end = path.find('/', at);
      segments.push_back(path.substr(at, end == std::string::npos ? end : end - at));
      if (end == std::string::npos) break;
      at = end + 1;
    }
    Json::Value body;
    if (!r.body.empty()) {
      try {
        body = json_of(r.body);
      } catch (const std::exception&) {
        return error(400, "the body is not JSON");
      }
    }
    if (segments.empty()) return error(404, "no entity");
    const std::string entities = segments[0];
    if (r.method == "GET" && entities == "ThresholdInformation") {
      Json::Value t;
      t["externalRequestThreshold"] = 10000;
      t["requestThresholdTimeframe"] = 60;
      t["currentTimeframeRequestCount"] = 12;
      return http::Response::json(200, t);
    }
    if (segments.size() == 3 && segments[1] == "entityInformation" && segments[2] == "fields" &&
        r.method == "GET") {
      ++field_reads_;
      return http::Response::json(200, fields_of(entities));
    }
    auto& records = records_[entities];
    if (segments.size() == 2 && segments[1] == "query" && r.method == "POST") {
      Json::Value out;
      out["items"] = Json::Value(Json::arrayValue);
      // Autotask answers at most MaxRecords (500 when not asked), in id order here.
      const Json::ArrayIndex max_records =
          body["MaxRecords"].isIntegral() ? body["MaxRecords"].asUInt() : 500;
      for (const auto& [id, record] : records) {
        bool match = true;
        for (const auto& condition : body["filter"]) {
          const std::string op = condition["op"].asString();
          const Json::Value value = member(record, condition["field"].asString());
          if (op == "eq") {
            match = match && same(value, condition["value"]);
          } else if (op == "gt" || op == "gte") {
            const int order = compare(value, condition["value"]);
            match = match && (order > 0 || (op == "gte" && order == 0));
          } else {
            return error(500, "unsupported op");
          }
        }
        if (match && out["items"].size() < max_records) out["items"].append(record);
      }
      ++queries_[entities];
      out["pageDetails"]["count"] = out["items"].size();
      out["pageDetails"]["requestCount"] = max_records;
      out["pageDetails"]["prevPageUrl"] = Json::nullValue;
      out["pageDetails"]["nextPageUrl"] = Json::nullValue;
      return http::Response::json(200, out);
    }
    if (segments.size() == 2 && r.method == "GET") {
      auto it = records.find(std::stoll(segments[1]));
      Json::Value out;
      out["item"] = it == records.end() ? Json::Value() : it->second;
      return http::Response::json(200, out);
    }
    if (segments.size() == 1 && r.method == "PATCH") {
      auto it = records.find(body["id"].asInt64());
      if (it == records.end())
        return error(500, "no " + entities + " with id " + body["id"].asString());
      for (const auto& name : body.getMemberNames()) it->second[name] = body[name];
      return http::Response::json(200, item_id(it->first));
    }
    if (segments.size() == 1 && entities == "Contracts" && r.method == "POST") {
      for (const char* f : {"contractName", "companyID", "contractType", "status", "startDate",
                            "endDate", "timeReportingRequiresStartAndStopTimes"}) {
        if (!body.isMember(f)) return error(500, std::string(f) + " is required");
      }
      Json::Value c = body;
      c["id"] = static_cast<Json::Int64>(next_id_++);
      records[c["id"].asInt64()] = c;
      return http::Response::json(200, item_id(c["id"].asInt64()));
    }
    if (segments.size() == 3 && entities == "Tickets" && segments[2] == "Notes" &&
        r.method == "POST") {
      const int64_t ticket = std::stoll(segments[1]);
      if (!records.count(ticket)) return error(404, "no ticket " + segments[1]);
      for (const char* f : {"ticketID", "description", "noteType", "publish"}) {
        if (!body.isMember(f)) return error(500, std::string(f) + " is required");
      }
      Json::Value n = body;
      n["id"] = static_cast<Json::Int64>(next_id_++);
      records_["TicketNotes"][n["id"].asInt64()] = n;
      return http::Response::json(200, item_id(n["id"].asInt64()));
    }
    return error(404, r.method + " " + path + " is not served by this fake");
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::map<int64_t, Json::Value>> records_;
  std::map<std::string, int> queries_;
  int field_reads_ = 0;
  std::deque<Failure> failures_;
  int64_t next_id_ = 30000001;
  Receiver receiver_;  // last: it stops answering before the state it reads goes away
};

}  // namespace psahost::test
