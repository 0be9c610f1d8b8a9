#include "xero_records.hpp"

#include "amounts.hpp"
#include "wire.hpp"

namespace xero {
namespace {

using connectors::clean;
using connectors::decimal;
using connectors::text;

// Xero keeps a phone in parts; billing info takes one number.
std::string phone_of(const Json::Value& phone) {
  std::string out;
  for (const char* part : {"PhoneCountryCode", "PhoneAreaCode", "PhoneNumber"}) {
    const std::string p = text(phone[part]);
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += std::string(part) == "PhoneCountryCode" && p.front() != '+' ? "+" + p : p;
  }
  return out;
}

}  // namespace

Settings Settings::of(const Json::Value& s) {
  Settings out;
  if (!text(s["account_code"]).empty()) out.account_code = text(s["account_code"]);
  if (!text(s["tax_type"]).empty()) out.tax_type = text(s["tax_type"]);
  if (!text(s["tax_free_type"]).empty()) out.tax_free_type = text(s["tax_free_type"]);
  if (text(s["invoice_status"]) == "DRAFT") out.invoice_status = "DRAFT";
  return out;
}

std::string contact_name(const Json::Value& client) {
  const std::string business = clean(text(client["business_name"]));
  return business.empty() ? clean(text(client["name"])) : business;
}

Json::Value contact_body(const Json::Value& client) {
  Json::Value c;
  c["Name"] = contact_name(client);
  if (!text(client["debtor_code"]).empty()) c["AccountNumber"] = clean(text(client["debtor_code"]));
  if (!text(client["email"]).empty()) c["EmailAddress"] = clean(text(client["email"]));
  if (!text(client["vat_number"]).empty()) c["TaxNumber"] = clean(text(client["vat_number"]));
  if (!text(client["phone"]).empty()) {
    Json::Value phone;
    phone["PhoneType"] = "DEFAULT";
    phone["PhoneNumber"] = clean(text(client["phone"]));
    c["Phones"].append(phone);
  }
  const Json::Value& a = client["address"];
  if (a.isObject() && !text(a["street"]).empty()) {
    Json::Value address;
    // POBOX is the postal address Xero prints on invoices.
    address["AddressType"] = "POBOX";
    std::string line1 = text(a["street"]);
    if (!text(a["number"]).empty()) line1 += " " + text(a["number"]);
    address["AddressLine1"] = clean(line1);
    if (!text(a["building"]).empty()) address["AddressLine2"] = clean(text(a["building"]));
    address["City"] = clean(text(a["city"]));
    if (!text(a["state"]).empty()) address["Region"] = clean(text(a["state"]));
    address["PostalCode"] = clean(text(a["zip"]));
    address["Country"] = clean(text(a["country"]));
    c["Addresses"].append(address);
  }
  return c;
}

Json::Value billing_info_of(const Json::Value& contact) {
  Json::Value info(Json::objectValue);
  if (!text(contact["Name"]).empty()) info["business_name"] = text(contact["Name"]);
  if (!text(contact["EmailAddress"]).empty()) info["email"] = text(contact["EmailAddress"]);
  if (!text(contact["TaxNumber"]).empty()) info["vat_number"] = text(contact["TaxNumber"]);
  const std::string website = text(contact["Website"]);
  if (website.starts_with("https://") || website.starts_with("http://")) {
    info["website"] = website;
  }
  if (text(contact["DefaultCurrency"]).size() == 3) {
    info["currency"] = text(contact["DefaultCurrency"]);
  }
  const Json::Value& terms = contact["PaymentTerms"]["Sales"];
  if (text(terms["Type"]) == "DAYSAFTERBILLDATE" && terms["Day"].isIntegral() &&
      terms["Day"].asInt() >= 0 && terms["Day"].asInt() <= 365) {
    info["payment_terms_days"] = terms["Day"].asInt();
  }
  for (const auto& phone : contact["Phones"]) {
    if (text(phone["PhoneType"]) != "DEFAULT") continue;
    const std::string number = phone_of(phone);
    if (!number.empty()) info["phone"] = number;
  }
  // The postal address (what invoices are sent to), else the street address.
  const Json::Value* chosen = nullptr;
  for (const char* type : {"POBOX", "STREET"}) {
    for (const auto& address : contact["Addresses"]) {
      if (!chosen && text(address["AddressType"]) == type &&
          !text(address["AddressLine1"]).empty()) {
        chosen = &address;
      }
    }
  }
  if (chosen) {
    const Json::Value& from = *chosen;
    Json::Value& a = info["address"];
    // Xero keeps street and number on one line: it becomes the street, and a number kept
    // apart here is cleared so the two are not shown twice.
    a["street"] = text(from["AddressLine1"]);
    a["number"] = "";
    a["building"] = text(from["AddressLine2"]);
    a["city"] = text(from["City"]);
    a["state"] = text(from["Region"]);
    a["zip"] = text(from["PostalCode"]);
    const std::string country = connectors::country_code(text(from["Country"]));
    if (!country.empty()) a["country"] = country;
  }
  return info;
}

Json::Value invoice_body(const Json::Value& invoice, const std::string& contact_id,
                         const Settings& settings) {
  const std::string currency = text(invoice["currency"]);
  Json::Value i;
  i["Type"] = "ACCREC";
  i["Contact"]["ContactID"] = contact_id;
  i["InvoiceNumber"] = text(invoice["number"]);
  i["Date"] = text(invoice["issue_date"]);
  if (!text(invoice["due_date"]).empty()) i["DueDate"] = text(invoice["due_date"]);
  i["CurrencyCode"] = currency;
  i["LineAmountTypes"] = "Exclusive";
  i["Status"] = settings.invoice_status;
  Json::Value& lines = i["LineItems"] = Json::Value(Json::arrayValue);
  for (const auto& line : invoice["lines"]) {
    const auto figures = connectors::line_figures(line, currency);
    Json::Value l;
    l["Description"] = clean(connectors::line_description(line, figures, currency)).substr(0, 4000);
    l["Quantity"] = decimal(figures.quantity);
    l["UnitAmount"] = decimal(figures.unit_amount);
    l["LineAmount"] = decimal(figures.amount);
    l["AccountCode"] = settings.account_code;
    const int64_t tax = line["tax_amount"].asInt64();
    l["TaxType"] = tax != 0 ? settings.tax_type : settings.tax_free_type;
    // Our tax on the line, which Xero takes over its own calculation: the amounts we issued
    // are the amounts owed.
    l["TaxAmount"] = decimal(connectors::major_units(tax, currency));
    lines.append(l);
  }
  Json::Value body;
  body["Invoices"].append(i);
  return body;
}

bool is_our_invoice(const Json::Value& record, const Json::Value& ours,
                    const std::string& contact_id) {
  if (!record.isObject() || text(record["Type"]) != "ACCREC" ||
      text(record["InvoiceNumber"]) != text(ours["number"])) {
    return false;
  }
  if (!contact_id.empty() && text(record["Contact"]["ContactID"]) != contact_id) return false;
  const auto total = connectors::minor_units(record["Total"], text(ours["currency"]));
  return total && *total == ours["total_amount"].asInt64();
}

}  // namespace xero
