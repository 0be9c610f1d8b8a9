#include "plugins/signing.hpp"

#include "core/crypto.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace psahost::plugins {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kEd25519KeyBytes = 32;
constexpr std::size_t kEd25519SignatureBytes = 64;

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

void write_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

void write_value(const Json::Value& v, std::string& out) {
  switch (v.type()) {
    case Json::nullValue:
      out += "null";
      return;
    case Json::booleanValue:
      out += v.asBool() ? "true" : "false";
      return;
    case Json::intValue:
      out += std::to_string(v.asLargestInt());
      return;
    case Json::uintValue:
      out += std::to_string(v.asLargestUInt());
      return;
    case Json::realValue: {
      const double d = v.asDouble();
      if (std::trunc(d) != d || std::fabs(d) > 9007199254740992.0) {
        throw std::invalid_argument("a signed manifest holds whole numbers only");
      }
      out += std::to_string(static_cast<long long>(d));
      return;
    }
    case Json::stringValue:
      write_string(v.asString(), out);
      return;
    case Json::arrayValue: {
      out += '[';
      for (Json::ArrayIndex i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        write_value(v[i], out);
      }
      out += ']';
      return;
    }
    case Json::objectValue: {
      auto names = v.getMemberNames();
      std::sort(names.begin(), names.end());  // byte order, whatever jsoncpp's map order is
      out += '{';
      bool first = true;
      for (const auto& name : names) {
        if (!first) out += ',';
        first = false;
        write_string(name, out);
        out += ':';
        write_value(v[name], out);
      }
      out += '}';
      return;
    }
  }
}

std::string openssl_error(const std::string& what) {
  return what + " (OpenSSL refused it)";
}

Pkey read_private_key(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    throw std::runtime_error("--key: no key file at " + file.string());
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::runtime_error("--key: " + file.string() +
                             " can be read by others than its owner; chmod 600 it");
  }
  File f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) throw std::runtime_error("--key: cannot read " + file.string());
  Pkey key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    throw std::runtime_error("--key: " + file.string() +
                             " is not an Ed25519 private key in PEM (psahost plugins keygen "
                             "writes one)");
  }
  return key;
}

std::string raw_public_key(EVP_PKEY* key) {
  std::string raw(kEd25519KeyBytes, '\0');
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != kEd25519KeyBytes) {
    throw std::runtime_error(openssl_error("cannot read the raw public key"));
  }
  return raw;
}

bool verify(const std::string& raw_key, const std::string& signature, const std::string& data) {
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(raw_key.data()),
                                       raw_key.size()),
           &EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

// Opens a new file with the given mode; never follows or replaces an existing one.
File create_exclusive(const fs::path& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + path.string() +
                             (errno == EEXIST ? ": it exists already (keys are never overwritten)"
                                              : ": " + std::system_category().message(errno)));
  }
  File f(::fdopen(fd, "wb"), &std::fclose);
  if (!f) {
    ::close(fd);
    throw std::runtime_error("cannot write " + path.string());
  }
  return f;
}

}  // namespace

std::string canonical_manifest(const Json::Value& document) {
  if (!document.isObject()) throw std::invalid_argument("a manifest is a JSON object");
  Json::Value copy = document;
  copy.removeMember("signature");
  std::string out;
  write_value(copy, out);
  return out;
}

std::string key_id_of(std::string_view raw_public_key) {
  return crypto::sha256_hex(raw_public_key).substr(0, 16);
}

std::string generate_key_pair(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("--out: cannot create " + dir.string() + ": " + ec.message());
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
  if (!key) throw std::runtime_error(openssl_error("cannot generate an Ed25519 key"));
  const fs::path private_file = dir / "publisher.key";
  const fs::path public_file = dir / "publisher.pub";
  if (fs::exists(private_file, ec) || fs::exists(public_file, ec)) {
    throw std::runtime_error("--out: " + dir.string() +
                             " holds a key pair already (keys are never overwritten)");
  }
  {
    File f = create_exclusive(private_file, 0600);
    if (PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      throw std::runtime_error(openssl_error("cannot write " + private_file.string()));
    }
  }
  File f = create_exclusive(public_file, 0644);
  if (PEM_write_PUBKEY(f.get(), key.get()) != 1) {
    throw std::runtime_error(openssl_error("cannot write " + public_file.string()));
  }
  return key_id_of(raw_public_key(key.get()));
}

