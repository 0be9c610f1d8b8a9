#include "http/tls.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using psahost::http::certificate_fingerprint;
using psahost::http::configure_server_context;
using psahost::http::ensure_self_signed_certificate;

namespace {

// A fresh directory per test, removed afterwards, so tests never see each other's files.
class TempDir {
 public:
  TempDir() {
    std::string name = (fs::temp_directory_path() / "psahost-tls-XXXXXX").string();
    std::vector<char> buf(name.begin(), name.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct CtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};

std::unique_ptr<X509, X509Free> read_certificate(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "r");
  REQUIRE(f != nullptr);
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  REQUIRE(cert);
  return cert;
}

}  // namespace

TEST_CASE("a missing certificate is created with a private key only its owner can read") {
  TempDir dir;
  const auto cert = dir.path() / "tls" / "cert.pem";
  const auto key = dir.path() / "tls" / "key.pem";

  REQUIRE(ensure_self_signed_certificate(cert, key));

  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // No temporary file is left beside them.
  CHECK(std::distance(fs::directory_iterator(cert.parent_path()), fs::directory_iterator()) == 2);
}

TEST_CASE("an existing certificate and key are kept as they are") {
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  REQUIRE(ensure_self_signed_certificate(cert, key));
  const auto before = certificate_fingerprint(cert);

  CHECK_FALSE(ensure_self_signed_certificate(cert, key));
  CHECK(certificate_fingerprint(cert) == before);
}

TEST_CASE("a lone certificate without its key is replaced by a new pair") {
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  REQUIRE(ensure_self_signed_certificate(cert, key));
  const auto before = certificate_fingerprint(cert);
  fs::remove(key);

  CHECK(ensure_self_signed_certificate(cert, key));
  CHECK(certificate_fingerprint(cert) != before);
}

TEST_CASE("the generated certificate names localhost and the loopback addresses") {
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  REQUIRE(ensure_self_signed_certificate(cert, dir.path() / "key.pem"));
  auto x509 = read_certificate(cert);

  CHECK(X509_check_host(x509.get(), "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_ip_asc(x509.get(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(x509.get(), "::1", 0) == 1);
  CHECK(X509_check_host(x509.get(), "example.com", 0, 0, nullptr) != 1);

  EVP_PKEY* key = X509_get0_pubkey(x509.get());
  REQUIRE(key != nullptr);
  CHECK(EVP_PKEY_is_a(key, "EC"));
  CHECK(EVP_PKEY_get_bits(key) == 256);

  // Valid for 825 days from about now (it is backdated by a few minutes).
  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(x509.get())) == 1);
  CHECK((days == 824 || days == 825));
}

TEST_CASE("two generated certificates get different serial numbers") {
  TempDir a, b;
  REQUIRE(ensure_self_signed_certificate(a.path() / "c.pem", a.path() / "k.pem"));
  REQUIRE(ensure_self_signed_certificate(b.path() / "c.pem", b.path() / "k.pem"));
  auto x = read_certificate(a.path() / "c.pem");
  auto y = read_certificate(b.path() / "c.pem");
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(x.get()), X509_get0_serialNumber(y.get())) != 0);
}

TEST_CASE("a certificate fingerprint is 32 colon-separated upper-case hex bytes") {
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  REQUIRE(ensure_self_signed_certificate(cert, dir.path() / "key.pem"));

  const auto fingerprint = certificate_fingerprint(cert);
  CHECK(std::regex_match(fingerprint, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")));

  auto x509 = read_certificate(cert);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(X509_digest(x509.get(), EVP_sha256(), md, &len) == 1);
  char first[3];
  std::snprintf(first, sizeof first, "%02X", md[0]);
  CHECK(fingerprint.substr(0, 2) == first);
}

TEST_CASE("the fingerprint of a missing certificate names the file") {
  TempDir dir;
  const auto missing = dir.path() / "nope.pem";
  CHECK_THROWS_WITH(certificate_fingerprint(missing), Catch::Contains(missing.string()));
}

TEST_CASE("a certificate that cannot be written names the file") {
  TempDir dir;
  const auto blocker = dir.path() / "file";
  std::ofstream(blocker) << "x";
  const auto cert = blocker / "cert.pem";  // its parent is a regular file
  CHECK_THROWS_WITH(ensure_self_signed_certificate(cert, dir.path() / "key.pem"),
                    Catch::Contains(blocker.string()));
}

TEST_CASE("the server TLS context accepts TLS 1.2 and 1.3 only") {
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  REQUIRE(ensure_self_signed_certificate(cert, key));
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  REQUIRE(ctx);

  configure_server_context(ctx.get(), cert, key);

  CHECK(SSL_CTX_get_min_proto_version(ctx.get()) == TLS1_2_VERSION);
  const auto options = SSL_CTX_get_options(ctx.get());
  CHECK((options & SSL_OP_NO_TLSv1) != 0);
  CHECK((options & SSL_OP_NO_TLSv1_1) != 0);
  CHECK((options & SSL_OP_NO_RENEGOTIATION) != 0);
  CHECK(SSL_CTX_get_session_cache_mode(ctx.get()) == SSL_SESS_CACHE_SERVER);

  // Every TLS 1.2 suite offered has forward secrecy and an AEAD cipher.
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  STACK_OF(SSL_CIPHER)* ciphers = SSL_get_ciphers(ssl.get());
  REQUIRE(ciphers != nullptr);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    INFO(SSL_CIPHER_get_name(cipher));
    CHECK(SSL_CIPHER_is_aead(cipher) == 1);
    const int kx = SSL_CIPHER_get_kx_nid(cipher);
    CHECK((kx == NID_kx_ecdhe || kx == NID_kx_any));  // kx_any: the TLS 1.3 suites
  }
}

TEST_CASE("a TLS key that does not belong to the certificate is refused - naming the file") {
  TempDir a, b;
  REQUIRE(ensure_self_signed_certificate(a.path() / "cert.pem", a.path() / "key.pem"));
  REQUIRE(ensure_self_signed_certificate(b.path() / "cert.pem", b.path() / "key.pem"));
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  REQUIRE(ctx);
  const auto wrong_key = b.path() / "key.pem";

  CHECK_THROWS_WITH(configure_server_context(ctx.get(), a.path() / "cert.pem", wrong_key),
                    Catch::Contains(wrong_key.string()));
}

TEST_CASE("a missing TLS certificate is refused - naming the file") {
  TempDir dir;
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  REQUIRE(ctx);
  const auto cert = dir.path() / "missing-cert.pem";

  CHECK_THROWS_WITH(configure_server_context(ctx.get(), cert, dir.path() / "key.pem"),
                    Catch::Contains(cert.string()));
}
