// Publisher signatures enforced where plugins load, with the real binary, real keys and real
// files: the build signs its plugins with a key the host trusts by default; an unsigned plugin,
// a manifest changed after signing, a swapped library, an unknown key and a bad signature are
// each refused with one message naming the plugin, the field and the reason, and the host serves
// on (or stops, with --strict); an unsigned plugin the partner lets in never runs in-process.
#include "core/crypto.hpp"
#include "plugins/signing.hpp"
#include "support/https_client.hpp"
#include "support/process.hpp"

#include <json/reader.h>
#include <json/writer.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> auth(const std::string& token) {
  return {{"authorization", "Bearer " + token}};
}

Json::Value read_json(const fs::path& file) {
  Json::Value v;
  std::istringstream in(read_file(file));
  Json::CharReaderBuilder builder;
  std::string errors;
  if (!Json::parseFromStream(builder, in, &v, &errors)) {
    throw std::runtime_error(file.string() + ": " + errors);
  }
  return v;
}

void write_json(const fs::path& file, const Json::Value& v) {
  std::ofstream(file, std::ios::trunc) << Json::writeString(Json::StreamWriterBuilder(), v);
}

Json::Value plugin_entry(const Json::Value& list, const std::string& id) {
  for (const auto& p : list["items"]) {
    if (p["id"].asString() == id) return p;
  }
  return Json::nullValue;
}

std::string build_key_id() {
  return psahost::plugins::read_public_key(fs::path(PSAHOST_TRUSTED_KEYS_DIR) / "build.pub").id;
}

// A host serving billing-gate (bundled, signed) and a copy of the probe that a test has changed.
struct TrustHost {
  TempDir tmp;
  fs::path plugins = tmp.path() / "plugins";
  fs::path probe = plugins / "probe.json";
  std::unique_ptr<Server> server;
  std::string token;
  std::unique_ptr<HttpsClient> client;

  TrustHost() {
    copy_plugin(PSAHOST_PLUGIN_DIR, "billing-gate", plugins);
    copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", plugins);
  }

  void plugins_without_gate() {
    fs::remove(plugins / "billing-gate.json");
    fs::remove(plugins / "billing-gate.so");
  }

  void start(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--plugins-dir", plugins.string()});
    server = std::make_unique<Server>(tmp.path() / "var", args);
    server->start();
    token = create_token(server->data_dir(), "default", "admin");
    client = std::make_unique<HttpsClient>(server->port());
  }

  Json::Value listed(const std::string& id) {
    const auto r = client->get("/v1/plugins", auth(token));
    REQUIRE(r.status == 200);
    return plugin_entry(r.json(), id);
  }

  // The probe's entry once the host is up: refused with a message naming it, its field and the
  // reason, while the signed bundled plugin loads and the host answers.
  std::string refused_probe(const std::string& signature = "refused") {
    const auto entry = listed("probe");
    CHECK(entry["state"].asString() == "failed");
    CHECK(entry["signature"]["status"].asString() == signature);
    const auto gate = listed("billing-gate");
    CHECK(gate["state"].asString() == "loaded");
    CHECK(gate["signature"]["status"].asString() == "trusted");
    CHECK(client->get("/healthz").status == 200);
    CHECK(server->stderr_text().find("plugin not loaded") != std::string::npos);
    const std::string error = entry["last_error"].asString();
    CHECK(error.find(probe.string()) == 0);
    CHECK(error.find("'probe'") != std::string::npos);
    return error;
  }

  CliResult verify_probe(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"plugins", "verify", probe.string(), "--data-dir",
                                     (tmp.path() / "cli").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
};

}  // namespace

