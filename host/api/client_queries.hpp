// Reads of clients, billing information, services and products shared by the routes, the
// onboarding status and the host calls plugins make. All take the tenant: none can leak across.
#pragma once

#include "auth/tokens.hpp"
#include "clients/client_record.hpp"
#include "domain/billing_info.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <optional>
#include <string>

namespace psahost::api {

using clients::ClientRecord;
using clients::load_client;

// The client as the API shows it, with "billing_info": {"complete","missing"}.
Json::Value client_json(store::Tx& tx, const std::string& tenant_id, const std::string& client_id);
Json::Value services_json(store::Tx& tx, const std::string& tenant_id,
                          const std::string& client_id);
std::optional<Json::Value> product_json(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& sku);

// {"exists","complete","missing":[...],"name"}: what the billing gate asks before it allows.
Json::Value billing_status(store::Tx& tx, const std::string& tenant_id,
                           const std::string& client_id);

// Saves a client's billing info with an audit row and a billing_info.updated event when it
// changed; returns the document as the API shows it, or nullopt when the tenant has no such
// client. The client's own route and the contract wizard both save through here.
std::optional<Json::Value> save_billing_info(store::Tx& tx, const auth::Principal& who,
                                             const std::string& client_id,
                                             const domain::BillingInfo& info);

// Billing info as stored: the API document without the derived "complete" and "missing".
std::string stored_billing(const domain::BillingInfo& info);

using store::from_text;
using store::to_text;
std::string today();  // YYYY-MM-DD, UTC

}  // namespace psahost::api
