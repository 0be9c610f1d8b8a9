#include "http/tls.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

namespace psahost::http {
namespace {

namespace fs = std::filesystem;

constexpr int kValidityDays = 825;
// Mozilla "intermediate" without the DHE suites: forward secrecy and AEAD only. TLS 1.3 suites
// are configured separately by OpenSSL and are all AEAD already.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr unsigned char kSessionIdContext[] = "psahost";

struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

[[noreturn]] void fail(std::string_view what, const fs::path& file, const std::string& why) {
  throw std::runtime_error(std::string(what) + " " + file.string() + ": " + why);
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

// Writes to a temporary file beside target and renames it over target, so that a crash never
// leaves a half-written key or a key that was readable by others for a moment.
void write_atomically(const fs::path& target, const std::string& data, mode_t mode) {
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) fail("cannot create the directory of", target, ec.message());

  std::string name = target.string() + ".tmp-XXXXXX";
  std::vector<char> tmp(name.begin(), name.end());
  tmp.push_back('\0');
  const int fd = ::mkstemp(tmp.data());  // mode 0600 from the start
  if (fd < 0)
    fail("cannot create a temporary file for", target, std::generic_category().message(errno));
  const auto abandon = [&](const char* why) {
    const std::string reason = std::string(why) + ": " + std::generic_category().message(errno);
    ::close(fd);
    ::unlink(tmp.data());
    fail("cannot write", target, reason);
  };
  if (::fchmod(fd, mode) != 0) abandon("fchmod");
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) abandon("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) abandon("fsync");
  if (::close(fd) != 0) {
    const std::string reason = std::string("close: ") + std::generic_category().message(errno);
    ::unlink(tmp.data());
    fail("cannot write", target, reason);
  }
  if (::rename(tmp.data(), target.c_str()) != 0) {
    const std::string reason = std::string("rename: ") + std::generic_category().message(errno);
    ::unlink(tmp.data());
    fail("cannot write", target, reason);
  }
}

void add_extension(X509* cert, int nid, const char* value, const fs::path& file) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, const_cast<char*>(value)));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    fail("cannot build certificate", file, openssl_errors());
  }
}

X509Ptr build_certificate(EVP_PKEY* key, const fs::path& file) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    fail("cannot build certificate", file, openssl_errors());
  }
  // 159 random bits: positive, at most 20 octets (RFC 5280), and never reused across hosts.
  std::unique_ptr<BIGNUM, BnFree> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    fail("cannot build certificate", file, openssl_errors());
  }
  // Backdated a little so that a client whose clock lags accepts it right away.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * kValidityDays)) {
    fail("cannot build certificate", file, openssl_errors());
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    fail("cannot build certificate", file, openssl_errors());
  }
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE", file);
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature", file);
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth", file);
  add_extension(cert.get(), NID_subject_key_identifier, "hash", file);
  add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1", file);
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
    fail("cannot sign certificate", file, openssl_errors());
  }
  return cert;
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

bool ensure_self_signed_certificate(const fs::path& cert, const fs::path& key) {
  std::error_code ec_cert, ec_key;
  if (fs::exists(cert, ec_cert) && fs::exists(key, ec_key)) return false;

  PkeyPtr pkey(EVP_EC_gen("P-256"));
  if (!pkey) fail("cannot generate the key for", key, openssl_errors());
  X509Ptr x509 = build_certificate(pkey.get(), cert);

  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || PEM_write_bio_PrivateKey(key_bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr,
                                           nullptr) != 1) {
    fail("cannot encode key", key, openssl_errors());
  }
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || PEM_write_bio_X509(cert_bio.get(), x509.get()) != 1) {
    fail("cannot encode certificate", cert, openssl_errors());
  }

  std::string key_pem = bio_contents(key_bio.get());
  // The key goes first: a certificate on disk without its key would look usable but is not.
  try {
    write_atomically(key, key_pem, 0600);
  } catch (...) {
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    throw;
  }
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  write_atomically(cert, bio_contents(cert_bio.get()), 0644);
  return true;
}

std::string certificate_fingerprint(const fs::path& cert) {
  BioPtr bio(BIO_new_file(cert.c_str(), "r"));
  if (!bio) fail("cannot open certificate", cert, openssl_errors());
  X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x509) fail("cannot read certificate", cert, openssl_errors());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x509.get(), EVP_sha256(), md, &len) != 1) {
    fail("cannot hash certificate", cert, openssl_errors());
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(std::size_t{len} * 3);
  for (unsigned int i = 0; i < len; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0x0f];
  }
  return out;
}

void configure_server_context(SSL_CTX* ctx, const fs::path& cert, const fs::path& key) {
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot set the minimum TLS version: " + openssl_errors());
  }
  // The minimum version alone already refuses older protocols; the options keep them refused
  // if a system-wide openssl.cnf lowers MinProtocol.
  SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                               SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle keep-alive connection gives its ~34 KiB of TLS record buffers back until it reads
  // or writes again: thousands of idle connections would otherwise hold them all.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    throw std::runtime_error("cannot set the TLS 1.2 cipher list: " + openssl_errors());
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) != 1) {
    throw std::runtime_error("cannot set the TLS session id context: " + openssl_errors());
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    fail("cannot load TLS certificate", cert, openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("cannot load TLS key", key, openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw std::runtime_error("TLS key " + key.string() + " does not match certificate " +
                             cert.string() + ": " + openssl_errors());
  }
}

}  // namespace psahost::http
