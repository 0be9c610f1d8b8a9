// docs/openapi.json against the host itself: the document parses, and the routes it describes
// are exactly the routes the real route table registers (built here as `psahost serve` builds
// it, on a real store), every $ref resolves, and every /v1 operation says how it is secured.
#include <json/reader.h>
#include <json/value.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "admission/pipeline.hpp"
#include "api/context.hpp"
#include "auth/tokens.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"
#include "support/process.hpp"

namespace {

namespace api = psahost::api;

const std::vector<std::string> kMethods = {"get",     "put",  "post",  "delete",
                                           "options", "head", "patch", "trace"};

std::string document_path() {
  return std::string(PSAHOST_SOURCE_DIR) + "/docs/openapi.json";
}

// The document, read strictly: duplicate keys, comments and trailing data are errors.
Json::Value load_document() {
  std::ifstream in(document_path(), std::ios::binary);
  INFO("reading " << document_path());
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();

  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);
  builder["rejectDupKeys"] = true;
  builder["failIfExtra"] = true;
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value doc;
  std::string errors;
  const bool parsed = reader->parse(s.data(), s.data() + s.size(), &doc, &errors);
  INFO(errors);
  REQUIRE(parsed);
  REQUIRE(doc.isObject());
  return doc;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_method(const std::string& key) {
  return std::find(kMethods.begin(), kMethods.end(), key) != kMethods.end();
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "  " + line + "\n";
  return out;
}

// The route table of `psahost serve` (host/app/app.cpp), on a real SQLite store in a fresh
// directory, with no plugins loaded. Members are destroyed in reverse order: router first.
class RealRoutes {
 public:
  RealRoutes()
      : log_(psahost::LogLevel::error),
        store_(psahost::store::Store::open_sqlite({dir_.path() / "t.db"}, log_)),
        tokens_(*store_),
        registry_({dir_.path() / "plugin-cache", false, {}},
                  psahost::plugins::PluginEnv{calls_, store_.get(), log_, &metrics_}),
        pipeline_(registry_, log_),
        ctx_{*store_,   registry_, pipeline_, tokens_, metrics_, log_, ready_,
             draining_, {},        secrets_,  nullptr, nullptr,  {},   {}} {
    api::add_all_routes(router_, ctx_);
  }

  // (lower-case method, pattern) of every registered route.
  std::set<std::pair<std::string, std::string>> routes() const {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& [method, pattern] : router_.routes()) out.emplace(lower(method), pattern);
    return out;
  }

 private:
  psahost::test::TempDir dir_;
  psahost::Logger log_;
  psahost::Metrics metrics_;
  std::unique_ptr<psahost::store::Store> store_;
  psahost::auth::Tokens tokens_;
  psahost::plugins::HostCalls calls_;
  psahost::plugins::PluginRegistry registry_;
  psahost::admission::Pipeline pipeline_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  psahost::crypto::SecretBox secrets_{std::string(32, 's')};
  api::ApiContext ctx_;
  psahost::http::Router router_;
};

// (method, path) of every operation the document describes.
std::set<std::pair<std::string, std::string>> documented(const Json::Value& doc) {
  std::set<std::pair<std::string, std::string>> out;
  const Json::Value& paths = doc["paths"];
  for (const auto& path : paths.getMemberNames()) {
    for (const auto& key : paths[path].getMemberNames()) {
      if (is_method(key)) out.emplace(key, path);
    }
  }
  return out;
}

