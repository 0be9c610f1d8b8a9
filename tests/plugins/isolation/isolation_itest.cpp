// Plugins that crash, hang, leak or scribble on their channel, run process-isolated (and one
// hanging in-process): each call is answered by the failure policy by its deadline, the runner
// is restarted or given up on, and the host goes on answering other tenants and other plugins.
#include "support/https_client.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <json/reader.h>
#include <json/writer.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <sstream>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> auth(const std::string& token) {
  return {{"authorization", "Bearer " + token}};
}

void edit_manifest(const fs::path& path, const Json::Value& members) {
  Json::Value manifest;
  {
    std::ifstream in(path);
    Json::CharReaderBuilder rb;
    std::string errors;
    REQUIRE(Json::parseFromStream(rb, in, &manifest, &errors));
  }
  for (const auto& name : members.getMemberNames()) manifest[name] = members[name];
  std::ofstream(path, std::ios::trunc) << Json::writeString(Json::StreamWriterBuilder(), manifest);
  sign_with_build_key(path);  // the build signed the original; the host refuses any change
}

// Process ids whose parent is pid (the runners of a host).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t parent = 0;
    rest >> state >> parent;
    if (parent == pid && state != 'Z') out.push_back(std::stoi(name));
  }
  return out;
}

bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z';
}

// A host serving the misbehaving plugin (in the given mode) beside the billing gate.
struct IsolatedHost {
  TempDir tmp;
  fs::path plugins;
  std::unique_ptr<Server> server;
  std::string token;
  std::string other_token;
  std::unique_ptr<HttpsClient> client;

  explicit IsolatedHost(const std::string& mode, Json::Value manifest = Json::objectValue,
                        std::vector<std::string> args = {},
                        const std::vector<std::string>& also = {}) {
    plugins = tmp.path() / "plugins";
    copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "misbehaving", plugins);
    for (const auto& id : also) copy_plugin(PSAHOST_TEST_PLUGIN_DIR, id, plugins);
    copy_plugin(PSAHOST_PLUGIN_DIR, "billing-gate", plugins);
    Json::Value config;
    config["mode"] = mode;
    set_config_defaults(plugins / "misbehaving.json", config);
    if (!manifest.getMemberNames().empty()) edit_manifest(plugins / "misbehaving.json", manifest);
    args.insert(args.begin(), {"--plugins-dir", plugins.string()});
    server = std::make_unique<Server>(tmp.path() / "var", args);
    server->start();
    token = create_token(server->data_dir(), "default", "admin");
    other_token = create_token(server->data_dir(), "other", "admin");
    client = std::make_unique<HttpsClient>(server->port());
  }

  // An admission review only the misbehaving plugin is asked about.
  HttpResponse review_run() {
    return client->post(
        "/v1/admission",
        R"({"uid":"u1","operation":"billing_run.start","object":{"period":"2026-11"}})",
        auth(token));
  }

  // What another tenant and another plugin get meanwhile: answers.
  void others_are_served() {
    CHECK(client->get("/healthz").status == 200);
    HttpsClient other(server->port());
    CHECK(other.get("/v1/clients", auth(other_token)).status == 200);
    const auto gate = other.post(
        "/v1/admission",
        R"({"uid":"u2","operation":"sales_item.create","object":{"client_id":"cli_nobody"}})",
        auth(other_token));
    INFO(gate.body);
    CHECK(gate.status == 200);
    CHECK(gate.json()["allowed"].isBool());
  }

  Json::Value plugin_entry(const std::string& id = "misbehaving") {
    const auto list = client->get("/v1/plugins", auth(token)).json();
    for (const auto& p : list["items"]) {
      if (p["id"].asString() == id) return p;
    }
    return Json::nullValue;
  }

  bool logged(const std::string& text) const {
    return server->stderr_text().find(text) != std::string::npos ||
           server->stdout_text().find(text) != std::string::npos;
  }
};

// fail_open: a failed review lets the operation through, with a warning naming the plugin.
void require_allowed_by_policy(const HttpResponse& r) {
  INFO(r.body);
  REQUIRE(r.status == 200);
  const auto body = r.json();
  CHECK(body["allowed"].asBool());
  REQUIRE(body["warnings"].size() >= 1);
  CHECK(body["warnings"][0].asString().find("misbehaving") != std::string::npos);
}

}  // namespace

