// psahost plugins keygen and sign, run as a publisher would: a key pair on disk, a manifest
// signed in place, the private key never printed.
#include "plugins/signing.hpp"

#include "support/process.hpp"

#include <json/reader.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace psahost::test;

TEST_CASE("plugins keygen and sign produce a manifest the trusted public key verifies",
          "[signing]") {
  TempDir tmp;
  const fs::path keys = tmp.path() / "keys";
  const auto keygen = run_cli({"plugins", "keygen", "--out", keys.string()});
  REQUIRE(keygen.exit_code == 0);
  const std::string private_pem = read_file(keys / "publisher.key");
  CHECK(keygen.out.find("PRIVATE") == std::string::npos);
  CHECK(keygen.out.find(private_pem.substr(28, 40)) == std::string::npos);

  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", tmp.path() / "plugins");
  const fs::path manifest = tmp.path() / "plugins" / "probe.json";
  const auto sign =
      run_cli({"plugins", "sign", manifest.string(), "--key", (keys / "publisher.key").string()});
  REQUIRE(sign.exit_code == 0);
  CHECK(sign.out.find("signed " + manifest.string()) == 0);

  Json::Value document;
  std::istringstream in(read_file(manifest));
  Json::CharReaderBuilder builder;
  std::string errors;
  REQUIRE(Json::parseFromStream(builder, in, &document, &errors));
  psahost::plugins::TrustPolicy trust;
  trust.add_keys_from(keys);
  CHECK(psahost::plugins::check_signature(document, "probe", trust).is_signed);

  const auto again = run_cli({"plugins", "keygen", "--out", keys.string()});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("never overwritten") != std::string::npos);
  const auto no_key = run_cli({"plugins", "sign", manifest.string()});
  CHECK(no_key.exit_code == 2);
  CHECK(no_key.err.find("--key") != std::string::npos);
}
