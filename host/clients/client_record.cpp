#include "clients/client_record.hpp"

#include "store/json_column.hpp"

namespace psahost::clients {

std::optional<ClientRecord> load_client(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& client_id) {
  auto row = tx.query_one(
      "SELECT c.id, c.name, c.type, c.status, b.data FROM clients c LEFT JOIN billing_info b ON "
      "b.client_id = c.id WHERE c.id = ? AND c.tenant_id = ?",
      {client_id, tenant_id});
  if (!row) return std::nullopt;
  ClientRecord r{row->text(0), row->text(1), row->text(2), row->text(3), std::nullopt};
  if (!row->is_null(4)) {
    auto parsed = domain::parse_billing_info(store::from_text(row->text(4)));
    if (!parsed.info) {
      throw store::StoreError("stored billing info of " + client_id + " no longer validates");
    }
    r.billing = std::move(*parsed.info);
  }
  return r;
}

}  // namespace psahost::clients
