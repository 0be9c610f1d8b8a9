// A running host picks up plugins installed or removed on disk, on POST /v1/plugins/reload (an
// admin's) or SIGHUP, while requests keep being answered: none in flight is dropped.
#include "support/https_client.hpp"
#include "support/process.hpp"

#include <signal.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kProbeReview = R"({"uid":"r","operation":"invoice.issue",
    "object":{"client_id":"c","probe":[{"sleep_ms":20},{"call":"clock.now"}]}})";

std::string probe_state(HttpsClient& client, const std::string& token) {
  const auto r = client.get("/v1/plugins", {{"authorization", "Bearer " + token}});
  if (r.status != 200) return "error " + std::to_string(r.status);
  const Json::Value list = r.json();
  for (const auto& p : list["items"]) {
    if (p["id"] == "probe") return p["state"].asString();
  }
  return "absent";
}

}  // namespace

TEST_CASE("installed and removed plugins are picked up without dropping requests in flight",
          "[plugins][reload]") {
  TempDir tmp;
  const fs::path var = tmp.path() / "var";
  const fs::path bundle = tmp.path() / "bundle";
  copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", bundle);
  // Only what is installed: the bundled billing gate would deny the reviews below first. No rate
  // limit: the reviews come as fast as they can.
  fs::create_directories(tmp.path() / "none");
  Server server(var, {"--plugins-dir", (tmp.path() / "none").string(), "--rate-limit", "0"});
  server.start();
  const std::string admin = create_token(var, "default", "admin");
  const std::string technician = create_token(var, "default", "technician");
  HttpsClient client(server.port());
  const std::map<std::string, std::string> auth = {{"authorization", "Bearer " + admin}};
  REQUIRE(probe_state(client, admin) == "absent");

  // Reviews keep coming on connections of their own the whole time.
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::atomic<int> bad{0};
  std::string first_bad;
  std::thread load([&] {
    HttpsClient own(server.port());
    while (!stop.load()) {
      const auto r = own.post("/v1/admission", kProbeReview, auth);
      if (r.status == 200 && r.json().isMember("allowed")) {
        ++answered;
      } else if (bad++ == 0) {
        first_bad = std::to_string(r.status) + " " + r.body;
      }
    }
  });

  const auto install = run_cli({"plugins", "install", bundle.string(), "--data-dir", var.string()});
  REQUIRE(install.exit_code == 0);
  CHECK(probe_state(client, admin) == "absent");  // installed, not yet picked up

  // Reloading is an admin's: a technician is refused and nothing changes.
  CHECK(client.post("/v1/plugins/reload", "", {{"authorization", "Bearer " + technician}}).status ==
        403);
  const auto reloaded = client.post("/v1/plugins/reload", "", auth);
  REQUIRE(reloaded.status == 200);
  REQUIRE(reloaded.json()["loaded"].size() == 1);
  CHECK(reloaded.json()["loaded"][0] == "probe");
  CHECK(probe_state(client, admin) == "loaded");
  const auto reviewed = client.post("/v1/admission", kProbeReview, auth);
  REQUIRE(reviewed.status == 200);
  CHECK(reviewed.json()["warnings"][1] == "call clock.now: ok");  // the probe answered it

  // A reload with nothing changed leaves the plugin as it is.
  const auto unchanged = client.post("/v1/plugins/reload", "", auth);
  CHECK(unchanged.json()["loaded"].empty());
  CHECK(unchanged.json()["replaced"].empty());

  // Removed, then SIGHUP: the host drops it and serves on.
  REQUIRE(run_cli({"plugins", "uninstall", "probe", "--data-dir", var.string()}).exit_code == 0);
  REQUIRE(::kill(server.pid(), SIGHUP) == 0);
  CHECK(eventually([&] { return probe_state(client, admin) == "absent"; }));
  const int before = answered.load();
  CHECK(eventually([&] { return answered.load() > before; }));  // still answering after it
  stop = true;
  load.join();
  INFO(first_bad);
  CHECK(bad.load() == 0);
  CHECK(answered.load() > 0);
  const std::string log = server.stderr_text();
  CHECK(log.find("plugins reloaded") != std::string::npos);
  CHECK(log.find("plugin removed") != std::string::npos);
  CHECK(client.get("/healthz").status == 200);
}
