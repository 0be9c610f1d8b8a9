// Contracts in the store, shared by the API routes, the CLI and the host calls the
// contract-bootstrap plugin makes (one batch of clients per call, one transaction per batch).
#pragma once

#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psahost::api {

// A part as it is written; values are already validated.
struct NewPart {
  std::string type = "default";
  std::optional<std::string> sku;
  std::string description;
  int64_t quantity = 0;
  bool follows_assignment = false;
  std::optional<int64_t> price;  // minor units of the contract's currency; absent = unpriced
  std::string discount = "0.00";
  std::optional<std::string> start_date;  // absent = the contract's start
  std::optional<std::string> end_date;    // absent = billed for as long as the contract runs
  bool trial = false;
  std::string sla;
};

// A contract as it is written (always as a draft); values are already validated.
struct NewContract {
  std::string client_id;
  std::string name;
  std::optional<std::string> reference;  // generated ("CT-000042") when absent
  std::string contact_email;
  std::string billing_entity;
  std::string invoice_interval = "monthly";
  std::string when_to_bill = "upfront";
  std::string payment_method = "manual";
  std::string start_date;
  std::optional<std::string> end_date;  // absent = bill forever
  std::string invoice_delivery = "email";
  std::string currency;
  std::string source = "manual";  // manual | bootstrap
  std::vector<NewPart> parts;
};

struct InsertedContract {
  std::string id;
  std::string reference;
  std::vector<std::string> part_ids;  // in the order of NewContract::parts
};

// Hands out reference numbers within one transaction: it looks up the tenant's highest "CT-"
// number once, so a batch of thousands does not scan the contracts once per contract.
class ReferenceNumbers {
 public:
  ReferenceNumbers(store::Tx& tx, std::string tenant_id);
  std::string next();

 private:
  store::Tx& tx_;
  std::string tenant_id_;
  int64_t next_ = 0;  // 0 = not looked up yet
};

// Writes the draft with its parts, a contract.created event and an audit row of its money
// fields. A bootstrapped contract is written only if the client has no draft or active contract
// and was never bootstrapped before (the contracts_one_bootstrap index makes a second one
// impossible); otherwise nothing is written and nullopt returned.
std::optional<InsertedContract> insert_contract(store::Tx& tx, const std::string& tenant_id,
                                                const std::string& actor, const NewContract& c,
                                                ReferenceNumbers& references);

// Adds one part to an existing contract; returns its id. No event or audit: the caller's.
// at is the creation time to record ("" = now).
std::string insert_part(store::Tx& tx, const std::string& tenant_id, const std::string& contract_id,
                        const NewPart& part, const std::string& at = {});

// The contract as the API shows it, with its parts and, for a draft, the wizard's
// "remaining_steps"; null when the tenant has no such contract.
Json::Value contract_json(store::Tx& tx, const std::string& tenant_id,
                          const std::string& contract_id);

// One part as the API shows it, or null. contract_start fills an absent start date.
Json::Value part_json(store::Tx& tx, const std::string& contract_id, const std::string& part_id,
                      const std::string& contract_start);

// Active clients of the tenant with at least one assigned service (quantity above 0): the set
// `bootstrap --all` works through.
int64_t count_bootstrap_candidates(store::Tx& tx, const std::string& tenant_id);

// bootstrap.candidates (services:read), contracts.create_drafts (contracts:write) and
// contracts.sync_assignment (contracts:write).
void register_contract_host_calls(plugins::HostCalls& calls, store::Store& store);

// What asking the contract-bootstrap plugin gave: its answer, or why there is none.
struct BootstrapCall {
  int status = 200;   // 200, or the HTTP status of the failure
  std::string error;  // problem slug when status is not 200
  std::string detail;
  Json::Value body;  // {"created":[...],"skipped":[...],"next_after"}
};

// Calls the plugin's command.bootstrap hook. request carries tenant_id, actor and either
// client_ids or all (with after/limit for one page), and dry_run.
BootstrapCall call_bootstrap(const plugins::PluginRegistry& registry, const Json::Value& request);

}  // namespace psahost::api
