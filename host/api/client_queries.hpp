// The client, billing and catalog reads the routes and the api/ services share, as
// host/clients/ and host/catalog/ own them; kept under their api names for the files that have
// not moved to feature modules yet.
#pragma once

#include "auth/tokens.hpp"
#include "catalog/catalog.hpp"
#include "clients/client_record.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "domain/billing_info.hpp"
#include "store/json_column.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <optional>
#include <string>

namespace psahost::api {

using catalog::product_json;
using clients::billing_status;
using clients::client_json;
using clients::ClientRecord;
using clients::load_client;
using clients::save_billing_info;
using clients::services_json;
using clients::stored_billing;

using store::from_text;
using store::to_text;

}  // namespace psahost::api
