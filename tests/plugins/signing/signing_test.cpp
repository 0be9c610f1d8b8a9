// Publisher signatures: real Ed25519 key pairs on disk, the canonical form, and every refusal
// the loader's signature check gives (unsigned, unknown key, malformed value, a changed manifest).
#include "plugins/signing.hpp"

#include "support/process.hpp"

#include <json/reader.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using psahost::plugins::canonical_manifest;
using psahost::plugins::check_signature;
using psahost::plugins::generate_key_pair;
using psahost::plugins::LoadError;
using psahost::plugins::read_public_key;
using psahost::plugins::sign_manifest;
using psahost::plugins::TrustPolicy;
using psahost::test::TempDir;

Json::Value json(const std::string& text) {
  Json::Value v;
  std::istringstream in(text);
  Json::CharReaderBuilder b;
  std::string errors;
  REQUIRE(Json::parseFromStream(b, in, &v, &errors));
  return v;
}

Json::Value manifest() {
  return json(R"({"id": "quantity-limit", "name": "Quantity limit", "version": "1.0.0",
    "kind": "plugin", "publisher": "Example Ltd", "sdk": "^1.0", "library": "q.so",
    "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "hooks": {"admission": ["sales_item.create"]}, "timeout_ms": 250})");
}

// The refusal check_signature gives, as "field: message".
std::string refusal(const Json::Value& document, const TrustPolicy& policy) {
  try {
    check_signature(document, document["id"].asString(), policy);
  } catch (const LoadError& e) {
    return e.field() + ": " + e.what();
  }
  return "";
}

struct Publisher {
  TempDir dir;
  std::string key_id = generate_key_pair(dir.path());
  fs::path key() const { return dir.path() / "publisher.key"; }
  TrustPolicy trust() const {
    TrustPolicy policy;
    policy.add_keys_from(dir.path());
    return policy;
  }
};

}  // namespace

TEST_CASE("the canonical manifest sorts members, drops the signature and has no whitespace",
          "[signing]") {
  const auto document = json(R"({"b": [1, {"z": true, "a": null}], "a": "x\"\n\u00e9",
                                 "signature": {"key_id": "0123456789abcdef"}})");
  CHECK(canonical_manifest(document) ==
        "{\"a\":\"x\\\"\\u000a\u00e9\",\"b\":[1,{\"a\":null,\"z\":true}]}");
  CHECK_THROWS_AS(canonical_manifest(json(R"({"timeout_ms": 1.5})")), std::invalid_argument);
}

TEST_CASE("keygen writes a private key only its owner can read and never overwrites one",
          "[signing]") {
  TempDir dir;
  const std::string id = generate_key_pair(dir.path());
  CHECK(id.size() == 16);
  struct stat st {};
  REQUIRE(::stat((dir.path() / "publisher.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_public_key(dir.path() / "publisher.pub").id == id);
  CHECK_THROWS_WITH(generate_key_pair(dir.path()), Catch::Contains("never overwritten"));
}

TEST_CASE("a manifest signed by a trusted key verifies, and the signature names the key",
          "[signing]") {
  Publisher publisher;
  const auto signed_doc = sign_manifest(manifest(), publisher.key());
  CHECK(signed_doc["signature"]["key_id"].asString() == publisher.key_id);
  CHECK(signed_doc["signature"]["value"].asString().size() == 88);
  const auto status = check_signature(signed_doc, "quantity-limit", publisher.trust());
  CHECK(status.is_signed);
  CHECK(status.key_id == publisher.key_id);
  // Member order and whitespace are not part of what is signed.
  Json::Value reordered(Json::objectValue);
  for (const auto& name : signed_doc.getMemberNames()) reordered[name] = signed_doc[name];
  CHECK(check_signature(reordered, "quantity-limit", publisher.trust()).is_signed);
}

TEST_CASE("a manifest changed after signing is refused naming the plugin and the field",
          "[signing]") {
  Publisher publisher;
  auto document = sign_manifest(manifest(), publisher.key());
  SECTION("another library digest (a swapped library re-hashed into the manifest)") {
    document["sha256"] = std::string(64, 'a');
  }
  SECTION("a widened permission") {
    document["permissions"].append("clients:write");
  }
  SECTION("a longer timeout") {
    document["timeout_ms"] = 251;
  }
  CHECK(refusal(document, publisher.trust()) ==
        "signature: plugin 'quantity-limit': the signature by key " + publisher.key_id +
            " does not match the manifest (changed after it was signed)");
}

TEST_CASE("a signature by an unknown key is refused, whatever allow_unsigned_plugins says",
          "[signing]") {
  Publisher publisher;
  Publisher stranger;
  const auto document = sign_manifest(manifest(), stranger.key());
  TrustPolicy policy = publisher.trust();
  policy.allow_unsigned = {"all"};
  CHECK(refusal(document, policy) ==
        "signature.key_id: plugin 'quantity-limit' is signed by key " + stranger.key_id +
            ", which is not among the trusted publisher keys (--trusted-keys)");
}

TEST_CASE("a signature that claims a trusted key but was made by another is refused", "[signing]") {
  Publisher publisher;
  Publisher stranger;
  auto document = sign_manifest(manifest(), stranger.key());
  document["signature"]["key_id"] = publisher.key_id;
  CHECK(refusal(document, publisher.trust())
            .find("signature: plugin 'quantity-limit': the "
                  "signature by key " +
                  publisher.key_id) == 0);
}

TEST_CASE("a malformed signature value is refused as such", "[signing]") {
  Publisher publisher;
  auto document = sign_manifest(manifest(), publisher.key());
  document["signature"]["value"] = "not base64!";
  CHECK(refusal(document, publisher.trust()) ==
        "signature.value: plugin 'quantity-limit': not the base64 of a 64-byte Ed25519 signature");
}

TEST_CASE("an unsigned plugin is refused unless allow_unsigned_plugins names it or says all",
          "[signing]") {
  Publisher publisher;
  TrustPolicy policy = publisher.trust();
  CHECK(refusal(manifest(), policy) ==
        "signature: plugin 'quantity-limit' is not signed by a trusted publisher; to run it "
        "anyway, in a child process, set allow_unsigned_plugins = quantity-limit "
        "(--allow-unsigned-plugins)");
  policy.allow_unsigned = {"other-plugin"};
  CHECK_FALSE(refusal(manifest(), policy).empty());
  policy.allow_unsigned = {"other-plugin", "quantity-limit"};
  const auto status = check_signature(manifest(), "quantity-limit", policy);
  CHECK_FALSE(status.is_signed);
  policy.allow_unsigned = {"all"};
  CHECK(refusal(manifest(), policy).empty());
}

TEST_CASE("signing refuses a private key others can read, and a key that is not Ed25519",
          "[signing]") {
  Publisher publisher;
  fs::permissions(publisher.key(), fs::perms::group_read, fs::perm_options::add);
  CHECK_THROWS_WITH(sign_manifest(manifest(), publisher.key()), Catch::Contains("chmod 600"));
  TempDir dir;
  std::ofstream(dir.path() / "bad.key") << "-----BEGIN PRIVATE KEY-----\nAAAA\n";
  fs::permissions(dir.path() / "bad.key", fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  CHECK_THROWS_WITH(sign_manifest(manifest(), dir.path() / "bad.key"),
                    Catch::Contains("not an Ed25519 private key"));
  std::ofstream(dir.path() / "junk.pub") << "junk";
  TrustPolicy policy;
  CHECK_THROWS_WITH(policy.add_keys_from(dir.path()), Catch::Contains("junk.pub"));
}
