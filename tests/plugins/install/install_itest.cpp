// psahost plugins install and uninstall as a partner runs them: a bundle (a folder, or a .tar.gz
// made with the system's tar) is verified whole before anything reaches DATA_DIR/plugins, a
// bundle whose files escape it is refused, and the host loads what was installed.
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

struct InstallHost {
  TempDir tmp;
  fs::path var = tmp.path() / "var";
  fs::path bundle = tmp.path() / "bundle" / "probe";
  fs::path installed = var / "plugins";

  InstallHost() {
    create_token(var, "default", "admin");  // an existing host's data directory
    copy_plugin(PSAHOST_TEST_PLUGIN_DIR, "probe", bundle);
  }

  CliResult install(const fs::path& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"plugins", "install", path.string(), "--data-dir",
                                     var.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }

  // Whatever was refused, nothing reached the installed-plugins folder.
  bool nothing_installed() const {
    std::error_code ec;
    if (!fs::exists(installed, ec)) return true;
    return fs::directory_iterator(installed) == fs::directory_iterator();
  }

  fs::path tar_gz(const std::vector<std::string>& members, const fs::path& from,
                  bool absolute_names = false) {
    const fs::path out = tmp.path() / "bundle.tar.gz";
    std::vector<std::string> args = {absolute_names ? "-czPf" : "-czf", out.string(), "-C",
                                     from.string()};
    args.insert(args.end(), members.begin(), members.end());
    const auto r = run_program("tar", args);
    if (r.exit_code != 0) throw std::runtime_error("tar failed: " + r.err);
    return out;
  }
};

void remove_signature(const fs::path& manifest) {
  Json::Value v;
  std::istringstream in(read_file(manifest));
  Json::CharReaderBuilder builder;
  std::string errors;
  REQUIRE(Json::parseFromStream(builder, in, &v, &errors));
  v.removeMember("signature");
  std::ofstream(manifest, std::ios::trunc) << Json::writeString(Json::StreamWriterBuilder(), v);
}

}  // namespace

TEST_CASE("a bundle folder is verified, installed and loaded by the host", "[plugins][install]") {
  InstallHost host;
  const auto r = host.install(host.bundle);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("installed probe 0.1.0 into " + (host.installed / "probe").string()) == 0);
  CHECK(r.out.find("signed by trusted key") != std::string::npos);
  CHECK(r.out.find("Next: A running psahost picks this up on SIGHUP") != std::string::npos);
  CHECK(fs::is_regular_file(host.installed / "probe" / "probe.json"));
  CHECK(fs::is_regular_file(host.installed / "probe" / "probe.so"));

  const auto list = run_cli({"plugins", "list", "--json", "--data-dir", host.var.string()});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("\"id\" : \"probe\"") != std::string::npos);

  Server server(host.var);
  server.start();
  HttpsClient client(server.port());
  const std::string token = create_token(host.var, "default", "admin");
  const auto plugins = client.get("/v1/plugins", {{"authorization", "Bearer " + token}}).json();
  bool loaded = false;
  for (const auto& p : plugins["items"]) {
    if (p["id"] == "probe")
      loaded = p["state"] == "loaded" && p["signature"]["status"] == "trusted";
  }
  CHECK(loaded);

  // Installing it again replaces it and says so.
  const auto again = host.install(host.bundle);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("(replacing 0.1.0)") != std::string::npos);
}

TEST_CASE("a .tar.gz bundle made with tar installs", "[plugins][install]") {
  InstallHost host;
  const auto archive = host.tar_gz({"probe"}, host.bundle.parent_path());
  const auto r = host.install(archive);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(fs::is_regular_file(host.installed / "probe" / "probe.so"));
  CHECK(run_cli({"plugins", "verify", (host.installed / "probe" / "probe.json").string(),
                 "--data-dir", host.var.string()})
            .exit_code == 0);
}

