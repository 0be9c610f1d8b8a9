// What the accounting connectors' tests share: a psahost that trusts a fake system's
// certificate and retries quickly, signed webhooks and the inbox entries they became, invoices
// issued through the API, and the deliveries that pushed them.
#pragma once

#include "support/api_session.hpp"
#include "support/receiver.hpp"

#include <json/value.h>

#include <map>
#include <string>
#include <vector>

namespace psahost::test {

// serve's arguments: trust the fake, retry deliveries and webhooks within moments, time a
// request out after 3 s; extra may give its own value for any of these.
std::vector<std::string> accounting_serve_args(const Receiver& fake,
                                               const std::vector<std::string>& extra = {});

// Posts a webhook to /webhooks/{connection}; REQUIREs 200 and returns the inbox entry it became
// once the connector had it (processed or parked).
Json::Value deliver_webhook(ApiSession& api, const std::string& connection, const std::string& body,
                            const std::map<std::string, std::string>& headers);
// The inbox entry, once it is no longer pending.
Json::Value settled_entry(ApiSession& api, int64_t id);
// Every inbox entry, oldest first.
Json::Value inbox(ApiSession& api);

// A manual invoice for the client (verified numbering and complete billing info needed);
// returns the invoice as GET /v1/invoices/{id} shows it.
Json::Value issue_invoice(ApiSession& api, const std::string& client_id, int64_t unit_price = 12900,
                          int quantity = 1);
Json::Value invoice_of(ApiSession& api, const std::string& invoice_id);

// The deliveries of kind (sync: a sync.push; request: a request it asked for) once none of
// them is pending, at least n of them.
Json::Value settled_deliveries(ApiSession& api, const std::string& kind, std::size_t n = 1);

}  // namespace psahost::test
