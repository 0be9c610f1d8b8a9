// The host's SDK version rule (Falco's): same major, and a plugin minor no newer than the
// host's. Checked both from the manifest and from the table the library itself reports.
#include "plugins/library.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

using namespace psahost::plugins;

TEST_CASE("a plugin built for the host's ABI or an older minor is compatible", "[abi]") {
  CHECK(check_abi({1, 0}, 1, 0).empty());
  CHECK(check_abi({1, 3}, 1, 0).empty());
  CHECK(check_abi({1, 3}, 1, 3).empty());
}

TEST_CASE("a plugin built for a newer minor is refused and told to upgrade the host", "[abi]") {
  const auto why = check_abi({1, 0}, 1, 1);
  CHECK_THAT(why, Catch::Contains("newer") && Catch::Contains("upgrade psahost"));
}

TEST_CASE("a plugin built for another major is refused", "[abi]") {
  CHECK_THAT(check_abi({1, 0}, 2, 0), Catch::Contains("another major"));
  CHECK_THAT(check_abi({2, 0}, 1, 9), Catch::Contains("another major"));
}

TEST_CASE("the loader refuses a manifest whose sdk range the host does not serve", "[abi]") {
  psahost::test::TempDir tmp;
  auto parsed = load_manifest(std::filesystem::path(PSAHOST_PLUGIN_DIR) / "billing-gate.json");
  REQUIRE(parsed.manifest);
  Manifest m = *parsed.manifest;
  m.sdk = "^2.0";
  m.sdk_major = 2;
  try {
    PluginLibrary::load(m, tmp.path());
    FAIL("loaded a plugin for ABI 2.0");
  } catch (const LoadError& e) {
    CHECK(e.field() == "sdk");
    CHECK_THAT(e.what(), Catch::Contains("another major"));
  }
  // A host that is older than the plugin's minor refuses it too, naming both versions.
  m.sdk = "^1.0";
  m.sdk_major = 1;
  try {
    PluginLibrary::load(m, tmp.path(), AbiVersion{1, 0});
    SUCCEED("1.0 plugin on a 1.0 host loads");
  } catch (const LoadError& e) {
    FAIL(e.what());
  }
  m.sdk_minor = 1;
  CHECK_THROWS_WITH(PluginLibrary::load(m, tmp.path(), AbiVersion{1, 0}),
                    Catch::Contains("1.1") && Catch::Contains("1.0"));
}
