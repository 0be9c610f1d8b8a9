#include "delivery/connector_http.hpp"

#include "core/log.hpp"
#include "plugins/registry.hpp"

#include <psa/sdk.hpp>

#include <algorithm>

namespace psahost::delivery {

bool may_reach(const webhooks::Connection& connection, const plugins::Manifest& manifest,
               const std::string& url) {
  const std::string origin = webhooks::origin_of(url);
  if (origin.empty()) return false;
  if (!connection.base_url.empty() && origin == webhooks::origin_of(connection.base_url)) {
    return true;
  }
  return std::find(manifest.network.begin(), manifest.network.end(), origin) !=
         manifest.network.end();
}

std::string request_url(const Json::Value& request, const webhooks::Connection& connection,
                        std::string* problem) {
  if (request["url"].isString() && !request["url"].asString().empty()) {
    return request["url"].asString();
  }
  if (request["path"].isString() && request["path"].asString().starts_with("/")) {
    if (connection.base_url.empty()) {
      *problem = "path needs the connection's base URL, which is not set";
      return "";
    }
    std::string base = connection.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + request["path"].asString();
  }
  *problem = "a request needs an absolute url or a path starting with /";
  return "";
}

void register_connector_http(plugins::HostCalls& calls, webhooks::Connections& connections,
                             const plugins::PluginRegistry& plugins, net::HttpsClient& client,
                             ConnectionAuth& auth, Logger& log) {
  calls.add(
      "http.request", "",
      [&, &log = log](const plugins::CallerInfo& caller, const Json::Value& request) {
        const auto fail = [](int32_t code, const std::string& message) {
          return plugins::CallResult::error(code, message);
        };
        const std::string tenant = request["tenant_id"].asString();
        const std::string connection_id = request["connection_id"].asString();
        const auto connection = connections.get(tenant, connection_id);
        // A connector uses its own connections only: another's credentials are not its to send.
        if (!connection || connection->connector != caller.plugin_id) {
          return fail(PSA_NOT_FOUND, "no connection " + connection_id + " of this connector");
        }
        const auto manifest = plugins.manifest_of(caller.plugin_id);
        if (!manifest) return fail(PSA_ERROR, "the connector's manifest is unknown");
        std::string problem;
        const std::string url = request_url(request, *connection, &problem);
        if (url.empty()) return fail(PSA_INVALID_ARGUMENT, problem);
        if (!may_reach(*connection, *manifest, url)) {
          return fail(PSA_DENIED,
                      "the url's origin is neither the connection's site nor in the manifest's "
                      "network list");
        }
        net::OutboundRequest out;
        out.method = request.get("method", "GET").asString();
        out.url = url;
        const Json::Value& headers = request["headers"];
        if (!headers.isNull() && !headers.isObject()) {
          return fail(PSA_INVALID_ARGUMENT, "headers must be an object of strings");
        }
        for (const auto& name : headers.getMemberNames()) {
          if (!headers[name].isString()) {
            return fail(PSA_INVALID_ARGUMENT, "header " + name + " must be a string");
          }
          out.headers.push_back({name, headers[name].asString()});
        }
        const Json::Value& body = request["body"];
        if (body.isObject() || body.isArray()) {
          out.body = psa::json::write(body);
          if (!headers.isMember("content-type") && !headers.isMember("Content-Type")) {
            out.headers.push_back({"Content-Type", "application/json"});
          }
        } else if (body.isString()) {
          out.body = body.asString();
        } else if (!body.isNull()) {
          return fail(PSA_INVALID_ARGUMENT, "body must be a string, an object or an array");
        }
        if (request["timeout_ms"].isIntegral()) {
          out.timeout = std::chrono::milliseconds(
              std::clamp<int64_t>(request["timeout_ms"].asInt64(), 100, 60'000));
        }
        try {
          for (auto& h : auth.headers(*connection)) out.headers.push_back(std::move(h));
        } catch (const std::exception& e) {
          return fail(PSA_ERROR, std::string("could not authenticate: ") + e.what());
        }
        const auto r = client.send(std::move(out));
        if (r.status == 401) auth.invalidate(connection->id);
        if (!r.ok() && r.status == 0) {
          Json::Value f;
          f["connection"] = connection->name;
          f["error"] = std::string(net::to_string(r.failure));
          log.warn("a connector's request to its system failed", f);
          return fail(PSA_ERROR, "the request failed: " + std::string(net::to_string(r.failure)) +
                                     " (" + r.error + ")");
        }
        Json::Value answer;
        answer["status"] = r.status;
        answer["body"] = r.body;
        answer["truncated"] = r.truncated;
        answer["headers"] = Json::Value(Json::objectValue);
        for (const auto& h : r.headers) answer["headers"][h.name] = h.value;
        return plugins::CallResult::ok(answer);
      });
}

}  // namespace psahost::delivery
