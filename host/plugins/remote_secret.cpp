#include "plugins/remote_secret.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"

namespace psahost::plugins {

namespace {

constexpr std::string_view kPrefix = "whsec_";

}  // namespace

std::string remote_secret_context(const std::string& plugin_id) {
  return "plugin:" + plugin_id + ":remote-secret";
}

std::optional<std::string> issue_remote_secret(store::Store& store, const crypto::SecretBox& box,
                                               const std::string& plugin_id, bool replace) {
  const std::string secret = std::string(kPrefix) + crypto::base64_encode(crypto::random_bytes(32));
  bool issued = false;
  store.write([&](store::Tx& tx) {
    const bool exists =
        tx.query_one("SELECT 1 FROM remote_plugin_secrets WHERE plugin_id = ?", {plugin_id})
            .has_value();
    if (exists && !replace) return;
    tx.exec(
        "INSERT INTO remote_plugin_secrets (plugin_id, secret, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (plugin_id) DO UPDATE SET secret = excluded.secret, "
        "created_at = excluded.created_at",
        {plugin_id, box.seal(secret, remote_secret_context(plugin_id)), now_rfc3339()});
    issued = true;
  });
  if (!issued) return std::nullopt;
  return secret;
}

std::optional<std::string> remote_signing_key(store::Store& store, const crypto::SecretBox& box,
                                              const std::string& plugin_id) {
  std::optional<std::string> sealed;
  store.read([&](store::Tx& tx) {
    auto row =
        tx.query_one("SELECT secret FROM remote_plugin_secrets WHERE plugin_id = ?", {plugin_id});
    if (row) sealed = row->text(0);
  });
  if (!sealed) return std::nullopt;
  const auto secret = box.open(*sealed, remote_secret_context(plugin_id));
  if (!secret || !secret->starts_with(kPrefix)) return std::nullopt;
  std::string key;
  if (!crypto::base64_decode(std::string_view(*secret).substr(kPrefix.size()), key)) {
    return std::nullopt;
  }
  return key;
}

}  // namespace psahost::plugins
