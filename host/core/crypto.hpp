// Hashing, random tokens and constant-time comparison, over OpenSSL.
// Everything that touches a secret or a signature in the host goes through here.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

namespace psahost::crypto {

// Lower-case hex SHA-256 of bytes, or of a file's contents (throws std::runtime_error naming
// the file when it cannot be read).
std::string sha256_hex(std::string_view bytes);
std::string sha256_file_hex(const std::filesystem::path& file);

// Raw digests and MACs (binary, not hex): webhook signatures are base64 of these.
std::string sha256(std::string_view bytes);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha1(std::string_view key, std::string_view data);
// HMAC-SHA256 of several pieces, as if concatenated (Standard Webhooks signs
// "id.timestamp.body" without the host building that string).
std::string hmac_sha256(std::string_view key, std::initializer_list<std::string_view> pieces);

// Compares two byte strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// n random bytes from the OS CSPRNG.
std::string random_bytes(std::size_t n_bytes);
// n random bytes from the OS CSPRNG, as unpadded base64url (URL- and header-safe).
std::string random_token(std::size_t n_bytes);

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no padding
// Returns false on malformed input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace psahost::crypto
