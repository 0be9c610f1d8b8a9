// QuickBooks Online's accounting API as the connector reaches it: every request goes through the
// host's http.request (which adds the connection's OAuth2 token), asks for JSON (QuickBooks
// answers XML otherwise) and names the minor version; Fault documents become errors.
#pragma once

#include <psa/sdk.hpp>

#include "accounting.hpp"

#include <optional>
#include <string>

namespace quickbooks {

inline constexpr const char* kDefaultBaseUrl = "https://quickbooks.api.intuit.com";
inline constexpr const char* kMinorVersion = "75";

using connectors::Answer;

// The first error of a Fault document ({"Fault":{"Error":[{"Message","Detail","code"}]}}).
struct Fault {
  std::string code, message, detail;
  bool empty() const { return code.empty() && message.empty(); }
  std::string text() const;  // "Duplicate Document Number Error (6140): ..."
};
Fault fault_of(const Json::Value& body);

// QuickBooks refuses a DocNumber already used (6140, "Duplicate Document Number Error").
bool is_duplicate_number(const Answer& answer);

class Api {
 public:
  // request: the hook's request, for its tenant_id and connection (base_url, settings).
  Api(const psa::Host& host, const Json::Value& request);

  // The company's realm id from the connection's settings; throws when it is not set.
  const std::string& realm() const;
  // base/v3/company/{realm}/{rest} with the minor version added to its query.
  std::string company_url(const std::string& rest) const;

  Answer get(const std::string& url) const;
  Answer post(const std::string& url, const std::string& body) const;

  // The record (the entity member of the answer), or nullopt when QuickBooks has none with that
  // id (404, or its Fault 610 "Object Not Found"). entity is the path's lower-case name.
  std::optional<Json::Value> read(const std::string& entity, const std::string& id) const;
  // The records a query finds (QueryResponse's array for entity; empty when none).
  Json::Value query(const std::string& entity, const std::string& statement) const;

  // Throws a std::runtime_error that says what was asked and what QuickBooks answered.
  [[noreturn]] static void fail(const std::string& what, const Answer& answer);

 private:
  Answer send(const std::string& method, const std::string& url, const std::string& body) const;

  const psa::Host& host_;
  std::string tenant_id_, connection_id_, base_url_, realm_;
};

// A value for a query's single-quoted string: quotes and backslashes escaped.
std::string quoted(const std::string& text);

}  // namespace quickbooks
