#include "fakes/signing.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>
#include <vector>

namespace psahost::test {

std::string hmac_sha256_base64(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_len)) {
    throw std::runtime_error("HMAC failed");
  }
  std::vector<unsigned char> out(4 * ((mac_len + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), mac, static_cast<int>(mac_len));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

}  // namespace psahost::test
