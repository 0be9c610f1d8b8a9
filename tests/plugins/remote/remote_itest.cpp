// A plugin run as an HTTPS service (isolation "remote"): the host POSTs each admission review to
// it, signed with the secret `psahost plugins secret` issued, and a bad answer (garbage, 30 MB,
// too slow, a 5xx, a refused connection) is the failure policy, logged, while the host serves on.
#include "core/crypto.hpp"
#include "http/message.hpp"
#include "support/https_client.hpp"
#include "support/process.hpp"
#include "support/receiver.hpp"

#include <catch2/catch.hpp>

#include <json/writer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

using namespace psahost::test;
using psahost::http::Response;
namespace fs = std::filesystem;

namespace {

constexpr const char* kReview =
    R"({"uid":"u1","operation":"billing_run.start","object":{"period":"2026-11"}})";

// The remote gate's manifest, pointing at url.
void write_manifest(const fs::path& dir, const std::string& url) {
  fs::create_directories(dir);
  Json::Value m;
  m["id"] = "remote-gate";
  m["name"] = "Remote gate";
  m["version"] = "1.0.0";
  m["kind"] = "plugin";
  m["publisher"] = "psahost tests";
  m["sdk"] = "^1.0";
  m["hooks"]["admission"].append("billing_run.start");
  m["isolation"] = "remote";
  m["remote"]["url"] = url;
  m["failure_policy"] = "fail_closed";
  // Room for a 30 MB answer to be cut off on a busy machine before the deadline decides.
  m["timeout_ms"] = 2000;
  std::ofstream(dir / "remote-gate.json") << Json::writeString(Json::StreamWriterBuilder(), m);
  sign_with_build_key(dir / "remote-gate.json");  // remote manifests need a trusted signature too
}

// Whether a request carries a valid Standard Webhooks signature under secret ("whsec_...").
bool signed_with(const Received& r, const std::string& secret) {
  std::string key;
  if (!psahost::crypto::base64_decode(secret.substr(6), key)) return false;
  const std::string expected =
      "v1," + psahost::crypto::base64_encode(psahost::crypto::hmac_sha256(
                  key, {r.header("webhook-id"), ".", r.header("webhook-timestamp"), ".", r.body}));
  return r.header("webhook-signature") == expected;
}

struct RemoteHost {
  TempDir tmp;
  Receiver service;
  std::unique_ptr<Server> server;
  std::string token;
  std::unique_ptr<HttpsClient> client;

  RemoteHost() {
    write_manifest(tmp.path() / "plugins", service.url("/review"));
    server = std::make_unique<Server>(
        tmp.path() / "var",
        std::vector<std::string>{"--plugins-dir", (tmp.path() / "plugins").string(),
                                 "--outbound-ca", service.ca_file().string()});
    server->start();
    token = create_token(server->data_dir(), "default", "admin");
    client = std::make_unique<HttpsClient>(server->port());
  }

  CliResult issue_secret(bool rotate = false) {
    std::vector<std::string> args = {"plugins",
                                     "secret",
                                     "remote-gate",
                                     "--data-dir",
                                     server->data_dir().string(),
                                     "--plugins-dir",
                                     (tmp.path() / "plugins").string()};
    if (rotate) args.push_back("--rotate");
    return run_cli(args);
  }

  HttpResponse review() {
    return client->post("/v1/admission", kReview, {{"authorization", "Bearer " + token}});
  }
};

}  // namespace

TEST_CASE("a remote plugin gets each review signed with the secret issued for it and decides",
          "[plugins][remote]") {
  RemoteHost host;
  const auto before = host.review();
  INFO(before.body);
  CHECK(before.json()["allowed"] == false);  // fail_closed: no secret issued yet
  CHECK(before.body.find("psahost plugins secret remote-gate") != std::string::npos);
  CHECK(host.service.count() == 0);

  const auto issued = host.issue_secret();
  INFO(issued.err);
  REQUIRE(issued.exit_code == 0);
  const std::string secret = issued.out.substr(0, issued.out.find('\n'));
  REQUIRE(secret.starts_with("whsec_"));
  // Shown once: a second request without --rotate is refused and changes nothing.
  const auto again = host.issue_secret();
  CHECK(again.exit_code != 0);
  CHECK(again.err.find("--rotate") != std::string::npos);

  host.service.set_behaviour([&](const Received& r) -> std::optional<Response> {
    if (!signed_with(r, secret)) return Response::text(401, "bad signature");
    return Response::text(200, R"({"allowed":false,"reason":"Closed for the holidays."})",
                          "application/json");
  });
  const auto denied = host.review();
  INFO(denied.body);
  CHECK(denied.status == 200);
  CHECK(denied.json()["allowed"] == false);
  CHECK(denied.json()["reason"] == "Closed for the holidays.");
  const auto got = host.service.received().back();
  CHECK(got.header("psa-hook") == "admission.review");
  CHECK(got.body.find("\"billing_run.start\"") != std::string::npos);

  // A rotated secret applies from the next call: the service that still has the old one refuses.
  REQUIRE(host.issue_secret(true).exit_code == 0);
  const auto rotated = host.review();
  CHECK(rotated.json()["allowed"] == false);
  CHECK(rotated.json()["reason"].asString().find("HTTP 401") != std::string::npos);
  CHECK(host.server->stderr_text().find(secret) == std::string::npos);
  CHECK(host.server->stdout_text().find(secret) == std::string::npos);
}