TEST_CASE("the build signs its plugins and the host trusts its key by default",
          "[plugins][trust]") {
  TrustHost host;
  host.start();
  const std::string key_id = build_key_id();
  for (const std::string id : {"billing-gate", "probe"}) {
    const auto entry = host.listed(id);
    INFO(id);
    CHECK(entry["state"].asString() == "loaded");
    CHECK(entry["signature"]["status"].asString() == "trusted");
    CHECK(entry["signature"]["key_id"].asString() == key_id);
    CHECK(entry["isolation"].asString() == "in_process");
  }
  // The CLI loads plugins with the same trust and shows it.
  const auto list = run_cli({"plugins", "list", "--data-dir", (host.tmp.path() / "cli").string()});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("SIGNATURE") != std::string::npos);
  CHECK(list.out.find("trusted") != std::string::npos);
  const auto verify = host.verify_probe();
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("signed by key " + key_id) != std::string::npos);
}

TEST_CASE("an unsigned plugin is refused, naming the setting that would let it in",
          "[plugins][trust]") {
  TrustHost host;
  Json::Value manifest = read_json(host.probe);
  manifest.removeMember("signature");
  write_json(host.probe, manifest);
  host.start();
  const std::string error = host.refused_probe();
  CHECK(error.find("probe.json: signature: plugin 'probe' is not signed by a trusted publisher") !=
        std::string::npos);
  CHECK(error.find("allow_unsigned_plugins = probe (--allow-unsigned-plugins)") !=
        std::string::npos);

  const auto verify = host.verify_probe();
  CHECK(verify.exit_code == 1);
  CHECK(verify.out.find("signature refused") != std::string::npos);
  CHECK(verify.out.find("signature: plugin 'probe' is not signed") != std::string::npos);
}

TEST_CASE("an unsigned plugin let in by --allow-unsigned-plugins runs in a child process only",
          "[plugins][trust]") {
  TrustHost host;
  Json::Value manifest = read_json(host.probe);
  manifest.removeMember("signature");
  REQUIRE(manifest.get("isolation", "in_process") == "in_process");  // it asks to run in-process
  write_json(host.probe, manifest);
  // The bundled gate also reviews invoice.issue, and would deny the review below first.
  host.plugins_without_gate();
  host.start({"--allow-unsigned-plugins", "probe"});
  const auto entry = host.listed("probe");
  CHECK(entry["state"].asString() == "loaded");
  CHECK(entry["signature"]["status"].asString() == "unsigned");
  CHECK(entry["signature"]["key_id"].isNull());
  CHECK(entry["isolation"].asString() == "process");
  CHECK(host.server->stderr_text().find("it runs in a child process") != std::string::npos);
  // It answers from its runner.
  const auto r = host.client->post("/v1/admission", R"({"uid":"1","operation":"invoice.issue",
      "object":{"client_id":"c","probe":[{"call":"clock.now"}]}})",
                                   auth(host.token));
  REQUIRE(r.status == 200);
  CHECK(r.json()["allowed"].asBool());
  CHECK(r.json()["warnings"][0].asString() == "call clock.now: ok");

  const auto verify = host.verify_probe({"--allow-unsigned-plugins", "all"});
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("unsigned, let in by --allow-unsigned-plugins") != std::string::npos);
}

TEST_CASE("a manifest changed after it was signed is refused, whatever allow_unsigned says",
          "[plugins][trust]") {
  TrustHost host;
  Json::Value manifest = read_json(host.probe);
  REQUIRE(manifest.isMember("signature"));
  manifest["permissions"].append("clients:read");  // a plugin granting itself more
  write_json(host.probe, manifest);
  host.start({"--allow-unsigned-plugins", "all"});
  const std::string error = host.refused_probe();
  CHECK(error.find("probe.json: signature: plugin 'probe': the signature by key " + build_key_id() +
                   " does not match the manifest") != std::string::npos);
  CHECK(host.verify_probe().out.find("does not match the manifest") != std::string::npos);
}

TEST_CASE("a swapped library is refused by the sha256 its signed manifest carries",
          "[plugins][trust]") {
  TrustHost host;
  fs::copy_file(fs::path(PSAHOST_TEST_PLUGIN_DIR) / "recorder.so", host.plugins / "probe.so",
                fs::copy_options::overwrite_existing);
  host.start();
  // The signature is good: what it vouches for (the library's sha256) is not what is there.
  const std::string error = host.refused_probe("trusted");
  CHECK(error.find("probe.json: sha256: plugin 'probe': library " +
                   (host.plugins / "probe.so").string() + " has sha256 ") != std::string::npos);
  CHECK(host.verify_probe().out.find("sha256: plugin 'probe'") != std::string::npos);
}

