// Publisher signatures on manifests: Ed25519 (OpenSSL) over the canonical manifest, which
// carries the library's sha256, so one signature covers both. Keys, signing and the host's check.
#pragma once

#include "plugins/library.hpp"

#include <json/value.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace psahost::plugins {

// The bytes a publisher signs: the manifest document without its "signature" member, written
// with object members in byte order of their names, no whitespace, strings escaped only where
// JSON requires it (", \, and control characters; non-ASCII stays UTF-8), and numbers as
// integers. Throws std::invalid_argument for a number with a fraction (no manifest member has
// one) or a document that is not an object.
std::string canonical_manifest(const Json::Value& document);

// First 16 lower-case hex characters of the SHA-256 of a raw 32-byte Ed25519 public key.
std::string key_id_of(std::string_view raw_public_key);

struct PublicKey {
  std::string id;   // key_id_of(raw)
  std::string raw;  // 32 bytes
  std::filesystem::path source;
};

// Writes dir/publisher.key (PKCS#8 PEM, mode 0600) and dir/publisher.pub (SubjectPublicKeyInfo
// PEM); refuses to overwrite either. Returns the key id. Throws std::runtime_error.
std::string generate_key_pair(const std::filesystem::path& dir);

// Reads a PEM public key; throws std::runtime_error naming the file when it is not Ed25519.
PublicKey read_public_key(const std::filesystem::path& file);

// Returns the document with "signature": {"key_id", "value"} set by the private key in
// key_file, which must be Ed25519 and readable by its owner only. Throws std::runtime_error.
Json::Value sign_manifest(Json::Value document, const std::filesystem::path& key_file);

// Whom the host trusts, and which unsigned plugins an operator let in (process-isolated).
struct TrustPolicy {
  std::vector<PublicKey> keys;
  // allow_unsigned_plugins: plugin ids, or "all".
  std::vector<std::string> allow_unsigned;

  // Adds every *.pub and *.pem public key in dir; throws std::runtime_error naming a file that
  // is not an Ed25519 public key, or a missing dir.
  void add_keys_from(const std::filesystem::path& dir);
  // The folders the keys were read from.
  std::vector<std::filesystem::path> key_dirs;
  // The same policy with the keys its folders hold now (one added, replaced or removed since);
  // throws std::runtime_error as add_keys_from does.
  TrustPolicy reread() const;
  // The trusted key ids, sorted: equal for two policies that trust the same keys.
  std::vector<std::string> key_ids() const;
  const PublicKey* find(std::string_view key_id) const;
  bool allows_unsigned(std::string_view plugin_id) const;
};

// Where the publisher keys shipped with this psahost are: trusted-keys beside the executable (a
// build tree's bin/trusted-keys, holding the key the build signed its plugins with), or
// <prefix>/lib/psahost/trusted-keys when installed.
std::filesystem::path default_trusted_keys_dir();

// The keys in default_trusted_keys_dir(); none when that folder does not exist. Throws
// std::runtime_error naming a file in it that is not an Ed25519 public key.
TrustPolicy default_trust_policy();

struct SignatureStatus {
  bool is_signed = false;  // by a trusted key; otherwise an unsigned plugin the policy allows
  std::string key_id;
};

// Checks the document's signature against the policy. A plugin without a signature passes only
// when allow_unsigned_plugins names it; a signature by an unknown key, a malformed one, or one
// that does not verify (the manifest was changed after signing) is refused whatever that
// setting says. Throws LoadError("signature" or "signature.key_id"/"signature.value", reason).
SignatureStatus check_signature(const Json::Value& document, std::string_view plugin_id,
                                const TrustPolicy& policy);

}  // namespace psahost::plugins
