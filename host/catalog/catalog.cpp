#include "catalog/catalog.hpp"

#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "domain/reference_data.hpp"
#include "events/event_log.hpp"
#include "store/json_column.hpp"

#include <algorithm>

namespace psahost::catalog {

using domain::FieldError;
using domain::Refusal;

namespace {

bool allowed(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::vector<FieldError> product_errors(const std::vector<Product>& products) {
  std::vector<FieldError> errors;
  int labour = 0;
  for (std::size_t i = 0; i < products.size(); ++i) {
    const auto& p = products[i];
    const std::string at = "items[" + std::to_string(i) + "]";
    labour += p.default_labour ? 1 : 0;
    if (p.sku.empty()) errors.push_back({at + ".sku", "must not be empty"});
    if (p.name.empty()) errors.push_back({at + ".name", "must not be empty"});
    if (!allowed(kPartTypes, p.part_type)) errors.push_back({at + ".part_type", "unknown"});
    if (!allowed(kPricing, p.pricing)) errors.push_back({at + ".pricing", "unknown"});
    if (!p.prices.isObject()) {
      errors.push_back({at + ".prices", "expected an object of currency to price in minor units"});
      continue;
    }
    for (const auto& cur : p.prices.getMemberNames()) {
      if (!domain::currency_exponent(cur)) {
        errors.push_back({at + ".prices." + cur, "expected an ISO 4217 currency code"});
      } else if (!p.prices[cur].isIntegral() || p.prices[cur].asInt64() < 0) {
        errors.push_back({at + ".prices." + cur, "expected a whole number from 0"});
      }
    }
  }
  if (labour > 1) errors.push_back({"items", "only one product can be the default labour"});
  return errors;
}

}  // namespace

Json::Value Product::to_json() const {
  Json::Value p;
  p["sku"] = sku;
  p["name"] = name;
  p["unit"] = unit;
  p["part_type"] = part_type;
  p["pricing"] = pricing;
  p["prices"] = prices;
  p["default_labour"] = default_labour;
  return p;
}

std::optional<Json::Value> product_json(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& sku) {
  auto row = tx.query_one(
      "SELECT sku, name, unit, part_type, pricing, prices, default_labour FROM products WHERE "
      "tenant_id = ? AND sku = ?",
      {tenant_id, sku});
  if (!row) return std::nullopt;
  Json::Value p;
  p["sku"] = row->text(0);
  p["name"] = row->text(1);
  p["unit"] = row->text(2);
  p["part_type"] = row->text(3);
  p["pricing"] = row->text(4);
  p["prices"] = store::from_text(row->text(5));
  p["default_labour"] = row->integer(6) != 0;
  return p;
}

bool has_product(store::Tx& tx, const std::string& tenant_id, const std::string& sku) {
  return tx.query_one("SELECT 1 FROM products WHERE tenant_id = ? AND sku = ?", {tenant_id, sku})
      .has_value();
}

std::vector<Json::Value> list_products(store::Tx& tx, const std::string& tenant_id) {
  std::vector<Json::Value> out;
  for (const auto& row :
       tx.query("SELECT sku FROM products WHERE tenant_id = ? ORDER BY sku", {tenant_id})) {
    out.push_back(*product_json(tx, tenant_id, row.text(0)));
  }
  return out;
}

domain::Result<std::vector<Json::Value>> upsert_products(store::Tx& tx, const auth::Principal& who,
                                                         const std::vector<Product>& products) {
  if (auto errors = product_errors(products); !errors.empty()) return Refusal::invalid(errors);
  const std::string now = now_rfc3339();
  std::vector<Json::Value> out;
  for (const auto& p : products) {
    if (p.default_labour) {
      tx.exec("UPDATE products SET default_labour = 0 WHERE tenant_id = ?", {who.tenant_id});
    }
    const auto before = product_json(tx, who.tenant_id, p.sku);
    tx.exec(
        "INSERT INTO products (tenant_id, sku, name, unit, part_type, pricing, prices, "
        "default_labour, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, unit = excluded.unit, "
        "part_type = excluded.part_type, pricing = excluded.pricing, prices = excluded.prices, "
        "default_labour = excluded.default_labour, updated_at = excluded.updated_at",
        {who.tenant_id, p.sku, p.name, p.unit, p.part_type, p.pricing, store::to_text(p.prices),
         int64_t{p.default_labour ? 1 : 0}, now});
    const auto after = *product_json(tx, who.tenant_id, p.sku);
    if (!before || *before != after) {
      events::append(
          tx, {who.tenant_id, "product.upserted", "product", p.sku, after, who.token_id, ""});
      if (before && (*before)["prices"] != after["prices"]) {
        audit::record(tx, {who.tenant_id, who.token_id, "product.prices", "product", p.sku,
                           audit::json((*before)["prices"]), audit::json(after["prices"])});
      }
    }
    out.push_back(after);
  }
  return out;
}

}  // namespace psahost::catalog
