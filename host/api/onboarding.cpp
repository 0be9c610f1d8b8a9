#include "api/onboarding.hpp"

#include "api/client_queries.hpp"
#include "core/crypto.hpp"

namespace psahost::api {

std::string numbering_digest(const std::string& prefix, const std::string& pattern,
                             int64_t next_number, const std::string& reset,
                             const std::string& owner) {
  // Length-prefixed so that no two different settings can produce the same text.
  std::string text;
  for (const std::string& part : {prefix, pattern, std::to_string(next_number), reset, owner}) {
    text += std::to_string(part.size()) + ":" + part + ";";
  }
  return crypto::sha256_hex(text);
}

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
          auto parsed = domain::parse_billing_info(from_text(row.text(2)));
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

  bool verified = false;
  bool configured = false;
  for (const auto& row :
       tx.query("SELECT prefix, pattern, next_number, reset, owner, verified_digest FROM "
                "invoice_series WHERE tenant_id = ?",
                {tenant_id})) {
    configured = true;
    verified =
        !row.is_null(5) && row.text(5) == numbering_digest(row.text(0), row.text(1), row.integer(2),
                                                           row.text(3), row.text(4));
    if (!verified) break;
  }
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
