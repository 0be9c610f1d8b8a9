// The domain services plugins call through psa_host_api.call, each behind one permission.
// Requests name the tenant they act for; a plugin sees only what its permissions allow.
#pragma once

#include "plugins/host_calls.hpp"
#include "store/store.hpp"

namespace psahost::api {

void register_host_services(plugins::HostCalls& calls, store::Store& store);

}  // namespace psahost::api
