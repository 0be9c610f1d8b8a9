#include "ui/console_routes.hpp"

#include "ui/console_assets.hpp"

#include <map>
#include <string>

namespace psahost::ui {
namespace {

// No inline script or style anywhere, the API on the same origin, and never inside a frame.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'none'; base-uri 'none'; "
    "frame-ancestors 'none'";

std::string content_type(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  static const std::map<std::string_view, std::string, std::less<>> kTypes = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"ico", "image/x-icon"},
      {"json", "application/json"},
      {"txt", "text/plain; charset=utf-8"}};
  const auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

void add_security_headers(http::Response& r) {
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
}

// True when If-None-Match names etag (or is "*").
bool still_fresh(const http::Request& req, std::string_view etag) {
  const auto header = req.header("if-none-match");
  if (!header) return false;
  if (*header == "*") return true;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (one.substr(0, 2) == "W/") one.remove_prefix(2);
    if (one == etag) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

http::Response serve(const http::Request& req, const ConsoleAsset& asset) {
  const std::string etag = "\"" + std::string(asset.sha256.substr(0, 32)) + "\"";
  http::Response r;
  if (still_fresh(req, etag)) {
    r = http::Response::empty(304);
  } else {
    r = http::Response::text(200, std::string(asset.body), content_type(asset.name));
  }
  r.headers.emplace_back("ETag", etag);
  // Revalidated on every load (a cheap 304): a new build's console is picked up at once.
  r.headers.emplace_back("Cache-Control", "no-cache");
  add_security_headers(r);
  return r;
}

const ConsoleAsset* find_asset(std::string_view name) {
  for (const auto& asset : console_assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

}  // namespace

void add_console_routes(http::Router& router) {
  router.add_sync("GET", "/ui", [](const http::Request&, const http::Params&) {
    http::Response r = http::Response::empty(308);
    r.headers.emplace_back("Location", "/ui/");
    return r;
  });
  router.add_sync("GET", "/ui/", [](const http::Request& req, const http::Params&) {
    const ConsoleAsset* index = find_asset("index.html");
    if (!index) return http::problem(404, "not-found", "Not Found", "the console is not built in");
    return serve(req, *index);
  });
  router.add_sync("GET", "/ui/{file}", [](const http::Request& req, const http::Params& params) {
    const ConsoleAsset* asset = find_asset(params.at("file"));
    if (!asset) {
      http::Response r =
          http::problem(404, "not-found", "Not Found", "no console file " + params.at("file"));
      add_security_headers(r);
      return r;
    }
    return serve(req, *asset);
  });
}

}  // namespace psahost::ui
