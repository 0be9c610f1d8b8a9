// A running psahost with an admin token and a keep-alive HTTPS client: the starting point of
// every API integration test. JSON in, parsed JSON out.
#pragma once

#include "support/https_client.hpp"
#include "support/process.hpp"

#include <json/value.h>

#include <memory>
#include <string>
#include <vector>

namespace psahost::test {

class ApiSession {
 public:
  explicit ApiSession(std::vector<std::string> serve_args = {});

  HttpResponse get(const std::string& path) { return call("GET", path, ""); }
  HttpResponse post(const std::string& path, const std::string& body = "{}") {
    return call("POST", path, body);
  }
  HttpResponse put(const std::string& path, const std::string& body) {
    return call("PUT", path, body);
  }
  HttpResponse patch(const std::string& path, const std::string& body) {
    return call("PATCH", path, body);
  }
  HttpResponse call(const std::string& method, const std::string& path, const std::string& body);
  // The same request with another token (another tenant or role).
  HttpResponse call_as(const std::string& token, const std::string& method, const std::string& path,
                       const std::string& body = "");

  // Creates a client and returns its id; with billing info when complete_billing is set.
  std::string create_client(const std::string& name, bool complete_billing);
  std::string create_ticket(const std::string& client_id,
                            const std::string& subject = "Printer offline");
  std::string register_time(const std::string& ticket_id, int minutes);
  void complete_billing(const std::string& client_id, int roundup_minutes = 15);

  const std::string& token() const { return token_; }
  TempDir& dir() { return dir_; }
  Server& server() { return *server_; }
  HttpsClient& client() { return *client_; }
  // Stops and starts the server on the same data directory; the token stays valid.
  void restart();
  // The same with other serve arguments from now on.
  void restart(std::vector<std::string> serve_args);
  // Starts the server again after it was killed (Server::kill_hard), as after a crash.
  void restart_after_crash();

 private:
  // A new server on the data directory; the client too once the token exists.
  void start_server();

  TempDir dir_;
  std::vector<std::string> serve_args_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpsClient> client_;
  std::string token_;
};

// A complete billing-info body (Dutch client) with the given roundup.
std::string complete_billing_body(int roundup_minutes = 15);

}  // namespace psahost::test
