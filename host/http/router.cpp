#include "http/router.hpp"

#include <stdexcept>

namespace psahost::http {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    const auto slash = path.find('/', i);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    out.emplace_back(path.substr(i, end - i));
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return out;
}

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  auto segments = split_path(pattern);
  for (auto& route : routes_) {
    if (route.pattern == pattern) {
      if (!route.by_method.emplace(method, std::move(handler)).second) {
        throw std::logic_error("route registered twice: " + method + " " + pattern);
      }
      return;
    }
  }
  Route route{std::move(segments), pattern, {}};
  route.by_method.emplace(std::move(method), std::move(handler));
  routes_.push_back(std::move(route));
}

void Router::add_sync(std::string method, std::string pattern, SyncHandler handler) {
  add(std::move(method), std::move(pattern),
      [h = std::move(handler)](const Request& req, const Params& params, Responder respond) {
        respond(h(req, params));
      });
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& route : routes_) {
    for (const auto& [method, _] : route.by_method) out.emplace_back(method, route.pattern);
  }
  return out;
}

void Router::dispatch(const Request& request, Responder respond, std::string* route) const {
  const auto segments = split_path(request.path);
  const Route* path_match = nullptr;
  Params params;
  // Literal segments win over parameters: the most literal matching route is chosen.
  int best_literals = -1;
  for (const auto& candidate : routes_) {
    if (candidate.segments.size() != segments.size()) continue;
    Params p;
    int literals = 0;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      if (is_param(candidate.segments[i])) {
        if (segments[i].empty())
          ok = false;
        else
          p[candidate.segments[i].substr(1, candidate.segments[i].size() - 2)] =
              percent_decode(segments[i], false);
      } else if (candidate.segments[i] == segments[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    if (ok && literals > best_literals) {
      best_literals = literals;
      path_match = &candidate;
      params = std::move(p);
    }
  }
  if (!path_match) {
    *route = "unmatched";
    if (fallback) return fallback(request, params, std::move(respond));
    respond(problem(404, "not-found", "Not Found", "no resource at " + request.path));
    return;
  }
  *route = path_match->pattern;
  auto it = path_match->by_method.find(request.method);
  if (it == path_match->by_method.end() && request.method == "HEAD") {
    it = path_match->by_method.find("GET");
  }
  if (it == path_match->by_method.end()) {
    std::string allow;
    for (const auto& [m, _] : path_match->by_method) allow += (allow.empty() ? "" : ", ") + m;
    Response r = problem(405, "method-not-allowed", "Method Not Allowed",
                         request.method + " is not allowed on " + path_match->pattern);
    r.headers.emplace_back("Allow", allow);
    respond(std::move(r));
    return;
  }
  try {
    it->second(request, params, respond);
  } catch (const std::exception& e) {
    if (on_handler_error) on_handler_error(path_match->pattern, e.what());
    respond(problem(500, "internal-error", "Internal Server Error"));
  }
}

}  // namespace psahost::http
