// The command line's answers to bad input: a message naming the option or file, a non-zero
// exit, and nothing half-done.
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace psahost::test;
namespace fs = std::filesystem;

TEST_CASE("a malformed config file is named with what is wrong in it", "[cli]") {
  TempDir tmp;
  const fs::path conf = tmp.path() / "psahost.conf";
  {
    std::ofstream out(conf);
    out << "listen = 127.0.0.1:0\nlisten-backlog = 5\n";
  }
  const auto r =
      run_cli({"serve", "--config", conf.string(), "--data-dir", (tmp.path() / "var").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(conf.string()) && Catch::Contains("listen-backlog"));
  CHECK_FALSE(fs::exists(tmp.path() / "var" / "psahost.db"));
}

TEST_CASE("a bad listen address names the option and what is expected", "[cli]") {
  TempDir tmp;
  const auto r =
      run_cli({"serve", "--listen", "localhost", "--data-dir", (tmp.path() / "var").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--listen") && Catch::Contains("HOST:PORT"));
  const auto port = run_cli(
      {"serve", "--listen", "127.0.0.1:99999", "--data-dir", (tmp.path() / "var").string()});
  CHECK(port.exit_code == 2);
  CHECK_THAT(port.err, Catch::Contains("--listen"));
}

TEST_CASE("settings come from the environment when not on the command line", "[cli]") {
  TempDir tmp;
  ::setenv("PSAHOST_DATA_DIR", (tmp.path() / "from-env").string().c_str(), 1);
  const auto r = run_cli({"tokens", "create", "--tenant", "acme", "--role", "billing"});
  ::unsetenv("PSAHOST_DATA_DIR");
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(tmp.path() / "from-env" / "psahost.db"));
  CHECK(r.out.rfind("psa_", 0) == 0);
}

TEST_CASE("tokens create refuses an unknown role naming the field", "[cli]") {
  TempDir tmp;
  const auto r = run_cli({"tokens", "create", "--tenant", "acme", "--role", "owner", "--data-dir",
                          (tmp.path() / "var").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--role") && Catch::Contains("admin, billing"));
  CHECK(r.out.empty());
}

TEST_CASE("tokens are listed without secrets and revoked once", "[cli]") {
  TempDir tmp;
  const std::string data = (tmp.path() / "var").string();
  create_token(data, "acme", "admin");
  const auto list = run_cli({"tokens", "list", "--data-dir", data});
  REQUIRE(list.exit_code == 0);
  const auto at = list.out.find("tok_");
  REQUIRE(at != std::string::npos);
  const std::string id = list.out.substr(at, list.out.find(' ', at) - at);
  CHECK(run_cli({"tokens", "revoke", id, "--data-dir", data}).exit_code == 0);
  CHECK(run_cli({"tokens", "list", "--data-dir", data}).out.find("revoked") != std::string::npos);
  CHECK(run_cli({"tokens", "revoke", id, "--data-dir", data}).exit_code == 1);
}

TEST_CASE("connections test takes --outbound-ca and names a missing file", "[cli]") {
  TempDir tmp;
  const std::string data = (tmp.path() / "var").string();
  const auto r = run_cli({"connections", "test", "--data-dir", data, "--name", "psa",
                          "--outbound-ca", (tmp.path() / "missing.pem").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--outbound-ca") && Catch::Contains("missing.pem"));
  CHECK_THAT(r.err, !Catch::Contains("unrecognised"));
}