// Resolves a local reference ("#/components/schemas/Client"); nullptr when it does not.
const Json::Value* resolve(const Json::Value& doc, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  const Json::Value* at = &doc;
  std::string rest = ref.substr(2);
  while (true) {
    const auto slash = rest.find('/');
    std::string token = rest.substr(0, slash);
    // JSON Pointer escapes (RFC 6901): ~1 is '/', ~0 is '~', in that order.
    for (std::size_t i; (i = token.find("~1")) != std::string::npos;) token.replace(i, 2, "/");
    for (std::size_t i; (i = token.find("~0")) != std::string::npos;) token.replace(i, 2, "~");
    if (at->isObject()) {
      if (!at->isMember(token)) return nullptr;
      at = &(*at)[token];
    } else if (at->isArray()) {
      if (token.empty() ||
          !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return nullptr;
      const auto index = static_cast<Json::ArrayIndex>(std::stoul(token));
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
    if (slash == std::string::npos) return at;
    rest = rest.substr(slash + 1);
  }
}

// Calls visit(ref, where) for every "$ref" in value; where is a readable location.
void each_ref(const Json::Value& value, const std::string& where,
              const std::function<void(const Json::Value&, const std::string&)>& visit) {
  if (value.isObject()) {
    if (value.isMember("$ref")) visit(value["$ref"], where);
    for (const auto& key : value.getMemberNames()) each_ref(value[key], where + "/" + key, visit);
  } else if (value.isArray()) {
    for (Json::ArrayIndex i = 0; i < value.size(); ++i) {
      each_ref(value[i], where + "/" + std::to_string(i), visit);
    }
  }
}

// A parameter object, following its $ref when it has one.
const Json::Value& deref(const Json::Value& doc, const Json::Value& value) {
  if (value.isObject() && value["$ref"].isString()) {
    if (const Json::Value* target = resolve(doc, value["$ref"].asString())) return *target;
  }
  return value;
}

}  // namespace

TEST_CASE("docs/openapi.json parses strictly as an OpenAPI 3.1 document", "[openapi]") {
  const Json::Value doc = load_document();
  REQUIRE(doc["openapi"].isString());
  CHECK(doc["openapi"].asString().rfind("3.1.", 0) == 0);
  REQUIRE(doc["info"].isObject());
  CHECK(doc["info"]["title"].isString());
  CHECK(doc["info"]["version"].isString());
  REQUIRE(doc["paths"].isObject());
  CHECK(doc["paths"].size() > 0);
  REQUIRE(doc["components"].isObject());
  CHECK(doc["components"]["schemas"].isObject());
  REQUIRE(doc["components"]["securitySchemes"]["bearer"].isObject());
  CHECK(doc["components"]["securitySchemes"]["bearer"]["type"].asString() == "http");
  CHECK(lower(doc["components"]["securitySchemes"]["bearer"]["scheme"].asString()) == "bearer");
}

TEST_CASE("The OpenAPI paths and the registered routes are the same set", "[openapi]") {
  const Json::Value doc = load_document();
  const RealRoutes real;
  const auto registered = real.routes();
  const auto described = documented(doc);
  // A guard against comparing two empty sets: the router lists what it holds.
  REQUIRE(registered.count({"get", "/healthz"}) == 1);
  REQUIRE(registered.count({"post", "/v1/admission"}) == 1);

  std::vector<std::string> mismatches;
  for (const auto& [method, pattern] : registered) {
    if (!described.count({method, pattern})) {
      mismatches.push_back(method + " " + pattern + ": registered but not in docs/openapi.json");
    }
  }
  for (const auto& [method, path] : described) {
    if (!registered.count({method, path})) {
      mismatches.push_back(method + " " + path + ": in docs/openapi.json but no such route");
    }
  }
  if (!mismatches.empty()) {
    FAIL(std::to_string(mismatches.size()) + " mismatch(es) between the router and " +
         document_path() + ":\n" + join_lines(mismatches));
  }
}

TEST_CASE("Every $ref in the OpenAPI document resolves inside it", "[openapi]") {
  const Json::Value doc = load_document();
  std::vector<std::string> broken;
  std::size_t refs = 0;
  each_ref(doc, "#", [&](const Json::Value& ref, const std::string& where) {
    ++refs;
    if (!ref.isString()) {
      broken.push_back(where + ": $ref is not a string");
    } else if (!resolve(doc, ref.asString())) {
      broken.push_back(where + ": " + ref.asString() + " does not resolve");
    }
  });
  CHECK(refs > 0);
  if (!broken.empty()) FAIL("unresolved references:\n" + join_lines(broken));
}

TEST_CASE("Every /v1 operation needs a bearer token and answers 401", "[openapi]") {
  const Json::Value doc = load_document();
  std::vector<std::string> problems;
  const Json::Value& paths = doc["paths"];
  for (const auto& path : paths.getMemberNames()) {
    for (const auto& method : paths[path].getMemberNames()) {
      if (!is_method(method)) continue;
      const Json::Value& op = paths[path][method];
      const std::string name = method + " " + path;
      if (path.rfind("/v1/", 0) == 0) {
        const Json::Value& security = op["security"];
        const bool bearer = security.isArray() &&
                            std::any_of(security.begin(), security.end(), [](const Json::Value& s) {
                              return s.isObject() && s.isMember("bearer");
                            });
        if (!bearer) problems.push_back(name + ": no bearer security requirement");
        if (!op["responses"].isMember("401")) problems.push_back(name + ": no 401 response");
      }
      if (op.isMember("requestBody")) {
        for (const char* status : {"400", "422"}) {
          if (!op["responses"].isMember(status)) {
            problems.push_back(name + ": has a request body but no " + status + " response");
          }
        }
      }
    }
  }
  if (!problems.empty()) FAIL(join_lines(problems));
}

TEST_CASE("Every path template parameter is declared as a required path parameter", "[openapi]") {
  const Json::Value doc = load_document();
  std::vector<std::string> problems;
  const Json::Value& paths = doc["paths"];
  for (const auto& path : paths.getMemberNames()) {
    std::vector<std::string> names;
    for (std::size_t open = path.find('{'); open != std::string::npos;
         open = path.find('{', open + 1)) {
      names.push_back(path.substr(open + 1, path.find('}', open) - open - 1));
    }
    for (const auto& method : paths[path].getMemberNames()) {
      if (!is_method(method)) continue;
      std::vector<const Json::Value*> params;
      for (const auto* list : {&paths[path]["parameters"], &paths[path][method]["parameters"]}) {
        for (const auto& p : *list) params.push_back(&deref(doc, p));
      }
      for (const auto& name : names) {
        const bool declared = std::any_of(params.begin(), params.end(), [&](const auto* p) {
          return (*p)["in"].asString() == "path" && (*p)["name"].asString() == name &&
                 (*p)["required"].asBool();
        });
        if (!declared) problems.push_back(method + " " + path + ": {" + name + "} not declared");
      }
    }
  }
  if (!problems.empty()) FAIL(join_lines(problems));
}