TEST_CASE("a bundle that escapes its folder is refused and nothing is installed",
          "[plugins][install]") {
  InstallHost host;
  CliResult r;
  SECTION("a '..' entry") {
    const fs::path inner = host.tmp.path() / "bundle" / "inner";
    fs::create_directories(inner);
    r = host.install(host.tar_gz({"../probe/probe.json", "../probe/probe.so"}, inner, true));
    CHECK(r.err.find("has a '..' in its path") != std::string::npos);
  }
  SECTION("an absolute path") {
    r = host.install(host.tar_gz({(host.bundle / "probe.json").string()}, host.tmp.path(), true));
    CHECK(r.err.find("has an absolute path") != std::string::npos);
  }
  SECTION("a symlink in a tar") {
    fs::create_symlink("/etc/passwd", host.bundle / "notes.txt");
    r = host.install(host.tar_gz({"probe"}, host.bundle.parent_path()));
    CHECK(r.err.find("is a link; a bundle holds only files and folders") != std::string::npos);
  }
  SECTION("a symlink in a folder") {
    fs::create_symlink(host.bundle / "probe.so", host.bundle / "other.so");
    r = host.install(host.bundle);
    CHECK(r.err.find("entry 'other.so' is a link") != std::string::npos);
  }
  SECTION("a manifest naming a library the bundle does not hold") {
    fs::remove(host.bundle / "probe.so");
    fs::copy_file(fs::path(PSAHOST_TEST_PLUGIN_DIR) / "probe.so", host.tmp.path() / "probe.so");
    r = host.install(host.bundle);
    CHECK(r.err.find("library: plugin 'probe': the manifest names library probe.so, which is "
                     "not in the bundle") != std::string::npos);
  }
  SECTION("a damaged archive") {
    std::ofstream(host.tmp.path() / "junk.tar.gz") << "not gzip at all";
    r = host.install(host.tmp.path() / "junk.tar.gz");
    CHECK(r.err.find("not valid gzip data") != std::string::npos);
  }
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("refused, nothing installed") != std::string::npos);
  CHECK(host.nothing_installed());
}

TEST_CASE("a bundle the host would refuse to load is refused before it is installed",
          "[plugins][install][trust]") {
  InstallHost host;
  CliResult r;
  SECTION("unsigned") {
    remove_signature(host.bundle / "probe.json");
    r = host.install(host.bundle);
    CHECK(r.err.find("signature: plugin 'probe' is not signed by a trusted publisher") !=
          std::string::npos);
  }
  SECTION("a changed library") {
    std::ofstream(host.bundle / "probe.so", std::ios::app) << "x";
    r = host.install(host.bundle);
    CHECK(r.err.find("sha256: plugin 'probe'") != std::string::npos);
  }
  SECTION("a bundled plugin's id") {
    copy_plugin(PSAHOST_PLUGIN_DIR, "billing-gate", host.tmp.path() / "gate");
    r = host.install(host.tmp.path() / "gate");
    CHECK(r.err.find("plugin 'billing-gate' is already provided by") != std::string::npos);
  }
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(host.nothing_installed());
}

TEST_CASE("an unsigned bundle installs only when let in, and says what the host needs",
          "[plugins][install][trust]") {
  InstallHost host;
  remove_signature(host.bundle / "probe.json");
  const auto r = host.install(host.bundle, {"--allow-unsigned-plugins", "probe"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("unsigned, let in by --allow-unsigned-plugins") != std::string::npos);
  CHECK(r.out.find("runs       process") != std::string::npos);
  CHECK(r.out.find("The host needs --allow-unsigned-plugins probe too") != std::string::npos);
}

TEST_CASE("plugins uninstall removes an installed plugin only", "[plugins][install]") {
  InstallHost host;
  REQUIRE(host.install(host.bundle).exit_code == 0);
  const auto r = run_cli({"plugins", "uninstall", "probe", "--data-dir", host.var.string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("uninstalled probe") == 0);
  CHECK_FALSE(fs::exists(host.installed / "probe"));
  CHECK(host.nothing_installed());
  const auto again = run_cli({"plugins", "uninstall", "probe", "--data-dir", host.var.string()});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("no plugin probe is installed") != std::string::npos);
  const auto bundled =
      run_cli({"plugins", "uninstall", "billing-gate", "--data-dir", host.var.string()});
  CHECK(bundled.exit_code == 1);
  CHECK(bundled.err.find("billing-gate comes with psahost") != std::string::npos);
}
