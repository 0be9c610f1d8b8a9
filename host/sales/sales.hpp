// Sales items: usage and one-off sales a client is invoiced for. The only code that writes
// sales_items. Creating one and changing one are guarded operations: the admission pipeline (the
// billing gate among its plugins) is asked before anything is written, outside the writer.
#pragma once

#include "admission/pipeline.hpp"
#include "auth/tokens.hpp"
#include "domain/refusal.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>

namespace psahost::sales {

// What a create or a change of an item says; an absent member is left as it is. A create needs
// client_id, description, quantity, unit_price and currency; date defaults to today (UTC) and
// status to "approved" for an integration, "draft" for anyone else.
struct ItemFields {
  std::optional<std::string> client_id, sku, description, currency, date, status;
  std::optional<int64_t> quantity, unit_price;  // unit_price in minor units of currency
  // The members given, by their API names: what the admission pipeline is shown.
  Json::Value to_json() const;
};

// Reads a create (client_id, description, quantity, unit_price and currency required) or a change
// of an item from a JSON document; refused as invalid naming each member wrong or not known.
domain::Result<ItemFields> read_item_fields(const Json::Value& body, bool create);

std::optional<Json::Value> load_item(store::Tx& tx, const std::string& tenant_id,
                                     const std::string& id);
domain::Result<Json::Value> get_item(store::Tx& tx, const std::string& tenant_id,
                                     const std::string& id);

struct SalesEnv {
  store::Store& store;
  const admission::Pipeline& admission;
};

// A create the pipeline allowed, or held: usage an integration syncs for a client without
// billing info must not be lost, so it is written as a draft held for "billing-info-required"
// and released when the billing info is complete (the billing gate's event hook).
struct PlannedCreate {
  ItemFields item;
  std::string hold;  // the refusal's type the item is held for; empty when allowed
  bool from_integration = false;
};

// Refused as invalid, as not found for a client the tenant does not have, and as the pipeline
// decides (an integration's billing-info-required excepted, as above).
domain::Result<PlannedCreate> plan_create(const SalesEnv& env, const auth::Principal& who,
                                          const ItemFields& item);
// Writes the item with a sales_item.created event.
domain::Result<Json::Value> create_item(store::Tx& tx, const auth::Principal& who,
                                        const PlannedCreate& plan);

struct PlannedUpdate {
  std::string id;
  ItemFields change;
  int64_t seen_version = 0;  // the version the pipeline was shown
};

// Refused as not found (the item, or the client it moves to) and as the pipeline decides.
domain::Result<PlannedUpdate> plan_update(const SalesEnv& env, const auth::Principal& who,
                                          const std::string& id, const ItemFields& change);
// Writes the change with an audit row and a sales_item.updated event. Refused as a conflict
// when the item is invoiced ("sales-item-invoiced") or changed since it was planned
// ("conflict"): a change in between must be reviewed again.
domain::Result<Json::Value> update_item(store::Tx& tx, const auth::Principal& who,
                                        const PlannedUpdate& plan);

// Makes the client's items held for "billing-info-required" billable (approved) once its billing
// info is complete, each with a sales_item.updated event; returns how many (0 while the billing
// info is still incomplete, checked inside the caller's write so no change slips in between).
int64_t release_held(store::Tx& tx, const std::string& tenant_id, const std::string& client_id,
                     const std::string& actor);

}  // namespace psahost::sales
