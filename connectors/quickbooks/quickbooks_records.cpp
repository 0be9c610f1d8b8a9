#include "quickbooks_records.hpp"

#include "amounts.hpp"
#include "wire.hpp"

namespace quickbooks {
namespace {

using connectors::clean;
using connectors::decimal;
using connectors::text;

// QuickBooks sends a tax id back masked ("XXXXXX56789"): such a value says nothing.
bool is_masked(const std::string& s) {
  return s.find("XXXX") != std::string::npos;
}

std::string first_address(const std::string& emails) {
  std::string out = emails.substr(0, emails.find_first_of(",;"));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(0, 1);
  return out;
}

}  // namespace

Settings Settings::of(const Json::Value& s) {
  Settings out;
  if (!text(s["item_id"]).empty()) out.item_id = text(s["item_id"]);
  if (!text(s["tax_code"]).empty()) out.tax_code = text(s["tax_code"]);
  if (!text(s["tax_free_code"]).empty()) out.tax_free_code = text(s["tax_free_code"]);
  return out;
}

std::string display_name(const Json::Value& client) {
  const std::string business = clean(text(client["business_name"]));
  return business.empty() ? clean(text(client["name"])) : business;
}

Json::Value customer_body(const Json::Value& client) {
  Json::Value c;
  c["DisplayName"] = display_name(client);
  c["CompanyName"] = display_name(client);
  if (!text(client["email"]).empty())
    c["PrimaryEmailAddr"]["Address"] = clean(text(client["email"]));
  if (!text(client["phone"]).empty()) {
    c["PrimaryPhone"]["FreeFormNumber"] = clean(text(client["phone"]));
  }
  if (!text(client["vat_number"]).empty()) {
    c["PrimaryTaxIdentifier"] = clean(text(client["vat_number"]));
  }
  const Json::Value& a = client["address"];
  if (a.isObject() && !text(a["street"]).empty()) {
    Json::Value& bill = c["BillAddr"];
    std::string line1 = text(a["street"]);
    if (!text(a["number"]).empty()) line1 += " " + text(a["number"]);
    bill["Line1"] = clean(line1);
    if (!text(a["building"]).empty()) bill["Line2"] = clean(text(a["building"]));
    bill["City"] = clean(text(a["city"]));
    if (!text(a["state"]).empty()) bill["CountrySubDivisionCode"] = clean(text(a["state"]));
    bill["PostalCode"] = clean(text(a["zip"]));
    bill["Country"] = clean(text(a["country"]));
  }
  return c;
}

Json::Value billing_info_of(const Json::Value& customer) {
  Json::Value info(Json::objectValue);
  const std::string company = text(customer["CompanyName"]);
  const std::string name = company.empty() ? text(customer["DisplayName"]) : company;
  if (!name.empty()) info["business_name"] = name;
  const std::string email = first_address(text(customer["PrimaryEmailAddr"]["Address"]));
  if (!email.empty()) info["email"] = email;
  const std::string phone = text(customer["PrimaryPhone"]["FreeFormNumber"]);
  if (!phone.empty()) info["phone"] = phone;
  const std::string tax_id = text(customer["PrimaryTaxIdentifier"]);
  if (!tax_id.empty() && !is_masked(tax_id)) info["vat_number"] = tax_id;
  const std::string website = text(customer["WebAddr"]["URI"]);
  if (website.starts_with("https://") || website.starts_with("http://")) {
    info["website"] = website;
  }
  const std::string currency = text(customer["CurrencyRef"]["value"]);
  if (currency.size() == 3) info["currency"] = currency;
  const std::string delivery = text(customer["PreferredDeliveryMethod"]);
  if (delivery == "Email") info["invoice_delivery"] = "email";
  if (delivery == "Print") info["invoice_delivery"] = "mail";
  const Json::Value& bill = customer["BillAddr"];
  if (bill.isObject() && !text(bill["Line1"]).empty()) {
    Json::Value& a = info["address"];
    // QuickBooks keeps street and number on one line: it becomes the street, and a number
    // kept apart here is cleared so the two are not shown twice.
    a["street"] = text(bill["Line1"]);
    a["number"] = "";
    a["building"] = text(bill["Line2"]);
    a["city"] = text(bill["City"]);
    a["state"] = text(bill["CountrySubDivisionCode"]);
    a["zip"] = text(bill["PostalCode"]);
    const std::string country = connectors::country_code(text(bill["Country"]));
    if (!country.empty()) a["country"] = country;
  }
  return info;
}

Json::Value invoice_body(const Json::Value& invoice, const std::string& customer_id,
                         const Settings& settings) {
  const std::string currency = text(invoice["currency"]);
  Json::Value b;
  b["DocNumber"] = text(invoice["number"]);
  b["TxnDate"] = text(invoice["issue_date"]);
  if (!text(invoice["due_date"]).empty()) b["DueDate"] = text(invoice["due_date"]);
  b["CustomerRef"]["value"] = customer_id;
  b["CurrencyRef"]["value"] = currency;
  const std::string email = text(invoice["client"]["email"]);
  if (!email.empty()) b["BillEmail"]["Address"] = clean(email);
  b["PrivateNote"] = "psahost invoice " + text(invoice["id"]);
  Json::Value& lines = b["Line"] = Json::Value(Json::arrayValue);
  for (const auto& line : invoice["lines"]) {
    const auto figures = connectors::line_figures(line, currency);
    Json::Value l;
    l["DetailType"] = "SalesItemLineDetail";
    l["Amount"] = decimal(figures.amount);
    l["Description"] = clean(connectors::line_description(line, figures, currency)).substr(0, 4000);
    Json::Value& d = l["SalesItemLineDetail"];
    d["ItemRef"]["value"] = settings.item_id;
    d["Qty"] = decimal(figures.quantity);
    d["UnitPrice"] = decimal(figures.unit_amount);
    d["TaxCodeRef"]["value"] =
        line["tax_amount"].asInt64() != 0 ? settings.tax_code : settings.tax_free_code;
    if (!text(line["work_date"]).empty()) d["ServiceDate"] = text(line["work_date"]);
    lines.append(l);
  }
  // Our tax, which the company's own calculation must not replace: the amounts we issued are the
  // amounts owed.
  b["TxnTaxDetail"]["TotalTax"] =
      decimal(connectors::major_units(invoice["tax_amount"].asInt64(), currency));
  return b;
}

bool is_our_invoice(const Json::Value& record, const Json::Value& ours,
                    const std::string& customer_id) {
  if (!record.isObject() || text(record["DocNumber"]) != text(ours["number"])) return false;
  if (text(record["CustomerRef"]["value"]) != customer_id) return false;
  const auto total = connectors::minor_units(record["TotalAmt"], text(ours["currency"]));
  return total && *total == ours["total_amount"].asInt64();
}

bool is_paid(const Json::Value& record, const std::string& currency) {
  const auto total = connectors::minor_units(record["TotalAmt"], currency);
  const auto balance = connectors::minor_units(record["Balance"], currency);
  return total && balance && *total > 0 && *balance == 0;
}

}  // namespace quickbooks
