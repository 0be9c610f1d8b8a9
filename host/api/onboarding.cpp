#include "api/onboarding.hpp"

#include "billing/numbering.hpp"
#include "catalog/catalog.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "store/json_column.hpp"

namespace psahost::api {

Json::Value onboarding_status(store::Tx& tx, const std::string& tenant_id, int item_limit) {
  Json::Value out;
  int64_t total = 0;
  Json::Value missing(Json::arrayValue);
  int64_t missing_count = 0;
  tx.each(
      "SELECT c.id, c.name, b.data FROM clients c LEFT JOIN billing_info b ON b.client_id = c.id "
      "WHERE c.tenant_id = ? AND c.status = 'active' ORDER BY c.name, c.id",
      {tenant_id}, [&](const store::Row& row) {
        ++total;
        Json::Value gaps(Json::arrayValue);
        if (row.is_null(2)) {
          gaps.append("billing_info");
        } else {
          auto parsed = domain::parse_billing_info(store::from_text(row.text(2)));
          if (parsed.info) {
            for (const auto& m : parsed.info->missing()) gaps.append(m);
          }
        }
        if (gaps.empty()) return;
        ++missing_count;
        if (missing.size() < static_cast<Json::ArrayIndex>(item_limit)) {
          Json::Value item;
          item["client_id"] = row.text(0);
          item["name"] = row.text(1);
          item["missing"] = gaps;
          item["prompt"]["action"] = "add_billing_info";
          item["prompt"]["client_id"] = row.text(0);
          missing.append(item);
        }
      });
  out["clients"] = static_cast<Json::Int64>(total);
  out["missing_billing_info"]["count"] = static_cast<Json::Int64>(missing_count);
  out["missing_billing_info"]["items"] = missing;

  Json::Value without(Json::arrayValue);
  int64_t without_count = 0;
  tx.each(
      "SELECT c.id, c.name, COUNT(s.sku) FROM clients c JOIN service_assignments s ON "
      "s.client_id = c.id AND s.quantity > 0 WHERE c.tenant_id = ? AND c.status = 'active' AND "
      "NOT EXISTS (SELECT 1 FROM contracts k WHERE k.client_id = c.id AND k.status IN ('draft', "
      "'active')) GROUP BY c.id ORDER BY c.name, c.id",
      {tenant_id}, [&](const store::Row& row) {
        ++without_count;
        if (without.size() < static_cast<Json::ArrayIndex>(item_limit)) {
          Json::Value item;
          item["client_id"] = row.text(0);
          item["name"] = row.text(1);
          item["services"] = static_cast<Json::Int64>(row.integer(2));
          without.append(item);
        }
      });
  out["without_contract"]["count"] = static_cast<Json::Int64>(without_count);
  out["without_contract"]["items"] = without;
  if (without_count > 0) {
    out["without_contract"]["prompt"]["action"] = "create_contracts";
    out["without_contract"]["prompt"]["href"] = "/v1/contracts/bootstrap";
  }

  const Json::Value numbering = billing::numbering_status(tx, tenant_id);
  const bool configured = numbering["configured"].asBool();
  const bool verified = numbering["verified"].asBool();
  out["invoice_numbering"]["configured"] = configured;
  out["invoice_numbering"]["verified"] = verified;
  if (!verified) {
    out["invoice_numbering"]["prompt"]["action"] = "verify_invoice_numbering";
    out["invoice_numbering"]["prompt"]["href"] = "/v1/invoice-numbering/verify";
  }
  out["ready_to_bill"] = missing_count == 0 && without_count == 0 && verified;
  return out;
}

}  // namespace psahost::api
