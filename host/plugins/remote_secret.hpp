// The secret a remote plugin's hook calls are signed with (Standard Webhooks, "whsec_..."): one
// per plugin, issued by `psahost plugins secret ID`, sealed at rest and shown only when issued.
#pragma once

#include "core/secret_box.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>

namespace psahost::plugins {

std::string remote_secret_context(const std::string& plugin_id);

// A new secret for plugin_id, stored sealed; returns its text (to be shown once). When one
// exists already it is replaced only with replace, else nullopt is returned and nothing changes.
std::optional<std::string> issue_remote_secret(store::Store& store, const crypto::SecretBox& box,
                                               const std::string& plugin_id, bool replace);

// The HMAC key of plugin_id's secret (its decoded bytes), or nullopt when none was issued or it
// does not open under this host's key.
std::optional<std::string> remote_signing_key(store::Store& store, const crypto::SecretBox& box,
                                              const std::string& plugin_id);

}  // namespace psahost::plugins
