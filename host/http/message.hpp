// The HTTP request and response as the host's handlers see them: plain values, no Beast types,
// so that only the server's own translation unit pays for Beast's compile time.
#pragma once

#include <json/value.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace psahost::http {

struct Request {
  std::string method;  // upper case: GET, POST, ...
  std::string target;  // as received: path and query
  std::string path;   // path without the query, still percent-encoded (the router decodes segments)
  std::string query;  // raw query string, without '?'
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote;  // peer address, for logs

  // Header value by lower-case name, or nullopt.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // A query parameter (percent-decoded), or nullopt.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // ask the server to close the connection after this response

  static Response json(int status, const Json::Value& body);
  static Response text(int status, std::string body, std::string content_type = "text/plain");
  static Response empty(int status);
};

// The prefix of every problem type; a problem's `type` is this plus a stable slug.
inline constexpr std::string_view kProblemTypePrefix = "urn:psahost:problem:";

// An RFC 9457 problem: application/problem+json with a stable type slug
// ("not-found", "billing-info-required", ...). extra members are merged into the body.
Response problem(int status, std::string_view slug, std::string_view title,
                 std::string_view detail = {}, const Json::Value& extra = Json::nullValue);

// Decodes %XX escapes (and '+' as space when asked, for query strings).
std::string percent_decode(std::string_view in, bool plus_is_space);

// Completes an asynchronous request; may be called from any thread, exactly once.
using Responder = std::function<void(Response)>;

}  // namespace psahost::http
