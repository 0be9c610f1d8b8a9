// A client's billing information and the one definition of when it is valid and complete.
// Everything that refuses work for want of billing info asks BillingInfo::is_complete().
#pragma once

#include "domain/refusal.hpp"

#include <json/value.h>

#include <optional>
#include <string>
#include <vector>

namespace psahost::domain {

struct Address {
  std::string street, number, building, city, state, zip;
  std::string country;  // ISO 3166-1 alpha-2, upper-case
};

// Empty strings mean "not given". Values that came through parse_billing_info() are trimmed and
// normalised as described there.
struct BillingInfo {
  std::string business_name, legal_form, email, website, debtor_code;
  std::string vat_number;  // upper-case, no separators, country prefix included ("NL123456789B01")
  std::string phone;
  Address address;
  std::string currency;                   // ISO 4217, upper-case, with a minor unit
  std::string tax_rate;                   // decimal string "21.00": 0..100, 2 to 4 decimals
  std::optional<int> payment_terms_days;  // 0..365
  bool direct_debit = false;
  std::string invoice_delivery;  // "email" | "mail"
  int roundup_minutes = 10;      // approved ticket time is rounded up to a multiple of this; 1..60

  // Complete means:
  //   - business_name, email, address.street, address.city, address.zip, address.country,
  //     currency, tax_rate, payment_terms_days and invoice_delivery are given and valid;
  //   - vat_number, when given, is valid; for an address in the EU that means it carries that
  //     member state's prefix (EL for Greece) and has its shape. A VAT number is not required:
  //     consumers and businesses not registered for VAT have none;
  //   - roundup_minutes is within 1..60 (it has a default, so only a broken value fails).
  // "Valid" is what parse_billing_info() accepts, so a value built in code or read back from an
  // older store is judged by the same rules as one that came through the API.
  bool is_complete() const;

  // The JSON field paths ("email", "address.city", ...) that stop completeness, in the order of
  // the API document: business_name, email, vat_number, address.street, address.city,
  // address.zip, address.country, currency, tax_rate, payment_terms_days, invoice_delivery,
  // roundup_minutes. Empty exactly when is_complete().
  std::vector<std::string> missing() const;

  // The API document: every field (absent strings as "", absent payment_terms_days as null),
  // plus the computed "complete" (bool) and "missing" (array of field paths).
  Json::Value to_json() const;
};

struct BillingInfoParse {
  std::optional<BillingInfo> info;  // set only when errors is empty
  std::vector<FieldError> errors;   // every problem found, in the order of the API document
};

// Reads the body of PUT /v1/clients/{id}/billing-info (snake_case, as to_json() writes it).
// Absent, null and empty (after trimming) members stay empty: partial billing info is allowed
// and is_complete() says what is missing. Every member that is given must be valid:
//   - strings are trimmed, valid UTF-8 without control characters, and capped in length
//     (business_name 200 characters; see billing_info.cpp for the others);
//   - email: one '@', a local part, a domain with a dot, no spaces (a practical check, not
//     RFC 5322); website: http:// or https:// and a host;
//   - address.country: ISO 3166-1 alpha-2, any case, stored upper-case; address.zip: when the
//     country is NL, DE, FR, BE, GB or US, that country's postcode shape (letters upper-cased);
//   - vat_number: spaces, dots and dashes removed and upper-cased; for an EU address, that
//     member state's prefix and shape; for a GB address, a UK VAT number (GB or XI); for other
//     countries 2..30 letters and digits; with no country, judged by its own prefix;
//   - phone: 6..30 characters of digits, spaces, + - ( ), '+' only in front, at least 5 digits;
//   - currency: an active ISO 4217 code with a minor unit, any case, stored upper-case;
//   - tax_rate: a JSON string, never a number, "^\d{1,3}(\.\d{1,4})?$" and at most 100; stored
//     with leading zeros dropped and at least 2 decimals ("21" -> "21.00", "7.125" kept);
//   - payment_terms_days 0..365 and roundup_minutes 1..60 are JSON integers (30, not 30.0);
//     direct_debit a boolean; invoice_delivery "email" or "mail".
// Unknown members are errors, to catch typos; "complete" and "missing" are accepted and ignored
// because to_json() writes them, so a document that was read can be sent back as it is.
BillingInfoParse parse_billing_info(const Json::Value& body);

// Ticket time as billed: minutes rounded up to a multiple of roundup (roundup 15: 7 -> 15,
// 21 -> 30, 45 -> 45; roundup 1 leaves minutes as they are). Throws std::invalid_argument when
// minutes < 1 or roundup < 1, and std::overflow_error when the result does not fit in an int.
int round_up_minutes(int minutes, int roundup);

}  // namespace psahost::domain