TEST_CASE("a process-isolated plugin that answers runs in a runner of its own", "[isolation]") {
  IsolatedHost host("ok");
  const auto r = host.review_run();
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.json()["allowed"].asBool());
  CHECK(r.json()["warnings"].size() == 0);
  const auto entry = host.plugin_entry();
  CHECK(entry["state"].asString() == "loaded");
  CHECK(entry["isolation"].asString() == "process");
  CHECK(children_of(host.server->pid()).size() == 1);
}

TEST_CASE("a plugin that segfaults is answered by its policy, logged with the signal and restarted",
          "[isolation]") {
  IsolatedHost host("segfault");
  require_allowed_by_policy(host.review_run());
  CHECK(eventually([&] { return host.logged("SIGSEGV"); }));
  host.others_are_served();
  // Restarted with a fresh init: it is asked (and crashes) again rather than being skipped.
  CHECK(eventually([&] { return host.plugin_entry()["restarts"].asInt() >= 1; }));
  CHECK(eventually([&] {
    const auto r = host.review_run();
    return r.status == 200 && r.body.find("crashed") != std::string::npos;
  }));
}

TEST_CASE("a plugin that keeps crashing is marked failed with the reason, and enabling it retries",
          "[isolation]") {
  IsolatedHost host("abort");
  CHECK(eventually(
      [&] {
        require_allowed_by_policy(host.review_run());
        return host.plugin_entry()["state"].asString() == "failed";
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)));
  const auto entry = host.plugin_entry();
  CHECK(entry["last_error"].asString().find("SIGABRT") != std::string::npos);
  CHECK(host.logged("plugin failed"));
  const auto metrics = host.client->get("/metrics").body;
  CHECK(metrics.find(
            R"(psahost_plugin_state{plugin="misbehaving",state="failed",isolation="process"} 1)") !=
        std::string::npos);
  host.others_are_served();
  // A failed plugin is answered by its policy at once.
  require_allowed_by_policy(host.review_run());

  const int spent = host.plugin_entry()["restarts"].asInt();
  REQUIRE(spent >= 1);

  const auto enabled = host.client->post("/v1/plugins/misbehaving/enable", "{}", auth(host.token));
  INFO(enabled.body);
  REQUIRE(enabled.status == 200);
  CHECK(enabled.json()["state"].asString() == "loaded");
  CHECK(enabled.json()["last_error"].isNull());
  CHECK(eventually([&] { return host.logged("\"restarted\":true"); }));
  // Started again and asked again: the call reaches a new runner, which crashes on it, rather
  // than being answered by the failure policy without asking.
  CHECK(eventually(
      [&] {
        const auto r = host.review_run();
        return r.status == 200 && r.body.find("crashed") != std::string::npos;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)));
  // A fresh budget: it is given up on again only after as many restarts as the first time, not
  // at the first crash after the switch.
  CHECK(eventually(
      [&] {
        require_allowed_by_policy(host.review_run());
        return host.plugin_entry()["state"].asString() == "failed";
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)));
  const auto again = host.plugin_entry();
  INFO(again);
  CHECK(again["restarts"].asInt() == 2 * spent);
  CHECK(again["last_error"].asString().find("SIGABRT") != std::string::npos);
}

TEST_CASE("a plugin that exits is restarted and the host serves on", "[isolation]") {
  IsolatedHost host("exit");
  require_allowed_by_policy(host.review_run());
  CHECK(eventually([&] { return host.logged("exited with status 7"); }));
  host.others_are_served();
}

TEST_CASE("a hanging process-isolated hook is answered at its deadline and its runner replaced",
          "[isolation]") {
  Json::Value manifest;
  manifest["failure_policy"] = "fail_closed";
  IsolatedHost host("hang", manifest);
  for (int i = 0; i < 3; ++i) {
    const auto r = host.review_run();
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.json()["allowed"].asBool());
    CHECK(r.json()["reason"].asString().find("timed out") != std::string::npos);
    host.others_are_served();
  }
  CHECK(eventually([&] { return host.logged("missed 3 deadlines in a row"); }));
  CHECK(eventually([&] { return host.plugin_entry()["restarts"].asInt() >= 1; }));
  // SIGTERM stops the host and its runner, hung hook or not.
  const pid_t pid = host.server->pid();
  const auto runners = children_of(pid);
  CHECK(host.server->stop(SIGTERM) == 0);
  for (pid_t runner : runners) CHECK(eventually([&] { return !alive(runner); }));
}

