// The connection cap: past it, an idle keep-alive connection makes room for the new one, so a
// pile of idle connections never locks out a health probe.
#include "support/https_client.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace psahost::test;

namespace {

long long metric(HttpsClient& client, const std::string& name) {
  const auto body = client.get("/metrics").body;
  const auto at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(body.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("past the connection cap idle connections make room and /healthz is still answered",
          "[serve][limits]") {
  TempDir tmp;
  Server server(tmp.path() / "var", {"--max-connections", "4"});
  server.start();
  std::vector<std::unique_ptr<HttpsClient>> idle;
  for (int i = 0; i < 12; ++i) {
    idle.push_back(std::make_unique<HttpsClient>(server.port()));
    INFO(i);
    REQUIRE(idle.back()->get("/healthz").status == 200);
  }
  // Idle ones were closed to make room for the later ones: all but the cap's worth.
  int closed = 0;
  for (auto& client : idle) {
    if (client->read_until_closed(std::chrono::milliseconds(1500)).second) ++closed;
  }
  CHECK(closed >= 8);
  HttpsClient probe(server.port());
  CHECK(probe.get("/healthz").status == 200);
  CHECK(metric(probe, "psahost_http_capped_connections_total") >= 8);
  CHECK(eventually([&] { return metric(probe, "psahost_http_open_connections") <= 5; }));
}
