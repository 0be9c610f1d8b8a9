// Webhook signatures as the vendors compute them, done here with OpenSSL directly rather than
// with the host's code, so a test checks the host against an independent implementation.
#pragma once

#include <string>

namespace psahost::test {

// base64(HMAC-SHA256(key, body)), the key taken as its text bytes (Xero, QuickBooks).
std::string hmac_sha256_base64(const std::string& key, const std::string& body);

}  // namespace psahost::test
