// The product catalog: what a partner sells, its prices per currency in minor units, and which
// product is the default labour. The only code that writes products.
#pragma once

#include "auth/tokens.hpp"
#include "domain/refusal.hpp"
#include "store/store.hpp"

#include <json/value.h>

#include <optional>
#include <string>
#include <vector>

namespace psahost::catalog {

inline const std::vector<std::string> kPartTypes = {"default", "ict_services", "managed_service"};
inline const std::vector<std::string> kPricing = {"fixed", "per_unit", "per_hour", "usage"};

struct Product {
  std::string sku, name;
  std::string unit = "unit";
  std::string part_type = "default";
  std::string pricing;
  Json::Value prices = Json::Value(Json::objectValue);  // currency -> price in minor units
  bool default_labour = false;
  Json::Value to_json() const;
};

// {"sku","name","unit","part_type","pricing","prices","default_labour"}, or nullopt.
std::optional<Json::Value> product_json(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& sku);
bool has_product(store::Tx& tx, const std::string& tenant_id, const std::string& sku);

// The tenant's products by sku.
std::vector<Json::Value> list_products(store::Tx& tx, const std::string& tenant_id);

// Upserts the products given; products not given are kept (services may use them). A product
// that changed appends product.upserted, and a change of its prices an audit row. At most one
// product is the default labour: naming one takes it from the one before. Refused as invalid
// for two default labour products, an unknown part type or pricing, or a price that is not a
// whole number of minor units in a currency.
domain::Result<std::vector<Json::Value>> upsert_products(store::Tx& tx, const auth::Principal& who,
                                                         const std::vector<Product>& products);

}  // namespace psahost::catalog
