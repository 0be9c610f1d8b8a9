// The Node.js remote gate of sdk/examples/remote-gate run as a partner would run it: a real
// `node server.js` serving HTTPS on loopback with the secret `psahost plugins secret` issued,
// loaded by the host from the example's own manifest as a remote plugin. Its decisions reach
// POST /v1/admission, and a request that is not signed with that secret is refused by the
// example itself.
#include "core/crypto.hpp"
#include "http/tls.hpp"
#include "support/https_client.hpp"
#include "support/process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <json/reader.h>
#include <json/writer.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

const fs::path kExample = fs::path(PSAHOST_SOURCE_DIR) / "sdk" / "examples" / "remote-gate";

bool node_available() {
  return run_program("node", {"--version"}).exit_code == 0;
}

// `node server.js` in the background with the given environment added, its output in files;
// stopped with SIGTERM when this goes away, and killed with the test runner.
class NodeService {
 public:
  NodeService(const fs::path& dir, const std::vector<std::string>& env)
      : dir_(dir),
        pid_(spawn("node", {(kExample / "server.js").string()}, dir / "node.out", dir / "node.err",
                   env)) {}
  ~NodeService() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;

  // The port the service says it listens on, once it says so (0 if it ended or never did).
  uint16_t wait_for_port() {
    const std::string marker = "listening on ";
    uint16_t port = 0;
    eventually(
        [&] {
          const std::string out = read_file(dir_ / "node.out");
          const auto at = out.find(marker);
          if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
            port = static_cast<uint16_t>(std::stoi(out.substr(at + marker.size())));
            return true;
          }
          int status = 0;
          if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
          pid_ = -1;  // it ended without listening
          return true;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(20));
    return port;
  }
  std::string output() const { return read_file(dir_ / "node.out") + read_file(dir_ / "node.err"); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
};

Json::Value read_json(const fs::path& path) {
  Json::Value v;
  std::ifstream in(path);
  Json::CharReaderBuilder rb;
  std::string errors;
  if (!Json::parseFromStream(rb, in, &v, &errors)) {
    throw std::runtime_error(path.string() + ": " + errors);
  }
  return v;
}

// The example's manifest with remote.url pointing at url, into plugins_dir.
void place_manifest(const fs::path& plugins_dir, const std::string& url) {
  fs::create_directories(plugins_dir);
  Json::Value m = read_json(kExample / "remote-gate.json");
  m["remote"]["url"] = url;
  std::ofstream(plugins_dir / "remote-gate.json", std::ios::trunc)
      << Json::writeString(Json::StreamWriterBuilder(), m);
  sign_with_build_key(plugins_dir / "remote-gate.json");  // the host refuses unsigned manifests
}

std::string review(const std::string& uid, int minutes) {
  return R"({"uid":")" + uid + R"(","operation":"time_entry.approve","object":{"minutes":)" +
         std::to_string(minutes) + "}}";
}

}  // namespace

TEST_CASE("the Node.js remote gate example decides admission reviews signed for it",
          "[plugins][remote][node]") {
  if (!node_available()) {
    WARN(
        "node is not installed, so the Node.js remote gate example is not tried "
        "(tools/dev.sh installs nodejs)");
    return;
  }
  TempDir tmp;
  const fs::path plugins = tmp.path() / "plugins";
  const fs::path data = tmp.path() / "var";
  const fs::path tls = tmp.path() / "gate-tls";
  fs::create_directories(tls);
  psahost::http::ensure_self_signed_certificate(tls / "cert.pem", tls / "key.pem");
  // The secret comes first: the service needs it to start. The host is started once to create
  // its data folder, then again once the service listens and the manifest says where.
  place_manifest(plugins, "https://127.0.0.1:9/review");
  Server server(data,
                {"--plugins-dir", plugins.string(), "--outbound-ca", (tls / "cert.pem").string()});
  server.start();
  REQUIRE(server.stop(SIGTERM) == 0);
  const auto issued = run_cli({"plugins", "secret", "remote-gate", "--data-dir", data.string(),
                               "--plugins-dir", plugins.string()});
  INFO(issued.err);
  REQUIRE(issued.exit_code == 0);
  const std::string secret = issued.out.substr(0, issued.out.find('\n'));
  REQUIRE(secret.starts_with("whsec_"));

  NodeService gate(tmp.path(),
                   {"PORT=0", "CERT=" + (tls / "cert.pem").string(),
                    "KEY=" + (tls / "key.pem").string(), "SECRET=" + secret, "MAX_MINUTES=600"});
  const uint16_t port = gate.wait_for_port();
  INFO(gate.output());
  REQUIRE(port != 0);

  place_manifest(plugins, "https://127.0.0.1:" + std::to_string(port) + "/review");
  server.start();
  const std::string token = create_token(data, "default", "admin");
  HttpsClient client(server.port());
  const std::map<std::string, std::string> auth = {{"authorization", "Bearer " + token}};

  const auto short_entry = client.post("/v1/admission", review("u1", 45), auth);
  INFO(short_entry.body);
  REQUIRE(short_entry.status == 200);
  CHECK(short_entry.json()["allowed"] == true);
  CHECK(short_entry.json()["warnings"].size() == 0);

  const auto long_entry = client.post("/v1/admission", review("u2", 720), auth);
  INFO(long_entry.body);
  REQUIRE(long_entry.status == 200);
  CHECK(long_entry.json()["allowed"] == false);
  CHECK(long_entry.json()["type"].asString().ends_with("time-entry-too-long"));
  CHECK(long_entry.json()["reason"].asString().find("600 minutes") != std::string::npos);

  // Straight at the example: unsigned, signed with another secret, or signed too long ago, the
  // request is refused before anything is reviewed.
  HttpsClient direct(port);
  const std::string body = review("u3", 720);
  const std::string now = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  const auto signature = [&](const std::string& key_text, const std::string& timestamp) {
    std::string key;
    REQUIRE(psahost::crypto::base64_decode(key_text.substr(6), key));
    return "v1," + psahost::crypto::base64_encode(psahost::crypto::hmac_sha256(
                       key, {"msg_direct", ".", timestamp, ".", body}));
  };
  const auto send = [&](const std::string& sig, const std::string& timestamp) {
    std::map<std::string, std::string> h = {{"psa-hook", "admission.review"},
                                            {"webhook-id", "msg_direct"},
                                            {"webhook-timestamp", timestamp}};
    if (!sig.empty()) h["webhook-signature"] = sig;
    return direct.post("/review", body, h);
  };
  const std::string other = "whsec_" + psahost::crypto::base64_encode(std::string(32, 'k'));
  CHECK(send("", now).status == 401);
  CHECK(send(signature(other, now), now).status == 401);
  const std::string stale = std::to_string(std::stoll(now) - 3600);
  CHECK(send(signature(secret, stale), stale).status == 401);
  // The same request signed with the issued secret is reviewed: the refusals were the signature.
  const auto good = send(signature(secret, now), now);
  INFO(good.body);
  CHECK(good.status == 200);
  CHECK(good.body.find("time-entry-too-long") != std::string::npos);
  CHECK(server.stderr_text().find(secret) == std::string::npos);
}
