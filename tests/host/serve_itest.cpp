// The psahost binary as a user meets it: starts on a fresh data directory, serves HTTPS with
// the bundled plugins, refuses what it must, and stops cleanly.
#include "support/https_client.hpp"
#include "support/process.hpp"
#include "support/tcp_sockets.hpp"
#include "support/wait.hpp"

#include <openssl/ssl.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

using namespace psahost::test;
namespace fs = std::filesystem;

namespace {

const std::map<std::string, std::string> auth(const std::string& token) {
  return {{"authorization", "Bearer " + token}};
}

}  // namespace

TEST_CASE("first start creates the data directory - a certificate and an admin token printed once",
          "[serve]") {
  TempDir tmp;
  const fs::path data = tmp.path() / "var";
  Server server(data);
  server.start();
  CHECK(fs::exists(data / "psahost.db"));
  CHECK(fs::exists(data / "tls" / "cert.pem"));
  CHECK((fs::status(data / "tls" / "key.pem").permissions() &
         (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);

  const std::string out = server.stdout_text();
  const auto at = out.find("psa_");
  REQUIRE(at != std::string::npos);
  const std::string token = out.substr(at, out.find_first_of(" \n\"", at) - at);
  HttpsClient client(server.port());
  CHECK(client.get("/v1/plugins", auth(token)).status == 200);
  CHECK(out.find("curl") != std::string::npos);
  // The token must never reach the logs.
  CHECK(server.stderr_text().find(token) == std::string::npos);
  REQUIRE(server.stop(SIGTERM) == 0);

  // A second start reuses everything and prints no new token.
  Server again(data);
  again.start();
  CHECK(again.stdout_text().find("psa_") == std::string::npos);
  HttpsClient c2(again.port());
  CHECK(c2.get("/v1/plugins", auth(token)).status == 200);
}

TEST_CASE("health - readiness and metrics answer over HTTPS with keep-alive", "[serve]") {
  TempDir tmp;
  Server server(tmp.path() / "var");
  server.start();
  HttpsClient client(server.port());
  for (int i = 0; i < 3; ++i) {
    const auto r = client.get("/healthz");
    REQUIRE(r.status == 200);
    CHECK(r.json()["status"].asString() == "ok");
  }
  const auto ready = client.get("/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json()["status"].asString() == "ready");
  CHECK(ready.json()["schema_version"].asInt() >= 1);

  const auto metrics = client.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.header("content-type").find("text/plain") == 0);
  CHECK(metrics.body.find(
            "psahost_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3") !=
        std::string::npos);
  CHECK(metrics.body.find("psahost_http_request_duration_seconds_bucket") != std::string::npos);
  CHECK(metrics.body.find("psahost_store_commit_duration_seconds_count") != std::string::npos);
  CHECK(client.negotiated_protocol().rfind("TLSv1.", 0) == 0);
}

TEST_CASE("/metrics is closed by default and opens with the operator's token or setting",
          "[serve][metrics]") {
  TempDir tmp;
  const std::string token = "metrics-0123456789abcdef";
  Server closed(tmp.path() / "closed", {"--metrics-access=closed"});
  closed.start();
  HttpsClient closed_client(closed.port());
  const auto refused = closed_client.get("/metrics");
  CHECK(refused.status == 401);
  CHECK(refused.json()["type"].asString() == "urn:psahost:problem:metrics-token-required");
  CHECK(refused.body.find("--metrics-access=public") != std::string::npos);
  CHECK(closed_client.get("/healthz").status == 200);

  Server guarded(tmp.path() / "guarded", {"--metrics-token", token});
  guarded.start();
  HttpsClient guarded_client(guarded.port());
  CHECK(guarded_client.get("/metrics").status == 401);  // a token overrides public access
  CHECK(guarded_client.get("/metrics", auth("metrics-0123456789abcdeX")).status == 401);
  CHECK(guarded_client.get("/metrics", auth(token)).status == 200);
}

TEST_CASE("unknown paths are 404 and wrong methods 405 - as problem+json", "[serve]") {
  TempDir tmp;
  Server server(tmp.path() / "var");
  server.start();
  HttpsClient client(server.port());
  const auto missing = client.get("/v1/nothing-here");
  CHECK(missing.status == 404);
  CHECK(missing.header("content-type") == "application/problem+json");
  CHECK(missing.json()["type"].asString() == "urn:psahost:problem:not-found");

  const auto wrong = client.request("DELETE", "/healthz");
  CHECK(wrong.status == 405);
  CHECK(wrong.header("allow") == "GET");
  CHECK(wrong.json()["type"].asString() == "urn:psahost:problem:method-not-allowed");
}

TEST_CASE("the API refuses requests without a valid token", "[serve]") {
  TempDir tmp;
  Server server(tmp.path() / "var");
  server.start();
  HttpsClient client(server.port());
  const auto none = client.get("/v1/plugins");
  CHECK(none.status == 401);
  CHECK(none.json()["type"].asString() == "urn:psahost:problem:unauthorized");
  CHECK(client.get("/v1/plugins", auth("psa_not-a-real-token-at-all-000000")).status == 401);

  const std::string tech = create_token(server.data_dir(), "default", "technician");
  CHECK(client.get("/v1/plugins", auth(tech)).status == 200);
  const auto forbidden = client.post("/v1/plugins/billing-gate/disable", "{}", auth(tech));
  CHECK(forbidden.status == 403);

  // A revoked token stops working at once.
  const auto list = run_cli({"tokens", "list", "--data-dir", server.data_dir().string()});
  const auto last = list.out.rfind("tok_");
  REQUIRE(last != std::string::npos);
  REQUIRE(run_cli({"tokens", "revoke", list.out.substr(last, list.out.find(' ', last) - last),
                   "--data-dir", server.data_dir().string()})
              .exit_code == 0);
  CHECK(client.get("/v1/plugins", auth(tech)).status == 401);
}

TEST_CASE("TLS 1.1 and older are refused, 1.2 and 1.3 are served", "[serve][tls]") {
  TempDir tmp;
  Server server(tmp.path() / "var");
  server.start();
  const std::string refused = try_handshake(server.port(), TLS1_1_VERSION);
  CHECK_FALSE(refused.empty());
  CHECK(refused.find("version") != std::string::npos);
  CHECK(try_handshake(server.port(), TLS1_VERSION) != "");
  CHECK(try_handshake(server.port(), TLS1_2_VERSION) == "");
  CHECK(try_handshake(server.port(), TLS1_3_VERSION) == "");
}

TEST_CASE("a body over the limit is answered 413 without being read", "[serve]") {
  TempDir tmp;
  Server server(tmp.path() / "var");
  server.start();
  HttpsClient client(server.port());
  // Announce 2 MiB but send only the headers: the answer must come before any body byte.
  client.write_raw(
      "POST /v1/admission HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      "Content-Length: 2097152\r\n\r\n");
  const auto [bytes, closed] = client.read_until_closed(std::chrono::seconds(5));
  CHECK(bytes.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(bytes.find("payload-too-large") != std::string::npos);
  CHECK(closed);

  // The server is still serving.
  HttpsClient after(server.port());
  CHECK(after.get("/healthz").status == 200);
}

TEST_CASE("a client that sends its headers too slowly is dropped", "[serve]") {
  TempDir tmp;
  Server server(tmp.path() / "var", {"--header-timeout-ms", "1000"});
  server.start();
  HttpsClient slow(server.port());
  bool dropped = false;
  // Dribble one header byte every 200 ms (the pace is the slow client, not a wait for the
  // server); a patient server would wait forever.
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
  try {
    slow.write_raw(request);
    for (int i = 0; i < 40 && !dropped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      slow.write_raw("a");
    }
  } catch (const std::exception&) {
    dropped = true;
  }
  if (!dropped) {
    const auto [bytes, closed] = slow.read_until_closed(std::chrono::seconds(3));
    dropped = closed && bytes.find("HTTP/1.1 200") == std::string::npos;
  }
  // A server that restarted its timer on every byte would still be reading after 40 of them.
  CHECK(dropped);
  HttpsClient fresh(server.port());
  CHECK(fresh.get("/healthz").status == 200);
}

TEST_CASE("SIGTERM finishes the request in flight - then exits 0", "[serve]") {
  TempDir tmp;
  Server server(tmp.path() / "var");
  server.start();
  const std::string token = create_token(server.data_dir(), "default", "admin");
  HttpsClient client(server.port());
  const std::string body =
      R"({"uid":"u-1","operation":"invoice.issue","object":{"client_id":"c"}})";
  // Headers and half the body are in; the rest arrives after the signal.
  client.write_raw(
      "POST /v1/admission HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      "Authorization: Bearer " +
      token + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
      body.substr(0, 10));
  // In flight once the server has read every byte sent so far; a signal before that would find
  // the connection idle and rightly close it.
  REQUIRE(eventually([&] {
    const auto socket = loopback_socket(server.port(), client.local_port());
    return socket && socket->rx_queue == 0;
  }));
  ::kill(server.pid(), SIGTERM);
  // The rest of the body only once the server is draining: it has stopped listening.
  REQUIRE(eventually([&] { return !loopback_listening(server.port()); }));
  CHECK(server.stderr_text().find("shutting down: draining requests") != std::string::npos);
  client.write_raw(body.substr(10));
  const auto [bytes, closed] = client.read_until_closed(std::chrono::seconds(10));
  CHECK(bytes.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(bytes.find("\"uid\":\"u-1\"") != std::string::npos);
  CHECK(server.stop(0 /* already signalled: just wait */) == 0);
  CHECK(server.stderr_text().find("shutdown complete") != std::string::npos);
}
