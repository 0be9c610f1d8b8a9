// The command line's answers to bad input: a message naming the option or file, a non-zero
// exit, and nothing half-done.
#include "support/process.hpp"

#include <json/reader.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

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

TEST_CASE("the data directory's config file serves every command, each taking its own keys",
          "[cli]") {
  TempDir tmp;
  const std::string data = (tmp.path() / "var").string();
  create_token(data, "acme", "admin");
  const fs::path conf = fs::path(data) / "psahost.conf";
  {
    std::ofstream out(conf);
    out << "listen = 127.0.0.1:0\nrate-limit = 50\nlog-level = warn\n";
  }
  // Serve-only keys in the host's file are not this command's business.
  const auto list = run_cli({"tokens", "list", "--data-dir", data});
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("acme"));
  // A key no command knows is still named, for every command.
  {
    std::ofstream out(conf, std::ios::app);
    out << "listen-backlog = 5\n";
  }
  const auto typo = run_cli({"tokens", "list", "--data-dir", data});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::Contains(conf.string()) && Catch::Contains("listen-backlog"));
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

namespace {

Json::Value json_of(const std::string& text) {
  Json::Value v;
  Json::CharReaderBuilder builder;
  std::string errors;
  std::istringstream in(text);
  REQUIRE(Json::parseFromStream(builder, in, &v, &errors));
  return v;
}

}  // namespace

TEST_CASE("read-only commands refuse a data directory without a database and create nothing",
          "[cli]") {
  TempDir tmp;
  const std::string typo = (tmp.path() / "vra").string();
  for (const std::vector<std::string>& args : {std::vector<std::string>{"onboarding", "status"},
                                               {"tokens", "list"},
                                               {"numbering", "show"},
                                               {"billing", "run", "--period", "2026-11"},
                                               {"contracts", "bootstrap", "--all"},
                                               {"connections", "list"}}) {
    auto with_dir = args;
    with_dir.insert(with_dir.end(), {"--data-dir", typo});
    const auto r = run_cli(with_dir);
    INFO(args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--data-dir") && Catch::Contains(typo));
  }
  CHECK_FALSE(fs::exists(typo));
}

TEST_CASE("plugins list and verify write nothing to the data directory and speak JSON", "[cli]") {
  TempDir tmp;
  const std::string data = (tmp.path() / "var").string();
  const auto verify = run_cli({"plugins", "verify", "--json", "--data-dir", data});
  REQUIRE(verify.exit_code == 0);
  const Json::Value v = json_of(verify.out);
  CHECK(v["failed"].asInt() == 0);
  REQUIRE(v["items"].size() >= 4);
  bool gate = false;
  for (const auto& item : v["items"]) {
    CHECK(item["ok"].asBool());
    gate = gate || item["id"].asString() == "billing-gate";
  }
  CHECK(gate);
  const auto list = run_cli({"plugins", "list", "--json", "--data-dir", data});
  REQUIRE(list.exit_code == 0);
  CHECK(json_of(list.out).size() == v["items"].size());
  CHECK_FALSE(fs::exists(data));
}

TEST_CASE("the version answers -V, --version and version, and version --help is help", "[cli]") {
  for (const char* spelling : {"-V", "--version", "version"}) {
    const auto r = run_cli({spelling});
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("psahost 0.", 0) == 0);
  }
  const auto help = run_cli({"version", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Usage: psahost version"));
  CHECK(run_cli({"version", "extra"}).exit_code == 2);
}

TEST_CASE("help shows what a user types, not the options behind positional words", "[cli]") {
  for (const char* command : {"plugins", "tokens", "billing", "numbering", "connections"}) {
    const auto r = run_cli({command, "--help"});
    INFO(command);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("Usage: psahost") && !Catch::Contains("--action"));
  }
  CHECK_THAT(run_cli({"--help"}).out, Catch::Contains("Exit codes"));
}

TEST_CASE("tokens list --json names every token without its secret", "[cli]") {
  TempDir tmp;
  const std::string data = (tmp.path() / "var").string();
  const std::string secret = create_token(data, "acme", "billing");
  const auto r = run_cli({"tokens", "list", "--json", "--data-dir", data});
  REQUIRE(r.exit_code == 0);
  const Json::Value v = json_of(r.out);
  REQUIRE(v["items"].size() == 1);
  CHECK(v["items"][0]["tenant"].asString() == "acme");
  CHECK(v["items"][0]["role"].asString() == "billing");
  CHECK(v["items"][0]["revoked_at"].isNull());
  CHECK_THAT(r.out, !Catch::Contains(secret));
}

TEST_CASE("billing run prints its summary and succeeds when clients are skipped without detail",
          "[cli]") {
  TempDir tmp;
  const std::string data = (tmp.path() / "var").string();
  REQUIRE(run_cli({"demo", "seed", "--data-dir", data}).exit_code == 0);
  REQUIRE(run_cli({"numbering", "verify", "--data-dir", data}).exit_code == 0);
  const auto r = run_cli({"billing", "run", "--period", "2026-11", "--data-dir", data});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(": completed") && Catch::Contains("billing_info_incomplete"));
  CHECK(r.err.empty());
}
