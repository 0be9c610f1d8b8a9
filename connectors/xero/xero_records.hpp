// psahost's records as Xero keeps them and back: a client as a Contact, an issued invoice as an
// ACCREC Invoice carrying our number in InvoiceNumber, a Contact as billing info.
#pragma once

#include <json/value.h>

#include <string>

namespace xero {

// What a connection may set in --settings besides tenant_id, with the defaults used without it.
struct Settings {
  std::string account_code = "200";           // the sales account of every line
  std::string tax_type = "OUTPUT";            // TaxType of a line with tax
  std::string tax_free_type = "NONE";         // TaxType of a line without
  std::string invoice_status = "AUTHORISED";  // AUTHORISED (awaiting payment) or DRAFT
  static Settings of(const Json::Value& connection_settings);
};

// The name a client goes by there: its business name, else its name (unique among contacts).
std::string contact_name(const Json::Value& client);

// A Contact to create for the client as an invoice keeps it (client_snapshot); its debtor code
// becomes the AccountNumber, by which it is found again.
Json::Value contact_body(const Json::Value& client);

// The billing info a Contact gives, with only the members Xero has a value for, to merge into
// what the client has.
Json::Value billing_info_of(const Json::Value& contact);

// The Invoices document creating our invoice (as invoice.issued carries it) for the contact.
Json::Value invoice_body(const Json::Value& invoice, const std::string& contact_id,
                         const Settings& settings);

// Whether a Xero invoice is the one we pushed for ours: a sales invoice with our number, the
// contact we pushed it to (when known) and our total.
bool is_our_invoice(const Json::Value& record, const Json::Value& ours,
                    const std::string& contact_id);

}  // namespace xero
