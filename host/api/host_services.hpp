// The domain services plugins call through psa_host_api.call, each behind one permission.
// Requests name the tenant they act for; a plugin sees only what its permissions allow.
#pragma once

#include "plugins/host_calls.hpp"
#include "store/store.hpp"

#include <string>

namespace psahost::api {

void register_host_services(plugins::HostCalls& calls, store::Store& store);

// Every host call `psahost serve` offers (these services, time, contracts, numbering, invoices),
// for serve and the commands that run plugins without it.
void register_all_host_calls(plugins::HostCalls& calls, store::Store& store);

// Makes a client's held integration sales items billable once its billing info is complete;
// returns how many were released (0 while the info is still incomplete).
int64_t release_held_sales_items(store::Store& store, const std::string& tenant_id,
                                 const std::string& client_id, const std::string& actor);

}  // namespace psahost::api
