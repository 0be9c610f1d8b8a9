// psahost connections on the command line: what its usage promises, it accepts.
#include "support/api_session.hpp"
#include "support/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

TEST_CASE("connections test takes --outbound-ca, as its usage says", "[cli][connections]") {
  ApiSession api;
  add_connection(api.server().data_dir(), "standard-webhooks", "sw", kWebhookSecret);
  const auto r =
      run_cli({"connections", "test", "--data-dir", api.server().data_dir().string(), "--name",
               "sw", "--outbound-ca", (api.server().data_dir() / "tls" / "cert.pem").string()});
  INFO(r.out << r.err);
  // It got as far as the connector, which has nothing to test with.
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("has no test command") != std::string::npos);
  CHECK(r.err.find("unrecognised option") == std::string::npos);
}
