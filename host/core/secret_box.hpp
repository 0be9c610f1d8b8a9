// Secrets at rest: connection and endpoint secrets are sealed with AES-256-GCM under the host's
// key before they reach the store, and opened only in memory when a signature is computed.
//
// The key is 32 random bytes in a file (DATA_DIR/secret.key by default, or --secret-key-file),
// created with mode 0600 on first start. A sealed value is bound to what it belongs to (the
// "context", e.g. "connection:<tenant>:<name>"), so a ciphertext copied to another row does not
// open there.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace psahost::crypto {

class SecretBox {
 public:
  // Reads the key file, creating it (0600, 32 bytes from the OS CSPRNG) when it does not exist.
  // Throws std::runtime_error naming the file when it cannot be read or created, is not 32
  // bytes, or is readable by group or others.
  static SecretBox from_key_file(const std::filesystem::path& file);
  // For tests and tools: a key given as 32 raw bytes.
  explicit SecretBox(std::string key);
  ~SecretBox();
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;
  SecretBox(SecretBox&&) noexcept;
  SecretBox& operator=(SecretBox&&) = delete;

  // "v1." + base64url(nonce(12) | ciphertext | tag(16)).
  std::string seal(std::string_view plaintext, std::string_view context) const;
  // nullopt when the value was not sealed by this key for this context, or is malformed.
  std::optional<std::string> open(std::string_view sealed, std::string_view context) const;

 private:
  std::string key_;
};

}  // namespace psahost::crypto
