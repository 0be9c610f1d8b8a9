#include "core/secret_box.hpp"

#include "core/crypto.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace psahost::crypto {
namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::string_view kVersion = "v1.";

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

std::runtime_error key_error(const std::filesystem::path& file, const std::string& what) {
  return std::runtime_error("secret key file " + file.string() + ": " + what);
}

std::string create_key_file(const std::filesystem::path& file) {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(bytes(key), static_cast<int>(key.size())) != 1)
    throw key_error(file, "the OS random generator failed");
  const std::string tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw key_error(file, std::string("cannot create: ") + std::strerror(errno));
  const bool written =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), file.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw key_error(file, std::string("cannot write: ") + std::strerror(errno));
  }
  return key;
}

}  // namespace

SecretBox SecretBox::from_key_file(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno != ENOENT) throw key_error(file, std::strerror(errno));
    return SecretBox(create_key_file(file));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    throw key_error(file, "must not be readable or writable by group or others (chmod 600)");
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw key_error(file, std::strerror(errno));
  std::string key(kKeyBytes + 1, '\0');
  const ssize_t n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(kKeyBytes))
    throw key_error(file, "must hold exactly 32 bytes, found " + std::to_string(n < 0 ? 0 : n));
  key.resize(kKeyBytes);
  return SecretBox(std::move(key));
}

SecretBox::SecretBox(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeyBytes) throw std::invalid_argument("a secret key is 32 bytes");
}

SecretBox::~SecretBox() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

SecretBox::SecretBox(SecretBox&& other) noexcept : key_(std::move(other.key_)) {}

std::string SecretBox::seal(std::string_view plaintext, std::string_view context) const {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  if (RAND_bytes(bytes(out), static_cast<int>(kNonceBytes)) != 1)
    throw std::runtime_error("the OS random generator failed");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  unsigned char* cipher = bytes(out) + kNonceBytes;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), bytes(out)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher, &len, bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          cipher + plaintext.size()) != 1) {
    throw std::runtime_error("sealing a secret failed");
  }
  return std::string(kVersion) + base64url_encode(out);
}

std::optional<std::string> SecretBox::open(std::string_view sealed,
                                           std::string_view context) const {
  if (sealed.substr(0, kVersion.size()) != kVersion) return std::nullopt;
  std::string b64(sealed.substr(kVersion.size()));
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4 != 0) b64.push_back('=');
  std::string raw;
  if (!base64_decode(b64, raw) || raw.size() < kNonceBytes + kTagBytes) return std::nullopt;
  const std::size_t n = raw.size() - kNonceBytes - kTagBytes;
  std::string plain(n, '\0');
  std::string tag = raw.substr(kNonceBytes + n);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key_), bytes(raw)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(context),
                        static_cast<int>(context.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), bytes(plain), &len, bytes(raw) + kNonceBytes,
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          bytes(tag)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), bytes(plain) + len, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

}  // namespace psahost::crypto
