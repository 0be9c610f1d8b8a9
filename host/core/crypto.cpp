#include "core/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace psahost::crypto {
namespace {

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xF];
  }
  return out;
}

struct DigestContext {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  DigestContext() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("sha256: OpenSSL digest init failed");
    }
  }
  void update(const void* data, std::size_t n) {
    if (EVP_DigestUpdate(ctx.get(), data, n) != 1) throw std::runtime_error("sha256 update failed");
  }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
      throw std::runtime_error("sha256 final failed");
    return to_hex(md, len);
  }
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  DigestContext d;
  d.update(bytes.data(), bytes.size());
  return d.hex();
}

std::string sha256_file_hex(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  DigestContext d;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) d.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error("error reading " + file.string());
  return d.hex();
}

std::string sha256(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: OpenSSL digest failed");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

namespace {

// A MAC context keyed once and copied per message: setting the key (two hash blocks) and looking
// the digest up by name cost more than the MAC of a 1 KiB body. The few keys a thread uses (the
// connections' and endpoints') are kept per thread.
class KeyedMacs {
 public:
  ~KeyedMacs() {
    for (auto& e : entries_) EVP_MAC_CTX_free(e.ctx);
    EVP_MAC_free(mac_);
  }

  // A fresh copy of the context for (md, key), keyed and ready for updates; caller frees it.
  EVP_MAC_CTX* copy(const EVP_MD* md, std::string_view key) {
    for (auto& e : entries_) {
      if (e.md == md && e.key == key) return EVP_MAC_CTX_dup(e.ctx);
    }
    if (!mac_) mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac_) throw std::runtime_error("hmac: OpenSSL has no HMAC");
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac_);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                               OSSL_MAC_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(md)), 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                             params) != 1) {
      EVP_MAC_CTX_free(ctx);
      throw std::runtime_error("hmac: OpenSSL init failed");
    }
    if (entries_.size() >= kKept) {
      EVP_MAC_CTX_free(entries_.front().ctx);
      entries_.erase(entries_.begin());
    }
    entries_.push_back({md, std::string(key), ctx});
    return EVP_MAC_CTX_dup(ctx);
  }

 private:
  static constexpr std::size_t kKept = 16;
  struct Entry {
    const EVP_MD* md;
    std::string key;
    EVP_MAC_CTX* ctx;
  };
  EVP_MAC* mac_ = nullptr;
  std::vector<Entry> entries_;
};

std::string hmac(const EVP_MD* md, std::string_view key,
                 std::initializer_list<std::string_view> pieces) {
  thread_local KeyedMacs macs;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(macs.copy(md, key),
                                                                &EVP_MAC_CTX_free);
  if (!ctx) throw std::runtime_error("hmac: OpenSSL context copy failed");
  for (const auto& piece : pieces) {
    if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(piece.data()),
                       piece.size()) != 1) {
      throw std::runtime_error("hmac: OpenSSL update failed");
    }
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out, &len, sizeof out) != 1) {
    throw std::runtime_error("hmac: OpenSSL final failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  return hmac(EVP_sha256(), key, {data});
}

std::string hmac_sha256(std::string_view key, std::initializer_list<std::string_view> pieces) {
  return hmac(EVP_sha256(), key, pieces);
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  return hmac(EVP_sha1(), key, {data});
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n_bytes) {
  std::string raw(n_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n_bytes)) != 1) {
    throw std::runtime_error("the OS random generator failed");
  }
  return raw;
}

std::string random_token(std::size_t n_bytes) {
  return base64url_encode(random_bytes(n_bytes));
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  out.assign(3 * (text.size() / 4) + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return false;
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return true;
}

}  // namespace psahost::crypto
