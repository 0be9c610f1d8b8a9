// Contracts and their parts: the one writer of the contracts and contract_parts tables. The
// API routes, the CLI, the bench and the host calls the contract-bootstrap plugin makes all
// write through here. No HTTP: a refusal is a domain::Refusal.
#pragma once

#include "auth/tokens.hpp"
#include "domain/refusal.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psahost::contracts {

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

// A change to one part, values already validated; an absent member leaves the part as it is. A
// member given as null (the *_given flags) clears it: price makes the part unpriced, start_date
// makes it follow the contract's start, end_date bills it for as long as the contract runs.
struct PartChange {
  std::optional<std::string> type, sku, description, discount, sla;
  std::optional<int64_t> quantity;
  std::optional<bool> follows_assignment, trial;
  bool price_given = false;
  std::optional<int64_t> price;
  bool start_given = false;
  std::optional<std::string> start_date;
  bool end_given = false;
  std::optional<std::string> end_date;
};

// A part before and after a change, as part_json shows them.
struct PartEdit {
  Json::Value before;
  Json::Value after;
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

// The tenant's contract as contract_json shows it; not-found for none (or another tenant's).
domain::Result<Json::Value> get_contract(store::Tx& tx, const auth::Principal& who,
                                         const std::string& contract_id);

// The tenant's contract for a change to its fields or parts: not-found, or contract-not-draft
// (conflict) unless it is a draft.
domain::Result<Json::Value> draft_for_write(store::Tx& tx, const auth::Principal& who,
                                            const std::string& contract_id);

// Counts a change of the contract's parts as a change of the contract (version and updated_at).
void touch(store::Tx& tx, const std::string& contract_id);

// The audit row (money fields of the part before and after) and the event (event_type:
// contract.part_added, contract.part_updated, contract.part_deleted) of one part's change, in
// the caller's transaction. before is null for an added part, after for a deleted one.
void record_part_change(store::Tx& tx, const auth::Principal& who, const std::string& contract_id,
                        const std::string& event_type, const Json::Value& before,
                        const Json::Value& after);

// Applies a change to one part of the draft contract (as draft_for_write returned it) in the
// caller's transaction; no event or audit (record_part_change is the caller's, once per
// request). Refusals: not-found for no such part; invalid naming path + ".sku" for a sku not in
// the catalog, ".follows_assignment" for following the assignment without a sku, ".end_date"
// for an end before the part's start (path is "" or "parts[i]").
domain::Result<PartEdit> edit_part(store::Tx& tx, const auth::Principal& who,
                                   const Json::Value& contract, const std::string& part_id,
                                   const PartChange& change, const std::string& path = {});

// Deletes a part of a draft, with its audit row and event; returns the part as it was.
// not-found for no such contract or part, contract-not-draft for a contract past its draft.
domain::Result<Json::Value> delete_part(store::Tx& tx, const auth::Principal& who,
                                        const std::string& contract_id, const std::string& part_id);

// Which of the tenant's contracts to list: one page in id order after `after` ("" for the first).
struct ContractQuery {
  std::optional<std::string> client_id;
  std::optional<std::string> status;  // one of domain::kContractStatuses, else invalid
  std::string after;
  int64_t limit = 100;
};

// {"items":[contract_json...], "next_after" when the page is full}. A status that is no contract
// status is an invalid refusal naming "status".
domain::Result<Json::Value> list_contracts(store::Tx& tx, const auth::Principal& who,
                                           const ContractQuery& query);

// Whether the contract can be activated now, before admission reviews it: not-found,
// contract-not-draft (conflict), contract-has-no-parts and contract-parts-unpriced (refused, with
// a prompt naming the parts to price). Returns the contract as it was checked.
domain::Result<Json::Value> check_activation(store::Tx& tx, const auth::Principal& who,
                                             const std::string& contract_id);

// Activates the draft that was checked and admitted, with an audit row and a contract.activated
// event; refused with "conflict" when it changed since (seen_version is the version reviewed).
// Returns the active contract.
domain::Result<Json::Value> activate(store::Tx& tx, const auth::Principal& who,
                                     const std::string& contract_id, int64_t seen_version);

// The SQL condition "client c has a draft or active contract, or was bootstrapped before"
// (c is the clients row): such a client is not bootstrapped again.
const char* has_contract_condition();

// Writes each draft (source "bootstrap" or "manual") in the caller's transaction, one reference
// number sequence for the batch. Returns {"created":[{"client_id","contract_id",
// "reference_number","part_ids"}],"skipped":[{"client_id","reason"}]}; reason is "not_found"
// (no such client for the tenant) or "has_contract".
Json::Value create_drafts(store::Tx& tx, const std::string& tenant_id, const std::string& actor,
                          const std::vector<NewContract>& drafts);

// Sets the quantity of each part that follows the client's service assignment (draft and active
// contracts) to the quantity assigned now, with an audit row and a contract.part_updated event
// per part changed. event_seq is the event that asked for it (echoed in the payload). Returns
// the payloads of the parts changed.
Json::Value follow_assignment(store::Tx& tx, const std::string& tenant_id,
                              const std::string& client_id, const std::string& actor,
                              const Json::Value& event_seq);

// Asks the plugin that handles command.bootstrap (found by capability) for drafts. request
// carries tenant_id, actor and either client_ids or all (with after/limit for one page), and
// dry_run. The answer is {"created":[...],"skipped":[...],"next_after"}; refusals:
// plugin-ambiguous and plugin-disabled (conflict), plugin-unavailable (unavailable),
// plugin-failed (failed).
domain::Result<Json::Value> bootstrap(const plugins::PluginRegistry& registry,
                                      const Json::Value& request);

}  // namespace psahost::contracts
