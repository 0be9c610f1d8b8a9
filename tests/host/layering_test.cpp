// The include arrows of host/ run one way: request -> route -> feature -> store. A lower layer
// that includes a higher one (webhooks including api/, say) is a wiring cycle in the making, and
// a feature module that knows HTTP cannot be called by the webhook applier or the CLI.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Include {
  std::string file;    // relative to host/, e.g. "webhooks/changes.cpp"
  std::string target;  // as written, e.g. "api/client_queries.hpp"
};

std::vector<Include> host_includes() {
  const fs::path host = fs::path(PSAHOST_SOURCE_DIR) / "host";
  const std::regex include_line(R"(^\s*#\s*include\s*"([^"]+)\")");
  std::vector<Include> out;
  for (const auto& entry : fs::recursive_directory_iterator(host)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    std::ifstream in(entry.path());
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, include_line)) {
        out.push_back({fs::relative(entry.path(), host).generic_string(), m[1].str()});
      }
    }
  }
  return out;
}

std::string top_folder(const std::string& path) {
  const auto slash = path.find('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// Every include of a folder in `guarded` made from a folder not in `allowed`.
std::vector<std::string> forbidden_arrows(const std::vector<Include>& includes,
                                          const std::string& guarded,
                                          const std::set<std::string>& allowed) {
  std::vector<std::string> out;
  for (const auto& inc : includes) {
    const auto from = top_folder(inc.file);
    if (from == guarded || top_folder(inc.target) != guarded) continue;
    if (!allowed.count(from)) out.push_back("host/" + inc.file + " includes " + inc.target);
  }
  return out;
}

}  // namespace

TEST_CASE("only the routes' callers include host/api", "[layering]") {
  const auto includes = host_includes();
  REQUIRE_FALSE(includes.empty());
  const auto arrows = forbidden_arrows(includes, "api", {"app", "cli"});
  for (const auto& a : arrows) UNSCOPED_INFO(a);
  CHECK(arrows.empty());
}

TEST_CASE("feature modules know nothing of HTTP", "[layering]") {
  // The business rules and their tables: called by routes, webhooks, the CLI and the demo seed.
  const std::set<std::string> features = {"approval",  "audit",  "billing", "catalog", "clients",
                                          "contracts", "domain", "sales",   "tickets"};
  std::vector<std::string> arrows;
  for (const auto& inc : host_includes()) {
    const auto target = top_folder(inc.target);
    if (features.count(top_folder(inc.file)) && (target == "http" || target == "api")) {
      arrows.push_back("host/" + inc.file + " includes " + inc.target);
    }
  }
  for (const auto& a : arrows) UNSCOPED_INFO(a);
  CHECK(arrows.empty());
}

TEST_CASE("nothing below the routes dispatches through the router or serves HTTP", "[layering]") {
  // The webhook applier and the outbox call the feature modules directly; a synthetic request
  // through the router would bring back the wiring cycle and a wait on a promise.
  const std::set<std::string> below = {"admission", "delivery", "events", "plugins", "webhooks"};
  std::vector<std::string> arrows;
  for (const auto& inc : host_includes()) {
    if (!below.count(top_folder(inc.file))) continue;
    if (inc.target == "http/router.hpp" || inc.target == "http/server.hpp") {
      arrows.push_back("host/" + inc.file + " includes " + inc.target);
    }
  }
  for (const auto& a : arrows) UNSCOPED_INFO(a);
  CHECK(arrows.empty());
}

TEST_CASE("every folder of host/ is one the layering rules know", "[layering]") {
  // A new folder is either a feature module (then it must stay free of HTTP) or one of the
  // layers around them; naming it here is the moment to decide which.
  const std::set<std::string> known = {// entry points and wiring
                                       "api", "app", "cli", "ui",
                                       // feature modules
                                       "approval", "audit", "billing", "catalog", "clients",
                                       "contracts", "domain", "sales", "tickets",
                                       // the machinery around them
                                       "admission", "auth", "core", "delivery", "events", "http",
                                       "net", "plugins", "store", "webhooks"};
  std::vector<std::string> unknown;
  for (const auto& entry : fs::directory_iterator(fs::path(PSAHOST_SOURCE_DIR) / "host")) {
    if (entry.is_directory() && !known.count(entry.path().filename().string())) {
      unknown.push_back(entry.path().filename().string());
    }
  }
  for (const auto& u : unknown) UNSCOPED_INFO("host/" + u + " is in no layer");
  CHECK(unknown.empty());
}
