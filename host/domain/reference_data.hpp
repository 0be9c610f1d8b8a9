// Reference lists that billing info is checked against: ISO 3166-1 countries, ISO 4217 currencies
// with their minor units, EU membership and the shapes of EU (and UK) VAT numbers.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace psahost::domain {

// Every lookup takes the code exactly as stored: upper-case, no spaces. Callers normalise first.

// ISO 3166-1 alpha-2, officially assigned codes (249).
bool is_country(std::string_view alpha2);

// The 27 EU member states, by ISO 3166-1 alpha-2 (Greece is GR here).
bool is_eu_member(std::string_view alpha2);

// Active ISO 4217 codes (list A.1, funds codes included), sorted.
std::span<const std::string_view> active_currency_codes();
bool is_active_currency(std::string_view code);

// Digits after the decimal point of the currency's minor unit (EUR 2, JPY 0, KWD 3, CLF 4).
// Nothing for unknown codes and for codes without a minor unit (XAU, XDR, XXX, ...): no invoice
// can be written in those, because money is kept as an integer of minor units.
std::optional<int> currency_exponent(std::string_view code);

// The VAT number prefix of an EU member state: its ISO code, except Greece (GR), whose VAT numbers
// start with EL. Nothing for countries outside the EU.
std::optional<std::string_view> eu_vat_prefix(std::string_view country);

// The member state whose VAT numbers start with prefix ("EL" -> "GR"); nothing if none does.
std::optional<std::string_view> eu_vat_country(std::string_view prefix);

// Whether vat (upper-case, separators removed, prefix included) has the shape of the VAT numbers
// of EU member state country. Shape only: check digits are not verified and VIES is not asked,
// so a well-formed number that was never issued passes.
bool matches_eu_vat_format(std::string_view country, std::string_view vat);

// The shape, for error messages: "NL, 9 digits, B and 2 digits, like NL123456789B01". Empty for a
// country outside the EU.
std::string_view eu_vat_format_description(std::string_view country);

// UK VAT numbers: GB (or XI for Northern Ireland) and 9 digits, 12 digits (branch traders),
// GD000-GD499 (government departments) or HA500-HA999 (health authorities). Shape only.
bool matches_gb_vat_format(std::string_view vat);

}  // namespace psahost::domain
