// Clients, their billing information and the services assigned to them: the only code that
// writes clients, billing_info and service_assignments. Every change appends its event (and, for
// billing info, its audit row) in the caller's transaction; a refusal is given before it writes.
#pragma once

#include "auth/tokens.hpp"
#include "clients/client_record.hpp"
#include "domain/billing_info.hpp"
#include "domain/refusal.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psahost::clients {

inline const std::vector<std::string> kClientTypes = {"customer", "prospect", "partner"};
inline const std::vector<std::string> kClientStatuses = {"active", "inactive"};

// What a create or a change of a client says; an absent member is left as it is (or takes its
// default on create). name is required on create.
struct ClientChange {
  std::optional<std::string> name, type, status, parent_id;
  std::optional<bool> self_managed_profile;
  std::optional<Json::Value> external_ids;  // connector -> its id for the client
};

// Reads a create (name required) or a change of a client from a JSON document, as the route and
// the webhook applier are given one: refused as invalid naming each member that is wrong or not
// known.
domain::Result<ClientChange> read_client_change(const Json::Value& body, bool create);

// The client as the API shows it, with "billing_info": {"complete","missing"}; null when the
// tenant has no such client.
Json::Value client_json(store::Tx& tx, const std::string& tenant_id, const std::string& client_id);

// A new client with a client.upserted event. Refused as invalid without a name, with a type or
// status not known, or with a parent that is not one of the tenant's clients.
domain::Result<Json::Value> create_client(store::Tx& tx, const auth::Principal& who,
                                          const ClientChange& change);

// Changes the members given; a client.upserted event only when something changed.
domain::Result<Json::Value> update_client(store::Tx& tx, const auth::Principal& who,
                                          const std::string& client_id, const ClientChange& change);

domain::Result<Json::Value> get_client(store::Tx& tx, const std::string& tenant_id,
                                       const std::string& client_id);

// One page of the tenant's clients by id after `after`; next_after is set when the page is full.
struct ClientPage {
  std::vector<Json::Value> items;
  std::optional<std::string> next_after;
};
ClientPage list_clients(store::Tx& tx, const std::string& tenant_id, const std::string& after,
                        int64_t limit);

// {"exists","complete","missing":[...],"name"}: what the billing gate asks before it allows.
Json::Value billing_status(store::Tx& tx, const std::string& tenant_id,
                           const std::string& client_id);

// The client's billing info; refused as not found for no such client, and as
// "billing-info-missing" (with a prompt to add it) when none was ever given.
domain::Result<domain::BillingInfo> billing_info(store::Tx& tx, const std::string& tenant_id,
                                                 const std::string& client_id);

// Saves a client's billing info with an audit row and a billing_info.updated event when it
// changed; returns the document as the API shows it. The client's own route, the contract
// wizard and the webhook applier save through here.
domain::Result<Json::Value> put_billing_info(store::Tx& tx, const auth::Principal& who,
                                             const std::string& client_id,
                                             const domain::BillingInfo& info);
// The same, nullopt for no such client (the contract wizard's older form).
std::optional<Json::Value> save_billing_info(store::Tx& tx, const auth::Principal& who,
                                             const std::string& client_id,
                                             const domain::BillingInfo& info);

// Billing info as stored: the API document without the derived "complete" and "missing".
std::string stored_billing(const domain::BillingInfo& info);

// A product of the catalog assigned to a client, quantity units from since (YYYY-MM-DD).
struct ServiceAssignment {
  std::string sku;
  int64_t quantity = 0;
  std::string since;
};

// The client's assigned services by sku: [{"sku","quantity","since"}].
Json::Value services_json(store::Tx& tx, const std::string& tenant_id,
                          const std::string& client_id);
domain::Result<Json::Value> client_services(store::Tx& tx, const std::string& tenant_id,
                                            const std::string& client_id);

// Reads {"items":[{"sku","quantity","since"}]} (since defaults to today, UTC); refused as invalid
// naming each item member that is wrong, or a sku listed twice.
domain::Result<std::vector<ServiceAssignment>> read_services(const Json::Value& body);

// Replaces the client's assigned services with these, as the platform sees them; a
// service.assigned event when they changed. Refused as invalid (items[i].sku) for a product not
// in the catalog, or a sku listed twice.
domain::Result<Json::Value> assign_services(store::Tx& tx, const auth::Principal& who,
                                            const std::string& client_id,
                                            const std::vector<ServiceAssignment>& items);

// Records that system knows the client as external_id in its external_ids (what a connector
// reads with clients.get to find the record it pushes to); false when the tenant has no such
// client. Nothing is written when it is so already.
bool link_external_id(store::Tx& tx, const std::string& tenant_id, const std::string& client_id,
                      const std::string& system, const std::string& external_id);

}  // namespace psahost::clients