TEST_CASE("a signature by a key the host does not trust is refused until the key is trusted",
          "[plugins][trust]") {
  TrustHost host;
  const fs::path keys = host.tmp.path() / "publisher";
  REQUIRE(run_cli({"plugins", "keygen", "--out", keys.string()}).exit_code == 0);
  const std::string key_id = psahost::plugins::read_public_key(keys / "publisher.pub").id;
  REQUIRE(
      run_cli({"plugins", "sign", host.probe.string(), "--key", (keys / "publisher.key").string()})
          .exit_code == 0);
  SECTION("by default") {
    host.start({"--allow-unsigned-plugins", "probe"});
    const std::string error = host.refused_probe();
    CHECK(error.find("probe.json: signature.key_id: plugin 'probe' is signed by key " + key_id +
                     ", which is not among the trusted publisher keys (--trusted-keys)") !=
          std::string::npos);
    CHECK(host.listed("probe")["signature"]["key_id"].asString() == key_id);
  }
  SECTION("with the publisher's key among --trusted-keys") {
    fs::create_directories(host.tmp.path() / "trusted");
    fs::copy_file(keys / "publisher.pub", host.tmp.path() / "trusted" / "acme.pub");
    host.start({"--trusted-keys", (host.tmp.path() / "trusted").string(), "--trusted-keys",
                PSAHOST_TRUSTED_KEYS_DIR});
    const auto entry = host.listed("probe");
    CHECK(entry["state"].asString() == "loaded");
    CHECK(entry["signature"]["status"].asString() == "trusted");
    CHECK(entry["signature"]["key_id"].asString() == key_id);
    CHECK(entry["isolation"].asString() == "in_process");
    // --trusted-keys replaces the default: the build's key is trusted here only because it is
    // named, and a host given just the publisher's folder refuses the bundled gate.
    CHECK(host.listed("billing-gate")["signature"]["status"].asString() == "trusted");
    const auto verify = run_cli({"plugins", "verify", (host.plugins / "billing-gate.json").string(),
                                 "--trusted-keys", (host.tmp.path() / "trusted").string()});
    CHECK(verify.exit_code == 1);
    CHECK(verify.out.find("signature.key_id: plugin 'billing-gate' is signed by key") !=
          std::string::npos);
  }
}

TEST_CASE("a signature that is not the publisher's is refused", "[plugins][trust]") {
  TrustHost host;
  Json::Value manifest = read_json(host.probe);
  SECTION("a well-formed signature by the trusted key id over other bytes") {
    manifest["signature"]["value"] = psahost::crypto::base64_encode(std::string(64, '\x01'));
    write_json(host.probe, manifest);
    host.start();
    const std::string error = host.refused_probe();
    CHECK(error.find("probe.json: signature: plugin 'probe': the signature by key " +
                     build_key_id() + " does not match the manifest") != std::string::npos);
  }
  SECTION("a value that is no Ed25519 signature at all") {
    manifest["signature"]["value"] = "c2hvcnQ=";
    write_json(host.probe, manifest);
    host.start();
    const auto entry = host.listed("probe");
    CHECK(entry["state"].asString() == "failed");
    CHECK(entry["last_error"].asString().find("probe.json: signature.value: ") !=
          std::string::npos);
    CHECK(host.client->get("/healthz").status == 200);
  }
}

TEST_CASE("strict mode (--strict) stops the host when a plugin's signature is refused",
          "[plugins][trust]") {
  TrustHost host;
  Json::Value manifest = read_json(host.probe);
  manifest.removeMember("signature");
  write_json(host.probe, manifest);
  CHECK_THROWS_WITH(host.start({"--strict"}),
                    Catch::Contains("signature: plugin 'probe' is not signed"));
}

