// psahost's records as QuickBooks Online keeps them and back: a client as a Customer, an issued
// invoice as an Invoice carrying our number in DocNumber, a Customer as billing info.
#pragma once

#include <json/value.h>

#include <string>

namespace quickbooks {

// What a connection may set in --settings besides realm_id, with the defaults used without it.
struct Settings {
  std::string item_id = "1";          // ItemRef of every line (QuickBooks' "Services" item)
  std::string tax_code = "TAX";       // TaxCodeRef of a line with tax
  std::string tax_free_code = "NON";  // TaxCodeRef of a line without
  static Settings of(const Json::Value& connection_settings);
};

// The name a client goes by there: its business name, else its name. DisplayName is unique in a
// company, so it also finds the customer a client was pushed as before.
std::string display_name(const Json::Value& client);

// A Customer to create for the client as an invoice keeps it (client_snapshot).
Json::Value customer_body(const Json::Value& client);

// The billing info a Customer gives, with only the members QuickBooks has a value for, to merge
// into what the client has.
Json::Value billing_info_of(const Json::Value& customer);

// The Invoice to create for our invoice document (as invoice.issued carries it).
Json::Value invoice_body(const Json::Value& invoice, const std::string& customer_id,
                         const Settings& settings);

// Whether a QuickBooks Invoice is the one we pushed for our invoice: our number, the customer
// we pushed it to and our total. A number alone could be someone else's invoice.
bool is_our_invoice(const Json::Value& record, const Json::Value& ours,
                    const std::string& customer_id);

// Paid in full: a total, and nothing left to pay.
bool is_paid(const Json::Value& record, const std::string& currency);

}  // namespace quickbooks
