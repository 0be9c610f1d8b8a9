#include "auth/tokens.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace psahost::auth {
namespace {

constexpr std::string_view kTokenPrefix = "psa_";

}  // namespace

std::optional<Role> parse_role(std::string_view name) {
  if (name == "admin") return Role::admin;
  if (name == "billing") return Role::billing;
  if (name == "technician") return Role::technician;
  if (name == "integration") return Role::integration;
  return std::nullopt;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::admin:
      return "admin";
    case Role::billing:
      return "billing";
    case Role::technician:
      return "technician";
    case Role::integration:
      return "integration";
  }
  return "technician";
}

bool allows(Role role, Right right) {
  switch (role) {
    case Role::admin:
      return true;
    case Role::billing:
      return right != Right::manage_plugins && right != Right::manage_integrations;
    case Role::technician:
      return right == Right::read || right == Right::register_time;
    case Role::integration:
      // What a PSA or accounting system does on a partner's behalf: sync objects, register
      // and approve time, ask for admission reviews. Never billing runs or numbering.
      return right == Right::read || right == Right::manage_clients ||
             right == Right::register_time || right == Right::approve_time ||
             right == Right::manage_sales || right == Right::review_admission;
  }
  return false;
}

std::string new_id(std::string_view prefix) {
  return std::string(prefix) + "_" + crypto::random_token(12);
}

std::string_view bearer_secret(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return {};
    }
  }
  auto secret = authorization.substr(kScheme.size());
  while (!secret.empty() && secret.front() == ' ') secret.remove_prefix(1);
  while (!secret.empty() && secret.back() == ' ') secret.remove_suffix(1);
  return secret;
}

std::optional<std::string> Tokens::find_tenant(std::string_view name) {
  std::optional<std::string> id;
  store_.read([&](store::Tx& tx) {
    if (auto row = tx.query_one("SELECT id FROM tenants WHERE name = ?", {std::string(name)})) {
      id = row->text(0);
    }
  });
  return id;
}

std::string Tokens::ensure_tenant(std::string_view name) {
  if (auto id = find_tenant(name)) return *id;
  std::string id;
  store_.write([&](store::Tx& tx) {
    if (auto row = tx.query_one("SELECT id FROM tenants WHERE name = ?", {std::string(name)})) {
      id = row->text(0);
      return;
    }
    id = new_id("ten");
    tx.exec("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)",
            {id, std::string(name), now_rfc3339()});
  });
  return id;
}

std::string Tokens::create(std::string_view tenant_name, Role role, std::string_view name) {
  const std::string tenant_id = ensure_tenant(tenant_name);
  const std::string secret = std::string(kTokenPrefix) + crypto::random_token(32);
  store_.write([&](store::Tx& tx) {
    tx.exec(
        "INSERT INTO api_tokens (id, tenant_id, role, token_hash, name, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {new_id("tok"), tenant_id, std::string(role_name(role)), crypto::sha256_hex(secret),
         std::string(name), now_rfc3339()});
  });
  return secret;
}

std::optional<Principal> Tokens::authenticate(std::string_view secret) {
  if (secret.size() < kTokenPrefix.size() + 16 ||
      secret.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return std::nullopt;
  }
  // Tokens are 256 random bits, so a plain SHA-256 lookup is safe: the stored hash reveals
  // nothing usable and timing of the index lookup leaks nothing about other tokens.
  std::optional<Principal> principal;
  store_.read([&](store::Tx& tx) {
    auto row = tx.query_one(
        "SELECT t.id, t.tenant_id, n.name, t.role FROM api_tokens t JOIN tenants n ON n.id = "
        "t.tenant_id WHERE t.token_hash = ? AND t.revoked_at IS NULL",
        {crypto::sha256_hex(secret)});
    if (!row) return;
    const auto role = parse_role(row->text(3));
    if (!role) return;
    principal = Principal{row->text(1), row->text(2), *role, row->text(0)};
  });
  return principal;
}

std::vector<TokenInfo> Tokens::list() {
  std::vector<TokenInfo> out;
  store_.read([&](store::Tx& tx) {
    for (const auto& row : tx.query(
             "SELECT t.id, n.name, t.role, t.name, t.created_at, t.revoked_at FROM api_tokens t "
             "JOIN tenants n ON n.id = t.tenant_id ORDER BY t.created_at, t.id")) {
      out.push_back(
          {row.text(0), row.text(1), row.text(2), row.text(3), row.text(4), row.optional_text(5)});
    }
  });
  return out;
}

bool Tokens::revoke(std::string_view token_id) {
  bool found = false;
  store_.write([&](store::Tx& tx) {
    found = tx.exec("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    {now_rfc3339(), std::string(token_id)}) > 0;
  });
  return found;
}

bool Tokens::any_token_exists() {
  bool any = false;
  store_.read([&](store::Tx& tx) {
    any = tx.query_one("SELECT 1 FROM api_tokens WHERE revoked_at IS NULL LIMIT 1").has_value();
  });
  return any;
}

}  // namespace psahost::auth
