// The console's static files as the router serves them: content types, ETag revalidation, the
// headers that keep them from being framed, sniffed or running inline script, and 404s.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "http/router.hpp"
#include "ui/console_assets.hpp"
#include "ui/console_routes.hpp"

namespace {

namespace http = psahost::http;

http::Response get(const http::Router& router, const std::string& path,
                   std::optional<std::string> if_none_match = std::nullopt) {
  http::Request req;
  req.method = "GET";
  req.target = path;
  req.path = path;
  if (if_none_match) req.headers["if-none-match"] = *if_none_match;
  std::optional<http::Response> answer;
  std::string route;
  router.dispatch(
      req, [&](http::Response r) { answer = std::move(r); }, &route);
  REQUIRE(answer);
  return *answer;
}

std::optional<std::string> header(const http::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

http::Router console_router() {
  http::Router router;
  psahost::ui::add_console_routes(router);
  return router;
}

}  // namespace

TEST_CASE("the console's index is served at /ui/ with a CSP that allows no inline script",
          "[console]") {
  const auto router = console_router();
  const auto r = get(router, "/ui/");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(r.body.find("<script type=\"module\" src=\"app.js\"></script>") != std::string::npos);
  const auto csp = header(r, "Content-Security-Policy");
  REQUIRE(csp);
  CHECK(csp->find("script-src 'self'") != std::string::npos);
  CHECK(csp->find("frame-ancestors 'none'") != std::string::npos);
  CHECK(csp->find("unsafe-inline") == std::string::npos);
  CHECK(header(r, "X-Content-Type-Options") == "nosniff");
  CHECK(header(r, "ETag"));
}

TEST_CASE("every console file is served with its content type and revalidates to 304",
          "[console]") {
  const auto router = console_router();
  for (const auto& asset : psahost::ui::console_assets()) {
    const std::string name(asset.name);
    INFO(name);
    const auto r = get(router, "/ui/" + name);
    CHECK(r.status == 200);
    CHECK(r.body == asset.body);
    if (name.ends_with(".js")) CHECK(r.content_type == "text/javascript; charset=utf-8");
    if (name.ends_with(".css")) CHECK(r.content_type == "text/css; charset=utf-8");
    const auto etag = header(r, "ETag");
    REQUIRE(etag);
    const auto again = get(router, "/ui/" + name, *etag);
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(get(router, "/ui/" + name, "\"something-else\"").status == 200);
  }
}

TEST_CASE("an unknown console file is 404 and /ui redirects to /ui/", "[console]") {
  const auto router = console_router();
  CHECK(get(router, "/ui/nope.js").status == 404);
  CHECK(get(router, "/ui/..%2Fsecret.key").status == 404);
  const auto r = get(router, "/ui");
  CHECK(r.status == 308);
  CHECK(header(r, "Location") == "/ui/");
}
