// Xero's accounting API as the connector reaches it: every request goes through the host's
// http.request (which adds the connection's OAuth2 token) with the organisation's Xero-tenant-id
// from the connection's settings; validation errors and problem documents become errors.
#pragma once

#include <psa/sdk.hpp>

#include "accounting.hpp"

#include <optional>
#include <string>

namespace xero {

inline constexpr const char* kDefaultBaseUrl = "https://api.xero.com";

using connectors::Answer;

// What an error answer says: the validation messages of a ValidationException, else its
// Message or a problem document's Detail, else the start of the body.
std::string error_text(const Answer& answer);

// Xero refuses an InvoiceNumber another invoice has ("Invoice # must be unique.").
bool is_duplicate_number(const Answer& answer);

using connectors::answer_of;

class Api {
 public:
  // request: the hook's request, for its tenant_id and connection (base_url, settings).
  Api(const psa::Host& host, const Json::Value& request);

  // The organisation's tenant id from the connection's settings; throws when it is not set.
  const std::string& organisation() const;
  // base/api.xro/2.0/{rest}
  std::string url(const std::string& rest) const;
  // The headers every request to the organisation needs.
  Json::Value headers() const;

  Answer get(const std::string& url) const;
  Answer put(const std::string& url, const std::string& body,
             const std::string& idempotency_key) const;

  // The record of a collection ("Invoices", "Contacts") by its id, or nullopt when Xero has
  // none (404).
  std::optional<Json::Value> read(const std::string& collection, const std::string& id) const;
  // The records a GET of a collection with a query answers (its array; empty when none).
  Json::Value list(const std::string& collection, const std::string& query) const;

  // Throws a std::runtime_error that says what was asked and what Xero answered.
  [[noreturn]] static void fail(const std::string& what, const Answer& answer);

 private:
  Answer send(const std::string& method, const std::string& url, const std::string& body,
              const std::string& idempotency_key) const;

  const psa::Host& host_;
  std::string tenant_id_, connection_id_, base_url_, organisation_;
};

// A value for a where clause's double-quoted string.
std::string quoted(const std::string& text);

}  // namespace xero