PublicKey read_public_key(const fs::path& file) {
  File f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) throw std::runtime_error("cannot read public key " + file.string());
  Pkey key(PEM_read_PUBKEY(f.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    throw std::runtime_error(file.string() + " is not an Ed25519 public key in PEM");
  }
  PublicKey out;
  out.raw = raw_public_key(key.get());
  out.id = key_id_of(out.raw);
  out.source = file;
  return out;
}

Json::Value sign_manifest(Json::Value document, const fs::path& key_file) {
  const Pkey key = read_private_key(key_file);
  const std::string data = canonical_manifest(document);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string signature(kEd25519SignatureBytes, '\0');
  std::size_t len = signature.size();
  // Ed25519 hashes internally: no digest is named (a NULL one), and it signs in one shot.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      len != kEd25519SignatureBytes) {
    throw std::runtime_error(openssl_error("cannot sign with " + key_file.string()));
  }
  Json::Value sig(Json::objectValue);
  sig["key_id"] = key_id_of(raw_public_key(key.get()));
  sig["value"] = crypto::base64_encode(signature);
  document["signature"] = sig;
  return document;
}

void TrustPolicy::add_keys_from(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error("--trusted-keys: no folder at " + dir.string());
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".pub" || ext == ".pem")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    PublicKey key = read_public_key(file);
    if (!find(key.id)) keys.push_back(std::move(key));
  }
  key_dirs.push_back(dir);
}

TrustPolicy TrustPolicy::reread() const {
  TrustPolicy fresh;
  fresh.allow_unsigned = allow_unsigned;
  for (const auto& dir : key_dirs) fresh.add_keys_from(dir);
  return fresh;
}

std::vector<std::string> TrustPolicy::key_ids() const {
  std::vector<std::string> ids;
  for (const auto& k : keys) ids.push_back(k.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

fs::path default_trusted_keys_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "trusted-keys";
  const fs::path beside = exe.parent_path() / "trusted-keys";
  if (fs::is_directory(beside, ec)) return beside;
  return exe.parent_path().parent_path() / "lib" / "psahost" / "trusted-keys";
}

TrustPolicy default_trust_policy() {
  TrustPolicy policy;
  const fs::path dir = default_trusted_keys_dir();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) policy.add_keys_from(dir);
  return policy;
}

const PublicKey* TrustPolicy::find(std::string_view key_id) const {
  for (const auto& k : keys) {
    if (k.id == key_id) return &k;
  }
  return nullptr;
}

bool TrustPolicy::allows_unsigned(std::string_view plugin_id) const {
  return std::any_of(allow_unsigned.begin(), allow_unsigned.end(),
                     [&](const std::string& id) { return id == "all" || id == plugin_id; });
}

SignatureStatus check_signature(const Json::Value& document, std::string_view plugin_id,
                                const TrustPolicy& policy) {
  const std::string id(plugin_id);
  const Json::Value* signature =
      document.isObject() && document.isMember("signature") ? &document["signature"] : nullptr;
  if (!signature) {
    if (policy.allows_unsigned(plugin_id)) return {};
    throw LoadError("signature",
                    "plugin '" + id +
                        "' is not signed by a trusted publisher; to run it anyway, in a child "
                        "process, set allow_unsigned_plugins = " +
                        id + " (--allow-unsigned-plugins)");
  }
  // parse_manifest() checked the member's shape; a document that skipped it still fails here.
  const std::string key_id =
      (*signature)["key_id"].isString() ? (*signature)["key_id"].asString() : std::string();
  std::string value;
  if (!(*signature)["value"].isString() ||
      !crypto::base64_decode((*signature)["value"].asString(), value) ||
      value.size() != kEd25519SignatureBytes) {
    throw LoadError("signature.value",
                    "plugin '" + id + "': not the base64 of a 64-byte Ed25519 signature");
  }
  const PublicKey* key = policy.find(key_id);
  if (!key) {
    throw LoadError("signature.key_id",
                    "plugin '" + id + "' is signed by key " + key_id +
                        ", which is not among the trusted publisher keys (--trusted-keys)");
  }
  std::string data;
  try {
    data = canonical_manifest(document);
  } catch (const std::invalid_argument& e) {
    throw LoadError("signature", "plugin '" + id + "': " + e.what());
  }
  if (!verify(key->raw, value, data)) {
    throw LoadError("signature", "plugin '" + id + "': the signature by key " + key_id +
                                     " does not match the manifest (changed after it was signed)");
  }
  return {true, key_id};
}

}  // namespace psahost::plugins
