// A QuickBooks Online company over local HTTPS, as its documented API answers: OAuth2 with
// rotating refresh tokens, JSON only when asked for (XML otherwise), customers, invoices (unique
// DocNumber, error 6140; Amount = Qty x UnitPrice), payments linked to invoices, the query
// language the connector uses, requestid replays, masked tax ids; and change notifications,
// classic and CloudEvents, signed with the verifier token as Intuit signs them.
#pragma once

#include "fakes/fault_plan.hpp"
#include "fakes/oauth2_tokens.hpp"
#include "support/receiver.hpp"

#include <json/value.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace psahost::test {

class QuickBooksFake {
 public:
  static constexpr const char* kVerifierToken = "qbo-verifier-token-7f3a9c";
  static constexpr const char* kRealm = "9130354321";

  QuickBooksFake();

  Receiver& receiver() { return *receiver_; }
  std::string origin() const { return receiver_->origin(); }
  std::string token_url() const { return receiver_->url("/oauth2/v1/tokens/bearer"); }
  OAuth2Tokens& tokens() { return tokens_; }
  FaultPlan& faults() { return faults_; }
  // QuickBooks keeps a requestid's answer for a while only; off, a create sent again is made
  // again, or refused when its DocNumber is taken.
  void keep_request_ids(bool keep) {
    std::lock_guard lock(mutex_);
    keep_request_ids_ = keep;
  }
  // The arguments of `psahost connections add` for this company (after --name and --secret).
  std::vector<std::string> connection_args() const;

  // Records, as QuickBooks shows them. add_* return the new record's Id.
  std::string add_customer(Json::Value customer);
  std::string add_invoice(Json::Value invoice);
  // Receives a payment of the invoice's balance (a Payment linked to it); returns its Id.
  std::string pay(const std::string& invoice_id);
  // Voids the invoice: amounts zeroed, as QuickBooks does.
  void void_invoice(const std::string& invoice_id);
  // The id the next record of that entity gets (to name it in a notification before it exists).
  std::string next_id() const;

  Json::Value customers() const;
  Json::Value invoices() const;
  Json::Value invoice(const std::string& id) const;
  Json::Value invoices_numbered(const std::string& doc_number) const;
  // Requests that reached the API (not the token endpoint) with the method and a target part.
  std::vector<Received> requests(const std::string& method, const std::string& part) const;

  // Notification bodies and the headers Intuit sends them with.
  static std::string notification(const std::string& entity, const std::string& id,
                                  const std::string& operation, const std::string& realm = kRealm);
  static std::string cloud_event(const std::string& entity, const std::string& id,
                                 const std::string& action, const std::string& realm = kRealm);
  static std::map<std::string, std::string> signed_headers(
      const std::string& body, const std::string& content_type = "application/json",
      const std::string& key = kVerifierToken);

 private:
  std::optional<http::Response> answer(const Received& r);
  http::Response route(const Received& r);
  http::Response query(const std::string& statement);
  http::Response create_customer(const Json::Value& body);
  http::Response create_invoice(const Json::Value& body);
  Json::Value shown_customer(const Json::Value& c) const;
  std::string new_id();
  std::string now_text();

  OAuth2Tokens tokens_;
  FaultPlan faults_;
  mutable std::mutex mutex_;
  std::map<std::string, Json::Value> customers_, invoices_, payments_;
  std::map<std::string, std::pair<int, std::string>> replies_by_request_id_;
  bool keep_request_ids_ = true;
  int next_id_ = 100;
  int clock_ = 0;
  std::unique_ptr<Receiver> receiver_;  // last: it calls back into the members above
};

}  // namespace psahost::test
