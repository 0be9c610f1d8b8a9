#include "support/api_session.hpp"

#include <csignal>
#include <stdexcept>

namespace psahost::test {

std::string complete_billing_body(int roundup_minutes) {
  return R"({"business_name":"Contoso Ltd","legal_form":"Ltd","email":"billing@contoso.example",
    "vat_number":"NL123456789B01","address":{"street":"Main","number":"1","city":"Utrecht",
    "zip":"3511AA","country":"NL"},"currency":"EUR","tax_rate":"21.00","payment_terms_days":30,
    "roundup_minutes":)" +
         std::to_string(roundup_minutes) + R"(,"invoice_delivery":"email"})";
}

ApiSession::ApiSession(std::vector<std::string> serve_args) : serve_args_(std::move(serve_args)) {
  start_server();
  token_ = create_token(server_->data_dir(), "default", "admin");
  client_ = std::make_unique<HttpsClient>(server_->port());
}

void ApiSession::start_server() {
  client_.reset();
  server_ = std::make_unique<Server>(dir_.path() / "var", serve_args_);
  server_->start();
  if (!token_.empty()) client_ = std::make_unique<HttpsClient>(server_->port());
}

void ApiSession::restart() {
  client_.reset();
  if (server_->stop(SIGTERM) != 0) throw std::runtime_error("psahost did not stop cleanly");
  start_server();
}

void ApiSession::restart(std::vector<std::string> serve_args) {
  serve_args_ = std::move(serve_args);
  restart();
}

void ApiSession::restart_after_crash() {
  if (server_->running()) throw std::runtime_error("psahost is still running");
  start_server();
}

HttpResponse ApiSession::call(const std::string& method, const std::string& path,
                              const std::string& body) {
  return call_as(token_, method, path, body);
}

HttpResponse ApiSession::call_as(const std::string& token, const std::string& method,
                                 const std::string& path, const std::string& body) {
  std::map<std::string, std::string> headers = {{"authorization", "Bearer " + token}};
  return client_->request(method, path, body, headers);
}

std::string ApiSession::create_client(const std::string& name, bool complete_billing_info) {
  const auto r = post("/v1/clients", R"({"name":")" + name + R"(","type":"customer"})");
  if (r.status != 201)
    throw std::runtime_error("create client: " + std::to_string(r.status) + r.body);
  const std::string id = r.json()["id"].asString();
  if (complete_billing_info) complete_billing(id);
  return id;
}

void ApiSession::complete_billing(const std::string& client_id, int roundup_minutes) {
  const auto r =
      put("/v1/clients/" + client_id + "/billing-info", complete_billing_body(roundup_minutes));
  if (r.status != 200)
    throw std::runtime_error("billing info: " + std::to_string(r.status) + r.body);
}

std::string ApiSession::create_ticket(const std::string& client_id, const std::string& subject) {
  const auto r =
      post("/v1/tickets", R"({"client_id":")" + client_id + R"(","subject":")" + subject + R"("})");
  if (r.status != 201)
    throw std::runtime_error("create ticket: " + std::to_string(r.status) + r.body);
  return r.json()["id"].asString();
}

std::string ApiSession::register_time(const std::string& ticket_id, int minutes) {
  const auto r = post("/v1/tickets/" + ticket_id + "/time-entries",
                      R"({"minutes":)" + std::to_string(minutes) + R"(,"technician":"alice"})");
  if (r.status != 201)
    throw std::runtime_error("register time: " + std::to_string(r.status) + r.body);
  return r.json()["id"].asString();
}

}  // namespace psahost::test
