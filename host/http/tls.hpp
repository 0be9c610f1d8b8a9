// The host's TLS material: a self-signed certificate for first start, its fingerprint for
// pinning, and the server-side OpenSSL settings (TLS 1.2+ only, ECDHE + AEAD ciphers).
#pragma once

#include <openssl/types.h>

#include <filesystem>
#include <string>

namespace psahost::http {

// Creates a self-signed certificate (EC P-256, CN=localhost, SAN DNS:localhost, IP:127.0.0.1,
// IP:::1, valid 825 days, random serial) and its key in PEM if either file is missing. Both
// files are written to a temporary name and renamed into place; the key is mode 0600.
// Returns true if it created them. Throws std::runtime_error naming the file on failure.
bool ensure_self_signed_certificate(const std::filesystem::path& cert,
                                    const std::filesystem::path& key);

// SHA-256 fingerprint of a PEM certificate, as "AB:CD:..." (printed at first start so a user
// can pin it). Throws std::runtime_error naming the file if it cannot be read.
std::string certificate_fingerprint(const std::filesystem::path& cert);

// Applies the server policy to ctx (TLS 1.2 and 1.3 only, no renegotiation, ECDHE + AEAD
// ciphers for TLS 1.2, server session cache) and loads the certificate chain and key.
// Throws std::runtime_error naming the file that could not be loaded, with OpenSSL's reason.
void configure_server_context(SSL_CTX* ctx, const std::filesystem::path& cert,
                              const std::filesystem::path& key);

// Drains OpenSSL's thread-local error queue into one line ("unknown OpenSSL error" when it is
// empty), so that a later failure does not report stale reasons.
std::string openssl_errors();

}  // namespace psahost::http
