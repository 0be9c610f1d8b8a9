// A client with its billing information, read for the tenant that asks: the one read that the
// billing gate, time approval and the routes share. None can leak across tenants.
#pragma once

#include "domain/billing_info.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>

namespace psahost::clients {

struct ClientRecord {
  std::string id;
  std::string name;
  std::string type;
  std::string status;
  std::optional<domain::BillingInfo> billing;  // absent when none was ever given
};

std::optional<ClientRecord> load_client(store::Tx& tx, const std::string& tenant_id,
                                        const std::string& client_id);

}  // namespace psahost::clients
