// The host calls the contract-bootstrap plugin makes (one batch of clients per call, one
// transaction per batch): they read the plugin's JSON and write through host/contracts.
#pragma once

#include "contracts/contracts.hpp"
#include "plugins/host_calls.hpp"
#include "store/store.hpp"

namespace psahost::api {

// The module's types and writes under their former names, for the routes that still use them.
using contracts::contract_json;
using contracts::insert_contract;
using contracts::insert_part;
using contracts::InsertedContract;
using contracts::NewContract;
using contracts::NewPart;
using contracts::part_json;
using contracts::ReferenceNumbers;

// bootstrap.candidates (services:read), contracts.create_drafts (contracts:write) and
// contracts.sync_assignment (contracts:write).
void register_contract_host_calls(plugins::HostCalls& calls, store::Store& store);

}  // namespace psahost::api
