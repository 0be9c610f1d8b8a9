// Verifying inbound webhook signatures, by the scheme a connector's manifest declares, over the
// raw body bytes and in constant time; and signing outbound ones the Standard Webhooks way.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace psahost::webhooks {

enum class Check {
  ok,
  missing,    // a header the scheme needs is absent or empty
  malformed,  // a header is present but cannot be what the scheme sends
  mismatch,   // well-formed, but no signature matches
  stale,      // the timestamp is outside the replay window
};

struct Verification {
  Check check = Check::mismatch;
  std::string reason;  // for logs and the problem's detail; never holds a secret or a MAC
  bool ok() const { return check == Check::ok; }
};

// Receivers accept Standard Webhooks timestamps this far from now, in either direction.
inline constexpr std::chrono::seconds kReplayWindow{300};

// The key bytes of a Standard Webhooks secret "whsec_<base64>" (24 to 64 bytes), or nullopt.
std::optional<std::string> standard_webhooks_key(std::string_view secret);

// A new random secret "whsec_<base64 of 32 bytes>".
std::string new_standard_webhooks_secret();

// "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body)).
std::string standard_webhooks_signature(std::string_view key, std::string_view id,
                                        std::string_view timestamp, std::string_view body);

// webhook-id, webhook-timestamp (Unix seconds) and webhook-signature (space-separated entries;
// only "v1," entries count, any one matching passes). now is Unix seconds.
Verification verify_standard_webhooks(std::string_view key, std::string_view id,
                                      std::string_view timestamp, std::string_view signatures,
                                      std::string_view body, int64_t now,
                                      std::chrono::seconds window = kReplayWindow);

enum class Mac { sha256, sha1 };

// base64(HMAC(key, body)) in one header, after an optional prefix ("sha1="): Xero and QuickBooks
// (SHA-256), Autotask (SHA-1). The key is the secret's text bytes. With escaped_body, a MAC over
// autotask_escaped(body) is accepted as well, once the raw body did not match.
Verification verify_mac_header(Mac mac, std::string_view key, std::string_view header_value,
                               std::string_view prefix, std::string_view body, bool escaped_body);

// ConnectWise: x-content-signature = base64(HMAC-SHA256(SHA-256(signing_key), body)), where the
// signing key is what Metadata.key_url returned.
Verification verify_connectwise(std::string_view signing_key, std::string_view header_value,
                                std::string_view body);

// The body as Autotask signs it: inside JSON strings, & < > ' and escaped quotes as \u00XX and
// every non-ASCII character as \uXXXX (UTF-16, surrogate pairs beyond the BMP); structure and
// other escapes unchanged.
std::string autotask_escaped(std::string_view body);

}  // namespace psahost::webhooks
