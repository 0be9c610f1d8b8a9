// Maps method and path pattern ("/v1/clients/{id}/billing-info") to a handler.
// An unknown path answers 404 and a known path with another method 405, both as problems.
#pragma once

#include "http/message.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace psahost::http {

using Params = std::map<std::string, std::string, std::less<>>;

// A handler answers through the responder, now or later from any thread. The request stays
// valid until the responder has been called.
using Handler = std::function<void(const Request&, const Params&, Responder)>;
using SyncHandler = std::function<Response(const Request&, const Params&)>;

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  void add_sync(std::string method, std::string pattern, SyncHandler handler);

  // Runs the matching handler. *route is set to the matched pattern (or "unmatched") so
  // that metrics are labelled by pattern, never by raw path. A handler that throws is
  // answered 500 without detail; the exception text goes to the error callback.
  void dispatch(const Request& request, Responder respond, std::string* route) const;

  // Every (method, pattern) registered, for documentation checks.
  std::vector<std::pair<std::string, std::string>> routes() const;

  std::function<void(const std::string& route, const std::string& what)> on_handler_error;
  // Answers paths no route matches, instead of 404 (a stand-in for another system in tests).
  Handler fallback;

 private:
  struct Route {
    std::vector<std::string> segments;  // "{name}" marks a parameter
    std::string pattern;
    std::map<std::string, Handler> by_method;
  };
  std::vector<Route> routes_;
};

}  // namespace psahost::http