TEST_CASE("a remote plugin's manifest needs a trusted signature too", "[plugins][trust]") {
  TrustHost host;
  Json::Value m;
  m["id"] = "remote-gate";
  m["name"] = "Remote gate";
  m["version"] = "1.0.0";
  m["kind"] = "plugin";
  m["publisher"] = "psahost tests";
  m["sdk"] = "^1.0";
  m["hooks"]["admission"].append("billing_run.start");
  m["isolation"] = "remote";
  m["remote"]["url"] = "https://127.0.0.1:9/review";
  write_json(host.plugins / "remote-gate.json", m);
  host.start();
  const auto entry = host.listed("remote-gate");
  CHECK(entry["state"].asString() == "failed");
  CHECK(entry["signature"]["status"].asString() == "refused");
  CHECK(entry["last_error"].asString().find(
            "remote-gate.json: signature: plugin 'remote-gate' is not signed") !=
        std::string::npos);
  CHECK(host.listed("probe")["state"].asString() == "loaded");
}

TEST_CASE("bad trust options are named", "[plugins][trust][cli]") {
  TempDir tmp;
  const auto no_dir =
      run_cli({"plugins", "list", "--trusted-keys", (tmp.path() / "nope").string()});
  CHECK(no_dir.exit_code == 2);
  CHECK(no_dir.err.find("--trusted-keys: no folder at") != std::string::npos);
  fs::create_directories(tmp.path() / "keys");
  std::ofstream(tmp.path() / "keys" / "junk.pub") << "junk";
  const auto junk = run_cli({"serve", "--data-dir", (tmp.path() / "var").string(), "--trusted-keys",
                             (tmp.path() / "keys").string()});
  CHECK(junk.exit_code == 2);
  CHECK(junk.err.find("--trusted-keys:") != std::string::npos);
  CHECK(junk.err.find("junk.pub is not an Ed25519 public key") != std::string::npos);
  const auto bad_ids = run_cli({"plugins", "list", "--allow-unsigned-plugins", "Probe,"});
  CHECK(bad_ids.exit_code == 2);
  CHECK(bad_ids.err.find("--allow-unsigned-plugins: expected all, or plugin ids") !=
        std::string::npos);
}

TEST_CASE("a publisher key added to or removed from --trusted-keys counts from the next reload",
          "[plugins][trust]") {
  TrustHost host;
  const fs::path keys = host.tmp.path() / "publisher";
  REQUIRE(run_cli({"plugins", "keygen", "--out", keys.string()}).exit_code == 0);
  REQUIRE(
      run_cli({"plugins", "sign", host.probe.string(), "--key", (keys / "publisher.key").string()})
          .exit_code == 0);
  const fs::path trusted = host.tmp.path() / "trusted";
  fs::create_directories(trusted);
  host.start({"--trusted-keys", trusted.string(), "--trusted-keys", PSAHOST_TRUSTED_KEYS_DIR});
  CHECK(host.listed("probe")["state"].asString() == "failed");
  const auto reload = [&] {
    const auto r = host.client->post("/v1/plugins/reload", "", auth(host.token));
    REQUIRE(r.status == 200);
    return r.json();
  };

  fs::copy_file(keys / "publisher.pub", trusted / "acme.pub");
  reload();
  auto entry = host.listed("probe");
  CHECK(entry["state"].asString() == "loaded");
  CHECK(entry["signature"]["status"].asString() == "trusted");
  CHECK(host.server->stderr_text().find("trusted publisher keys changed") != std::string::npos);

  // Taken back: the plugin it vouched for is checked again and refused, the others serve on.
  fs::remove(trusted / "acme.pub");
  reload();
  entry = host.listed("probe");
  CHECK(entry["state"].asString() == "failed");
  CHECK(entry["last_error"].asString().find("not among the trusted publisher keys") !=
        std::string::npos);
  CHECK(host.listed("billing-gate")["state"].asString() == "loaded");

  // A key file that is not a key leaves the keys read before in force, and says why.
  std::ofstream(trusted / "broken.pub") << "not a key\n";
  reload();
  CHECK(host.listed("billing-gate")["state"].asString() == "loaded");
  CHECK(host.server->stderr_text().find("trusted publisher keys could not be read again") !=
        std::string::npos);
}
