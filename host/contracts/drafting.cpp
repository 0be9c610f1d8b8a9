#include "contracts/drafting.hpp"

#include "audit/audit_log.hpp"
#include "catalog/catalog.hpp"
#include "clients/client_record.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "domain/contract.hpp"
#include "events/event_log.hpp"

#include <algorithm>
#include <utility>

namespace psahost::contracts {
namespace {

domain::Refusal field(std::string name, std::string message) {
  return domain::Refusal::invalid({{std::move(name), std::move(message)}});
}

store::Value nullable(const std::optional<std::string>& s) {
  return s ? store::Value(*s) : store::Value(nullptr);
}

// One part of a request, checked against the catalog, the assignment and the contract's dates
// (path is "" or "parts[i]", the prefix of the fields a refusal names).
domain::Result<NewPart> complete_part(store::Tx& tx, const std::string& tenant,
                                      const std::string& client_id,
                                      const std::string& contract_start, const PartChange& p,
                                      const std::string& path) {
  const auto at = [&path](const char* name) {
    return path.empty() ? std::string(name) : path + "." + name;
  };
  NewPart part;
  std::optional<Json::Value> product;
  if (p.sku && !p.sku->empty()) {
    product = catalog::product_json(tx, tenant, *p.sku);
    if (!product) return field(at("sku"), "no product " + *p.sku + " in the catalog");
    part.sku = p.sku;
  }
  part.type = p.type.value_or(product ? (*product)["part_type"].asString() : "default");
  part.description = p.description.value_or(product ? (*product)["name"].asString() : "");
  part.follows_assignment = p.follows_assignment.value_or(false);
  if (part.follows_assignment && !part.sku) {
    return field(at("follows_assignment"), "a part that follows the assignment needs a sku");
  }
  if (p.quantity) {
    part.quantity = *p.quantity;
  } else if (part.follows_assignment) {
    const auto row = tx.query_one(
        "SELECT quantity FROM service_assignments WHERE tenant_id = ? AND client_id = ? AND "
        "sku = ?",
        {tenant, client_id, *part.sku});
    part.quantity = row ? std::min(row->integer(0), domain::kMaxPartQuantity) : 0;
  } else {
    part.quantity = 1;
  }
  part.price = p.price;
  part.discount = p.discount.value_or("0.00");
  part.start_date = p.start_date;
  part.end_date = p.end_date;
  part.trial = p.trial.value_or(false);
  part.sla = p.sla.value_or("");
  if (part.end_date && *part.end_date < part.start_date.value_or(contract_start)) {
    return field(at("end_date"), "must not be before the part's start date");
  }
  return part;
}

// A reference number given by hand must not be one another contract of the tenant carries.
std::optional<domain::Refusal> reference_taken(store::Tx& tx, const std::string& tenant,
                                               const std::string& reference,
                                               const std::string& self) {
  if (!tx.query_one("SELECT 1 FROM contracts WHERE tenant_id = ? AND reference = ? AND id <> ?",
                    {tenant, reference, self})) {
    return std::nullopt;
  }
  return field("reference_number", "another contract already has reference " + reference);
}

std::string path_of(std::size_t i) {
  return "parts[" + std::to_string(i) + "]";
}

}  // namespace

domain::Result<Json::Value> create_contract(store::Tx& tx, const auth::Principal& who,
                                            const ContractInput& c) {
  const std::string client_id = c.client_id.value_or("");
  const auto client = clients::load_client(tx, who.tenant_id, client_id);
  if (!client) return domain::Refusal::not_found("client", client_id);
  const domain::BillingInfo* billing = client->billing ? &*client->billing : nullptr;
  NewContract n;
  n.client_id = client_id;
  n.currency = c.currency.value_or(billing ? billing->currency : "");
  if (n.currency.empty()) {
    return field("currency", "is required while the client's billing info names none");
  }
  if (c.reference) {
    if (auto taken = reference_taken(tx, who.tenant_id, *c.reference, "")) return *taken;
  }
  n.name = c.name.value_or("");
  n.reference = c.reference;
  n.contact_email = c.contact_email.value_or(billing ? billing->email : "");
  n.billing_entity = c.billing_entity.value_or("");
  n.invoice_interval = c.invoice_interval.value_or("monthly");
  n.when_to_bill = c.when_to_bill.value_or("upfront");
  n.payment_method =
      c.payment_method.value_or(billing && billing->direct_debit ? "direct_debit" : "manual");
  n.start_date = c.start_date.value_or(today());
  n.end_date = c.end_date;
  if (n.end_date && *n.end_date < n.start_date) {
    return field("end_date", "must not be before start_date");
  }
  n.invoice_delivery = c.invoice_delivery.value_or(
      billing && !billing->invoice_delivery.empty() ? billing->invoice_delivery : "email");
  for (std::size_t i = 0; i < c.parts.size(); ++i) {
    auto part = complete_part(tx, who.tenant_id, n.client_id, n.start_date, c.parts[i], path_of(i));
    if (!part) return part.refusal();
    n.parts.push_back(std::move(*part));
  }
  ReferenceNumbers references(tx, who.tenant_id);
  const auto inserted = insert_contract(tx, who.tenant_id, who.token_id, n, references);
  if (!inserted)
    return domain::Refusal::conflict("conflict", "the contract could not be stored; retry");
  return contract_json(tx, who.tenant_id, inserted->id);
}

domain::Result<Json::Value> update_contract(store::Tx& tx, const auth::Principal& who,
                                            const std::string& id, const ContractInput& c) {
  const Json::Value before = contract_json(tx, who.tenant_id, id);
  if (before.isNull()) return domain::Refusal::not_found("contract", id);
  const std::string status = before["status"].asString();
  if (c.status) {
    // draft -> cancelled, active -> ended | cancelled; activation has its own request.
    const bool allowed =
        (status == "draft" && *c.status == "cancelled") || (status == "active" && c.status_only);
    if (!allowed) {
      return domain::Refusal::conflict(
          "contract-status", "contract " + id + " is " + status + " and cannot become " +
                                 *c.status + (c.status_only ? "" : " with other changes"));
    }
  }
  if (!c.status_only && status != "draft") {
    return domain::Refusal::conflict(
        "contract-not-draft",
        "contract " + id + " is " + status + "; only a draft's fields and parts can change");
  }

  const std::string start = c.start_date.value_or(before["start_date"].asString());
  const std::optional<std::string> end =
      c.end_given ? c.end_date
                  : (before["end_date"].isNull() ? std::nullopt
                                                 : std::optional(before["end_date"].asString()));
  if (end && *end < start) {
    return c.end_given ? field("end_date", "must not be before start_date")
                       : field("start_date", "must not be after the end date " + *end);
  }
  if (c.reference) {
    if (auto taken = reference_taken(tx, who.tenant_id, *c.reference, id)) return *taken;
  }
  tx.exec(
      "UPDATE contracts SET name = COALESCE(?, name), reference = COALESCE(?, reference), "
      "contact_email = COALESCE(?, contact_email), billing_entity = COALESCE(?, "
      "billing_entity), invoice_interval = COALESCE(?, invoice_interval), bill_timing = "
      "COALESCE(?, bill_timing), payment_method = COALESCE(?, payment_method), "
      "start_date = ?, end_date = ?, invoice_delivery = COALESCE(?, invoice_delivery), "
      "status = COALESCE(?, status), version = version + 1, updated_at = ? "
      "WHERE id = ? AND tenant_id = ?",
      {nullable(c.name), nullable(c.reference), nullable(c.contact_email),
       nullable(c.billing_entity), nullable(c.invoice_interval), nullable(c.when_to_bill),
       nullable(c.payment_method), start, nullable(end), nullable(c.invoice_delivery),
       nullable(c.status), now_rfc3339(), id, who.tenant_id});

  // Parts: an entry with an id edits that part, one without adds a part.
  const Json::Value contract = contract_json(tx, who.tenant_id, id);
  for (std::size_t i = 0; i < c.parts.size(); ++i) {
    if (i < c.part_ids.size() && c.part_ids[i]) {
      auto edited = edit_part(tx, who, contract, *c.part_ids[i], c.parts[i], path_of(i));
      if (!edited) return edited.refusal();
      record_part_change(tx, who, id, "contract.part_updated", edited->before, edited->after);
    } else {
      auto part = complete_part(tx, who.tenant_id, contract["client_id"].asString(), start,
                                c.parts[i], path_of(i));
      if (!part) return part.refusal();
      const std::string part_id = insert_part(tx, who.tenant_id, id, *part);
      record_part_change(tx, who, id, "contract.part_added", Json::Value(),
                         part_json(tx, id, part_id, start));
    }
  }
  // Parts whose start follows the contract must still end on or after it.
  if (c.start_date &&
      tx.query_one("SELECT 1 FROM contract_parts WHERE contract_id = ? AND start_date IS NULL AND "
                   "end_date IS NOT NULL AND end_date < ?",
                   {id, start})) {
    return field("start_date", "a part that starts with the contract ends before it");
  }
  Json::Value after = contract_json(tx, who.tenant_id, id);
  audit::record(tx, {who.tenant_id, who.token_id, "contract.update", "contract", id,
                     audit::json(before), audit::json(after)});
  events::append(tx, {who.tenant_id, "contract.updated", "contract", id, after, who.token_id, ""});
  return after;
}

domain::Result<Json::Value> add_part(store::Tx& tx, const auth::Principal& who,
                                     const std::string& contract_id, const PartChange& p) {
  auto contract = draft_for_write(tx, who, contract_id);
  if (!contract) return contract.refusal();
  const std::string start = (*contract)["start_date"].asString();
  auto part = complete_part(tx, who.tenant_id, (*contract)["client_id"].asString(), start, p, "");
  if (!part) return part.refusal();
  const std::string part_id = insert_part(tx, who.tenant_id, contract_id, *part);
  touch(tx, contract_id);
  Json::Value created = part_json(tx, contract_id, part_id, start);
  record_part_change(tx, who, contract_id, "contract.part_added", Json::Value(), created);
  return created;
}

domain::Result<Json::Value> change_part(store::Tx& tx, const auth::Principal& who,
                                        const std::string& contract_id, const std::string& part_id,
                                        const PartChange& change) {
  auto contract = draft_for_write(tx, who, contract_id);
  if (!contract) return contract.refusal();
  auto edited = edit_part(tx, who, *contract, part_id, change, "");
  if (!edited) return edited.refusal();
  touch(tx, contract_id);
  record_part_change(tx, who, contract_id, "contract.part_updated", edited->before, edited->after);
  return std::move(edited->after);
}

domain::Result<Json::Value> save_contract_billing_info(store::Tx& tx, const auth::Principal& who,
                                                       const std::string& contract_id,
                                                       const domain::BillingInfo& info) {
  const Json::Value contract = contract_json(tx, who.tenant_id, contract_id);
  if (contract.isNull()) return domain::Refusal::not_found("contract", contract_id);
  auto saved = clients::put_billing_info(tx, who, contract["client_id"].asString(), info);
  if (!saved) return saved.refusal();
  Json::Value out = contract_json(tx, who.tenant_id, contract_id);
  out["billing_info"] = std::move(*saved);
  return out;
}

}  // namespace psahost::contracts