TEST_CASE("a remote plugin's bad answers are its failure policy and the host serves on",
          "[plugins][remote]") {
  RemoteHost host;
  REQUIRE(host.issue_secret().exit_code == 0);
  struct Case {
    std::string name;
    Receiver::Behaviour behaviour;
    std::vector<std::string> logged;  // what the log line says went wrong (one of these)
  };
  const std::vector<Case> cases = {
      {"200 with garbage",
       [](const Received&) -> std::optional<Response> {
         return Response::text(200, "<html>not json", "text/html");
       },
       {"a body that is not a JSON object"}},
      {"a 30 MB body",
       [](const Received&) -> std::optional<Response> {
         return Response::text(200, std::string(30u << 20, ' ') + "{}", "application/json");
       },
       {"with more than 1048576 bytes"}},
      {"a 503",
       [](const Received&) -> std::optional<Response> {
         return Response::text(503, "down", "text/plain");
       },
       {"with HTTP 503"}},
      {"an answer past the deadline",
       [](const Received&) -> std::optional<Response> {
         std::this_thread::sleep_for(std::chrono::milliseconds(2500));
         return Response::text(200, R"({"allowed":true})", "application/json");
       },
       // The host's deadline, or its client's, whichever notices first.
       {"timed out", "could not be reached (timeout)"}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      host.service.set_behaviour(c.behaviour);
      const auto r = host.review();
      INFO(r.body);
      CHECK(r.status == 200);
      CHECK(r.json()["allowed"] == false);
      CHECK(r.json()["reason"].asString().find("could not review") != std::string::npos);
      CHECK(host.client->get("/healthz").status == 200);
      const std::string logs = host.server->stderr_text() + host.server->stdout_text();
      INFO(logs);
      CHECK(logs.find("admission review failed") != std::string::npos);
      CHECK(std::any_of(c.logged.begin(), c.logged.end(), [&](const std::string& text) {
        return logs.find(text) != std::string::npos;
      }));
      // The next answer that is right decides again: nothing was given up on.
      host.service.set_behaviour([](const Received&) -> std::optional<Response> {
        return Response::text(200, R"({"allowed":true})", "application/json");
      });
      CHECK(eventually([&] { return host.review().json()["allowed"] == true; }));
    }
  }
}

TEST_CASE("a remote plugin whose service refuses connections is its failure policy",
          "[plugins][remote]") {
  // A loopback port that is bound but not listening: connecting to it is refused, and nothing
  // else can take it while the test runs.
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(holder >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/review";

  TempDir tmp;
  write_manifest(tmp.path() / "plugins", url);
  Server server(tmp.path() / "var", {"--plugins-dir", (tmp.path() / "plugins").string()});
  server.start();
  REQUIRE(run_cli({"plugins", "secret", "remote-gate", "--data-dir", server.data_dir().string(),
                   "--plugins-dir", (tmp.path() / "plugins").string()})
              .exit_code == 0);
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  for (int i = 0; i < 2; ++i) {
    const auto r = client.post("/v1/admission", kReview, {{"authorization", "Bearer " + token}});
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(r.json()["allowed"] == false);
    CHECK(r.json()["reason"].asString().find("could not be reached (connect)") !=
          std::string::npos);
  }
  CHECK(client.get("/healthz").status == 200);
  const std::string logs = server.stderr_text() + server.stdout_text();
  CHECK(logs.find("admission review failed") != std::string::npos);
  CHECK(logs.find("could not be reached (connect)") != std::string::npos);
  ::close(holder);
}
