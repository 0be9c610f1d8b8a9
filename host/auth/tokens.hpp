// Tenants and API tokens: tokens are random, shown once, stored only as their SHA-256, and carry
// one tenant and one role. Every API request is resolved to a Principal here.
#pragma once

#include "store/store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psahost::auth {

enum class Role { admin, billing, technician, integration };

std::optional<Role> parse_role(std::string_view name);
std::string_view role_name(Role role);

// What a request may do. Each route names the right it needs; roles grant sets of rights.
enum class Right {
  read,                 // read the tenant's objects
  manage_plugins,       // enable/disable plugins, change their settings
  manage_clients,       // clients, billing info, services, catalog
  register_time,        // tickets and time registration
  approve_time,         // approve or reject time entries
  manage_sales,         // sales items, contracts
  manage_billing,       // numbering, billing runs, invoices
  review_admission,     // POST /v1/admission
  manage_integrations,  // connections, webhook endpoints, deliveries
};
bool allows(Role role, Right right);

struct Principal {
  std::string tenant_id;
  std::string tenant_name;
  Role role = Role::technician;
  std::string token_id;
};

struct TokenInfo {
  std::string id;
  std::string tenant_name;
  std::string role;
  std::string name;
  std::string created_at;
  std::optional<std::string> revoked_at;
};

class Tokens {
 public:
  explicit Tokens(store::Store& store) : store_(store) {}

  // Returns the tenant's id, creating the tenant if it does not exist.
  std::string ensure_tenant(std::string_view name);
  std::optional<std::string> find_tenant(std::string_view name);

  // Creates a token for tenant (created if needed); returns the secret, shown only now.
  std::string create(std::string_view tenant_name, Role role, std::string_view name = {});
  // The principal for a presented secret, or nullopt (unknown, revoked, malformed).
  std::optional<Principal> authenticate(std::string_view secret);
  std::vector<TokenInfo> list();
  // Returns false if no such token.
  bool revoke(std::string_view token_id);
  bool any_token_exists();

 private:
  store::Store& store_;
};

// The secret from an "Authorization: Bearer <secret>" header value, or empty.
std::string_view bearer_secret(std::string_view authorization);

// A new opaque id with a readable prefix: "cli_3f9a…".
std::string new_id(std::string_view prefix);

}  // namespace psahost::auth
