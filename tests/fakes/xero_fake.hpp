// A Xero organisation over local HTTPS, as its documented accounting API answers: OAuth2 with
// rotating refresh tokens, Xero-tenant-id on every request, contacts (unique names), ACCREC
// invoices (InvoiceNumber unique, "Invoice # must be unique."; LineAmount = Quantity x
// UnitAmount), the filters and ordering the connector uses, Idempotency-Key replays, payments
// and voids; and webhook events, intent-to-receive included, signed with the webhook key.
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

class XeroFake {
 public:
  static constexpr const char* kWebhookKey =
      "eGVyby1mYWtlLXdlYmhvb2sta2V5OjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2Rl"
      "Zg==";
  static constexpr const char* kTenantId = "a3d5e2f1-7c4b-4e8a-9f10-2b3c4d5e6f70";

  XeroFake();

  Receiver& receiver() { return *receiver_; }
  std::string origin() const { return receiver_->origin(); }
  std::string token_url() const { return receiver_->url("/connect/token"); }
  OAuth2Tokens& tokens() { return tokens_; }
  FaultPlan& faults() { return faults_; }
  // The arguments of `psahost connections add` for this organisation (after --name, --secret).
  std::vector<std::string> connection_args() const;

  // Records, as Xero shows them. add_* return the new record's id.
  std::string add_contact(Json::Value contact);
  // A sales invoice made in Xero itself (number, date "YYYY-MM-DD", total in major units).
  std::string add_invoice(const std::string& number, const std::string& date, double total,
                          const std::string& contact_id);
  void pay(const std::string& invoice_id);
  void void_invoice(const std::string& invoice_id);
  // The id the next record gets (to name it in an event before it exists).
  std::string next_id() const;

  Json::Value contacts() const;
  Json::Value invoices() const;
  Json::Value invoices_numbered(const std::string& number) const;
  std::vector<Received> requests(const std::string& method, const std::string& part) const;

  // Webhook bodies and the headers Xero sends them with.
  static std::string event(const std::string& category, const std::string& resource_id,
                           const std::string& type = "UPDATE",
                           const std::string& tenant = kTenantId);
  static std::string intent_to_receive();
  static std::map<std::string, std::string> signed_headers(const std::string& body,
                                                           const std::string& key = kWebhookKey);

 private:
  std::optional<http::Response> answer(const Received& r);
  http::Response route(const Received& r);
  http::Response list(const std::string& collection, const std::string& query);
  http::Response create_contacts(const Json::Value& body);
  http::Response create_invoices(const Json::Value& body);
  std::string new_id();

  OAuth2Tokens tokens_;
  FaultPlan faults_;
  mutable std::mutex mutex_;
  std::map<std::string, Json::Value> contacts_, invoices_;
  std::vector<std::string> invoice_order_;  // ids in creation order
  std::map<std::string, std::pair<int, std::string>> replies_by_key_;
  int next_id_ = 1;
  std::unique_ptr<Receiver> receiver_;  // last: it calls back into the members above
};

}  // namespace psahost::test
