// What a third-party author does: install the SDK, build a plugin in an empty folder with only
// find_package(PsaSdk), and load it into psahost.
#include "support/https_client.hpp"
#include "support/process.hpp"
#include "support/sdk_example.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;
namespace fs = std::filesystem;

TEST_CASE("an out-of-tree plugin built against the installed SDK loads and answers", "[sdk]") {
  TempDir tmp;
  const fs::path plugin_dir = build_sdk_example("quantity-limit", tmp.path());
  REQUIRE(fs::exists(plugin_dir / "quantity-limit.json"));

  const auto verify = run_cli({"plugins", "verify", (plugin_dir / "quantity-limit.json").string(),
                               "--data-dir", (tmp.path() / "cli").string()});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);

  Server server(tmp.path() / "var", {"--plugins-dir", plugin_dir.string()});
  server.start();
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  const std::map<std::string, std::string> auth = {{"authorization", "Bearer " + token}};
  const auto plugins = client.get("/v1/plugins", auth).json();
  REQUIRE(plugins["items"].size() == 1);
  CHECK(plugins["items"][0]["id"].asString() == "quantity-limit");
  CHECK(plugins["items"][0]["state"].asString() == "loaded");

  const auto big = client.post("/v1/admission", R"({"uid":"a","operation":"sales_item.create",
      "object":{"client_id":"c","quantity":1000}})",
                               auth);
  REQUIRE(big.status == 200);
  CHECK_FALSE(big.json()["allowed"].asBool());
  CHECK(big.json()["reason"].asString() == "Quantity 1000 is above the limit of 100.");
  const auto small = client.post("/v1/admission", R"({"uid":"b","operation":"sales_item.create",
      "object":{"client_id":"c","quantity":3}})",
                                 auth);
  CHECK(small.json()["allowed"].asBool());
  // The plugin's own log line reaches the host's log, attributed to it.
  CHECK(server.stderr_text().find("\"plugin\":\"quantity-limit\"") != std::string::npos);
}
