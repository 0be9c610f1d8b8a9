// Per-tenant request limits as a client meets them: 429 with Retry-After for the tenant that
// sent too much, while another tenant and the health probes are served as before.
#include "support/api_session.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

TEST_CASE("a tenant over its request limit gets 429 with Retry-After, another tenant does not",
          "[serve][limits]") {
  ApiSession a({"--rate-limit", "0.01", "--rate-limit-burst", "20"});
  const std::string b = create_token(a.server().data_dir(), "partner-b", "admin");
  int ok = 0;
  HttpResponse refused;
  for (int i = 0; i < 40 && refused.status == 0; ++i) {
    const auto r = a.get("/v1/clients");
    if (r.status == 200) ++ok;
    if (r.status == 429) refused = r;
  }
  CHECK(ok == 20);
  REQUIRE(refused.status == 429);
  CHECK(refused.json()["type"].asString() == "urn:psahost:problem:rate-limited");
  CHECK(refused.body.find("--rate-limit") != std::string::npos);
  CHECK(std::stoi(refused.header("retry-after")) >= 1);
  CHECK(a.call_as(b, "GET", "/v1/clients", "").status == 200);
  CHECK(a.client().get("/healthz").status == 200);
}
