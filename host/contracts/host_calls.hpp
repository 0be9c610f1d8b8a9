// The host calls the contract-bootstrap plugin makes (one batch of clients per call, one
// transaction per batch): they read the plugin's JSON and write through host/contracts.
#pragma once

#include "plugins/host_calls.hpp"
#include "store/store.hpp"

namespace psahost::contracts {

// bootstrap.candidates (services:read), contracts.create_drafts (contracts:write) and
// contracts.sync_assignment (contracts:write).
void register_contract_host_calls(plugins::HostCalls& calls, store::Store& store);

}  // namespace psahost::contracts