TEST_CASE("a plugin allocating past its memory limit fails its call, not the host", "[isolation]") {
  IsolatedHost host("allocate");
  require_allowed_by_policy(host.review_run());
  host.others_are_served();
  require_allowed_by_policy(host.review_run());
}

TEST_CASE("a runner writing garbage to its channel is killed and restarted", "[isolation]") {
  IsolatedHost host("garbage");
  require_allowed_by_policy(host.review_run());
  CHECK(eventually([&] { return host.logged("over the limit"); }));
  host.others_are_served();
  CHECK(eventually([&] { return host.plugin_entry()["restarts"].asInt() >= 1; }));
}

TEST_CASE("a runner answering a request id the host never sent is killed and restarted",
          "[isolation]") {
  IsolatedHost host("wrong_id");
  const auto r = host.review_run();
  require_allowed_by_policy(r);
  // Its answer ("not yours") decided nothing: the call was the failure policy's.
  CHECK(r.body.find("not yours") == std::string::npos);
  CHECK(eventually(
      [&] { return host.logged("answered request id 987654321, which was never sent"); }));
  host.others_are_served();
  CHECK(eventually([&] { return host.plugin_entry()["restarts"].asInt() >= 1; }));
}

TEST_CASE("a runner that sends part of a frame and then nothing is killed and restarted",
          "[isolation]") {
  IsolatedHost host("partial");
  // The call is answered by its deadline whatever the reader is waiting for.
  require_allowed_by_policy(host.review_run());
  host.others_are_served();
  CHECK(
      eventually([&] { return host.logged("part of a frame (12 of 41 bytes) and then nothing"); }));
  CHECK(eventually([&] { return host.plugin_entry()["restarts"].asInt() >= 1; }));
  host.others_are_served();
}

TEST_CASE("a runner whose handshake carries another ABI major is refused and the host serves on",
          "[isolation]") {
  IsolatedHost host("ok", Json::objectValue, {}, {"other-abi"});
  const auto entry = host.plugin_entry("other-abi");
  INFO(entry.toStyledString());
  CHECK(entry["state"].asString() == "failed");
  CHECK(entry["last_error"].asString().find("plugin ABI 2.0 has another major version") !=
        std::string::npos);
  CHECK(host.logged("plugin ABI 2.0 has another major version"));
  // Neither its runner nor any call of it is left over; the plugin beside it runs.
  CHECK(children_of(host.server->pid()).size() == 1);
  const auto r = host.review_run();
  INFO(r.body);
  CHECK(r.json()["allowed"].asBool());
  CHECK(r.json()["warnings"].size() == 0);
  host.others_are_served();
}

TEST_CASE("a process-isolated plugin whose init fails is not loaded, with its own reason",
          "[isolation]") {
  IsolatedHost host("fail_init");
  const auto entry = host.plugin_entry();
  CHECK(entry["state"].asString() == "failed");
  CHECK(entry["last_error"].asString().find("refuses to start, as told") != std::string::npos);
  host.others_are_served();
}

TEST_CASE("no runner outlives a host killed with SIGKILL", "[isolation]") {
  IsolatedHost host("ok");
  REQUIRE(host.review_run().status == 200);
  const auto runners = children_of(host.server->pid());
  REQUIRE(runners.size() == 1);
  host.server->kill_hard();
  CHECK(eventually([&] { return !alive(runners[0]); }));
}

TEST_CASE(
    "an in-process hook that hangs is answered at its deadline and SIGTERM still stops the "
    "host",
    "[isolation]") {
  Json::Value manifest;
  manifest["isolation"] = "in_process";
  IsolatedHost host("hang", manifest);
  for (int i = 0; i < 3; ++i) {
    const auto r = host.review_run();
    require_allowed_by_policy(r);
    CHECK(r.body.find("timed out") != std::string::npos);
    host.others_are_served();
  }
  CHECK(host.plugin_entry()["isolation"].asString() == "in_process");
  CHECK(host.server->stop(SIGTERM) == 0);
}

TEST_CASE("a plugin named by --isolate-plugins runs in a runner whatever its manifest says",
          "[isolation]") {
  Json::Value manifest;
  manifest["isolation"] = "in_process";
  IsolatedHost host("segfault", manifest, {"--isolate-plugins", "misbehaving"});
  CHECK(host.plugin_entry()["isolation"].asString() == "process");
  require_allowed_by_policy(host.review_run());
  host.others_are_served();
}
