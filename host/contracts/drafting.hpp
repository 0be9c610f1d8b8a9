// The contract wizard's writes: a contract made by hand, its fields and parts changed while it is
// a draft, its status moved on, and the billing-info step. Each runs in the caller's transaction
// and returns the contract (or part) as the API shows it, or a refusal naming the field; a
// refusal leaves the transaction to be rolled back by the caller. No HTTP.
#pragma once

#include "auth/tokens.hpp"
#include "contracts/contracts.hpp"
#include "domain/billing_info.hpp"
#include "domain/refusal.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <optional>
#include <string>
#include <vector>

namespace psahost::contracts {

// A contract's fields as a request gives them, values checked for form; an absent member
// leaves the stored value (or takes the default from the client's billing info on create).
struct ContractInput {
  std::optional<std::string> client_id, name, reference, contact_email, billing_entity,
      invoice_interval, when_to_bill, payment_method, start_date, invoice_delivery, currency;
  std::optional<std::string> status;  // update only: "ended" or "cancelled"
  bool end_given = false;
  std::optional<std::string> end_date;  // given as null: bill forever
  std::vector<PartChange> parts;
  std::vector<std::optional<std::string>> part_ids;  // update: the part each entry edits
  bool status_only = false;  // update: the request changes the status and nothing else
};

// A draft for the client, its parts checked against the catalog and the assignment. Defaults:
// currency, contact email, payment method and invoice delivery from the client's billing info,
// start today. Refusals: not-found (client); invalid naming currency (none given or known),
// reference_number (taken), end_date, parts[i].sku|follows_assignment|end_date; conflict
// when the draft could not be stored.
domain::Result<Json::Value> create_contract(store::Tx& tx, const auth::Principal& who,
                                            const ContractInput& input);

// Changes a draft's fields and parts (an entry with an id edits that part, one without adds
// one), or moves the status on: a draft may be cancelled, an active contract ended or cancelled
// by a request that changes nothing else. Writes an audit row and a contract.updated event.
// Refusals: not-found; contract-status (conflict) for a status change not allowed;
// contract-not-draft (conflict); invalid naming the field.
domain::Result<Json::Value> update_contract(store::Tx& tx, const auth::Principal& who,
                                            const std::string& contract_id,
                                            const ContractInput& input);

// Adds a part to a draft; returns the part. Refusals as create_contract's for one part, and
// not-found / contract-not-draft.
domain::Result<Json::Value> add_part(store::Tx& tx, const auth::Principal& who,
                                     const std::string& contract_id, const PartChange& part);

// Changes one part of a draft; returns the part after the change.
domain::Result<Json::Value> change_part(store::Tx& tx, const auth::Principal& who,
                                        const std::string& contract_id, const std::string& part_id,
                                        const PartChange& change);

// The wizard's billing-info step: the billing info is the client's, saved exactly as the
// client's own route saves it. Returns the contract with "billing_info".
domain::Result<Json::Value> save_contract_billing_info(store::Tx& tx, const auth::Principal& who,
                                                       const std::string& contract_id,
                                                       const domain::BillingInfo& info);

}  // namespace psahost::contracts
