// Plugin loading as the host does it for real: bundled plugins load, a tampered library is
// refused with a message naming the manifest and field while the host serves on, --strict
// makes that fatal, and a plugin gets only the host calls its manifest permits.
#include "support/https_client.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> auth(const std::string& token) {
  return {{"authorization", "Bearer " + token}};
}

Json::Value plugin_entry(const Json::Value& list, const std::string& id) {
  for (const auto& p : list["items"]) {
    if (p["id"].asString() == id) return p;
  }
  return Json::nullValue;
}

}  // namespace

TEST_CASE("every bundled plugin loads and is listed with its state", "[plugins]") {
  TempDir tmp;
  Server server(tmp.path() / "var");
  server.start();
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  const auto r = client.get("/v1/plugins", auth(token));
  REQUIRE(r.status == 200);
  const auto gate = plugin_entry(r.json(), "billing-gate");
  REQUIRE(gate.isObject());
  CHECK(gate["state"].asString() == "loaded");
  CHECK(gate["version"].asString() == "1.0.0");
  CHECK(gate["last_error"].isNull());

  const auto cli = run_cli({"plugins", "list", "--data-dir", (tmp.path() / "cli").string()});
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find("billing-gate") != std::string::npos);
  CHECK(cli.out.find("loaded") != std::string::npos);
}

TEST_CASE("a tampered plugin library is refused with a clear error while the host serves",
          "[plugins]") {
  TempDir tmp;
  const fs::path plugins = tmp.path() / "plugins";
  copy_plugin(PSAHOST_PLUGIN_DIR, "billing-gate", plugins);
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", plugins);
  {
    std::ofstream lib(plugins / "billing-gate.so", std::ios::binary | std::ios::app);
    lib << "tampered";
  }
  Server server(tmp.path() / "var", {"--plugins-dir", plugins.string()});
  server.start();
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  const auto list = client.get("/v1/plugins", auth(token)).json();
  const auto gate = plugin_entry(list, "billing-gate");
  CHECK(gate["state"].asString() == "failed");
  const std::string error = gate["last_error"].asString();
  CHECK(error.find("billing-gate.json") != std::string::npos);
  CHECK(error.find("sha256") != std::string::npos);
  CHECK(plugin_entry(list, "probe")["state"].asString() == "loaded");
  CHECK(server.stderr_text().find("plugin not loaded") != std::string::npos);
  CHECK(client.get("/healthz").status == 200);

  const auto verify = run_cli({"plugins", "verify", (plugins / "billing-gate.json").string(),
                               "--data-dir", (tmp.path() / "cli").string()});
  CHECK(verify.exit_code == 1);
  CHECK(verify.out.find("sha256") != std::string::npos);
}

TEST_CASE("strict mode refuses to serve when any plugin fails", "[plugins]") {
  TempDir tmp;
  const fs::path plugins = tmp.path() / "plugins";
  copy_plugin(PSAHOST_PLUGIN_DIR, "billing-gate", plugins);
  {
    std::ofstream lib(plugins / "billing-gate.so", std::ios::binary | std::ios::app);
    lib << "x";
  }
  Server server(tmp.path() / "var", {"--plugins-dir", plugins.string(), "--strict"});
  CHECK_THROWS_WITH(server.start(), Catch::Contains("sha256"));
}

TEST_CASE("a malformed manifest is reported by file and field - and others still load",
          "[plugins]") {
  TempDir tmp;
  const fs::path plugins = tmp.path() / "plugins";
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", plugins);
  {
    std::ofstream bad(plugins / "broken.json");
    bad << R"({"id":"broken","name":"Broken","version":"one","kind":"plugin","publisher":"x",
               "sdk":"^1.0","library":"broken.so","sha256":"00","hooks":{"admission":["invoice.issue"]}})";
  }
  Server server(tmp.path() / "var", {"--plugins-dir", plugins.string()});
  server.start();
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  const auto list = client.get("/v1/plugins", auth(token)).json();
  const auto broken = plugin_entry(list, "broken");
  CHECK(broken["state"].asString() == "failed");
  CHECK(broken["last_error"].asString().find("broken.json: version") != std::string::npos);
  CHECK(broken["last_error"].asString().find("sha256") != std::string::npos);
  CHECK(plugin_entry(list, "probe")["state"].asString() == "loaded");
}

TEST_CASE("a plugin gets only the host calls its manifest permits", "[plugins]") {
  TempDir tmp;
  const fs::path plugins = tmp.path() / "plugins";
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", plugins);
  Server server(tmp.path() / "var", {"--plugins-dir", plugins.string()});
  server.start();
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  // The probe may use its key/value store and the clock, but has no billing_info:read.
  const auto r = client.post("/v1/admission", R"({"uid":"1","operation":"invoice.issue","object":{
      "client_id":"c","probe":[{"call":"clock.now"},{"call":"billing_info.status"},
      {"call":"no.such.call"},{"kv_put":"k","value":"v1"},{"kv_get":"k"}]}})",
                             auth(token));
  REQUIRE(r.status == 200);
  const auto verdict = r.json();
  CHECK(verdict["allowed"].asBool());
  const auto& w = verdict["warnings"];
  REQUIRE(w.size() == 5);
  CHECK(w[0].asString() == "call clock.now: ok");
  CHECK(w[1].asString() ==
        "call billing_info.status: error 3");  // PSA_DENIED: no billing_info:read
  CHECK(w[2].asString() == "call no.such.call: error 2");
  CHECK(w[3].asString() == "kv_put ok");
  CHECK(w[4].asString() == "kv_get v1");
  // The denial is logged with the plugin, the method and the missing permission.
  const std::string log = server.stderr_text();
  CHECK(log.find("plugin host call denied") != std::string::npos);
  CHECK(log.find("\"permission\":\"billing_info:read\"") != std::string::npos);
}

TEST_CASE("a plugin that throws or answers garbage is handled by its failure policy",
          "[plugins][admission]") {
  TempDir tmp;
  const fs::path plugins = tmp.path() / "plugins";
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", plugins);
  Server server(tmp.path() / "var", {"--plugins-dir", plugins.string()});
  server.start();
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  for (const char* object :
       {R"({"client_id":"c","probe":[{"throw":"boom"}]})", R"({"client_id":"c","garbage":true})",
        R"({"client_id":"c","probe":[{"sleep_ms":400}]})"}) {
    const auto r = client.post(
        "/v1/admission",
        std::string(R"({"uid":"1","operation":"invoice.issue","object":)") + object + "}",
        auth(token));
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.json()["allowed"].asBool());  // the probe is fail_closed
    CHECK(r.json()["type"].asString() == "urn:psahost:problem:admission-review-failed");
  }
  CHECK(client.get("/healthz").status == 200);
  const auto list = client.get("/v1/plugins", auth(token)).json();
  CHECK(plugin_entry(list, "probe")["errors"].asInt() >= 1);
}
