// Hashing, random tokens and constant-time comparison, over OpenSSL.
// Everything that touches a secret or a signature in the host goes through here.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace psahost::crypto {

// Lower-case hex SHA-256 of bytes, or of a file's contents (throws std::runtime_error naming
// the file when it cannot be read).
std::string sha256_hex(std::string_view bytes);
std::string sha256_file_hex(const std::filesystem::path& file);

// Compares two byte strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// n random bytes from the OS CSPRNG, as unpadded base64url (URL- and header-safe).
std::string random_token(std::size_t n_bytes);

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no padding
// Returns false on malformed input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace psahost::crypto
