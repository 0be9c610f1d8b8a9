// Money as accounting systems take it: integer minor units written as exact decimals of the
// currency's major unit ("12900" EUR is 129.00, JPY has no decimals, KWD three), never a double.
#pragma once

#include <json/value.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace connectors {

// Digits after the decimal point of the currency's minor unit, from ISO 4217; 2 for the codes
// not listed (the host accepts only active codes with a minor unit).
inline int currency_exponent(std::string_view code) {
  struct Entry {
    std::string_view code;
    int exponent;
  };
  static constexpr Entry kOther[] = {
      {"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"IQD", 3},
      {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0}, {"KWD", 3}, {"LYD", 3},
      {"OMR", 3}, {"PYG", 0}, {"RWF", 0}, {"TND", 3}, {"UGX", 0}, {"UYI", 0}, {"UYW", 4},
      {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}};
  for (const auto& e : kOther) {
    if (e.code == code) return e.exponent;
  }
  return 2;
}

// value / 10^places as a decimal text: decimal_text(12900, 2) == "129.00", (-5, 2) == "-0.05".
inline std::string decimal_text(int64_t value, int places) {
  const bool negative = value < 0;
  // Through unsigned, so the most negative value has a magnitude too.
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  std::string digits = std::to_string(magnitude);
  if (places > 0) {
    if (digits.size() <= static_cast<std::size_t>(places)) {
      digits.insert(0, static_cast<std::size_t>(places) - digits.size() + 1, '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(places), ".");
  }
  return negative ? "-" + digits : digits;
}

inline std::string major_units(int64_t minor, std::string_view currency) {
  return decimal_text(minor, currency_exponent(currency));
}

// The minor units an amount a system answered with stands for: a JSON number (read as the
// system's own rounding of a decimal) or a decimal string; nullopt when it is neither.
inline std::optional<int64_t> minor_units(const Json::Value& v, std::string_view currency) {
  const int exponent = currency_exponent(currency);
  double scale = 1;
  for (int i = 0; i < exponent; ++i) scale *= 10;
  if (v.isIntegral()) return v.asInt64() * static_cast<int64_t>(scale);
  if (v.isDouble()) {
    const double scaled = v.asDouble() * scale;
    if (!std::isfinite(scaled) || std::fabs(scaled) > 9e15) return std::nullopt;
    return static_cast<int64_t>(std::llround(scaled));
  }
  if (v.isString()) {
    const std::string text = v.asString();
    char* end = nullptr;
    const double parsed = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') return std::nullopt;
    return minor_units(Json::Value(parsed), currency);
  }
  return std::nullopt;
}

// What one invoice line is sent as: a quantity and a unit amount whose product is exactly the
// line's net amount, because both systems refuse (or silently recompute) a line whose amount is
// not quantity x unit price.
struct LineFigures {
  std::string quantity;     // decimal text
  std::string unit_amount;  // decimal text, major units
  std::string amount;       // decimal text, major units: quantity x unit_amount exactly
  bool as_one = false;      // sent as 1 x the amount: the quantity and price did not multiply
};

// A line of the host's invoice document (quantity, unit_price and amount in minor units; time
// lines count billed minutes at an hourly unit_price).
inline LineFigures line_figures(const Json::Value& line, std::string_view currency) {
  const int64_t quantity = line["quantity"].asInt64();
  const int64_t price = line["unit_price"].asInt64();
  const int64_t amount = line["amount"].asInt64();
  int64_t product = 0;
  const bool fits = !__builtin_mul_overflow(quantity, price, &product);
  LineFigures f;
  f.amount = major_units(amount, currency);
  if (line["kind"].asString() == "time_entry") {
    // Minutes as hours with up to four decimals is exact when the minutes are a multiple of 3.
    if (fits && quantity > 0 && quantity % 3 == 0 && product % 60 == 0 && product / 60 == amount) {
      f.quantity = decimal_text(quantity / 3 * 500, 4);
      f.unit_amount = major_units(price, currency);
      return f;
    }
  } else if (fits && quantity > 0 && product == amount) {
    f.quantity = std::to_string(quantity);
    f.unit_amount = major_units(price, currency);
    return f;
  }
  f.quantity = "1";
  f.unit_amount = f.amount;
  f.as_one = true;
  return f;
}

// The line's description, saying what a line sent as 1 x its amount was made of.
inline std::string line_description(const Json::Value& line, const LineFigures& f,
                                    std::string_view currency) {
  std::string text = line["description"].asString();
  if (!f.as_one) return text;
  const int64_t quantity = line["quantity"].asInt64();
  const std::string price = major_units(line["unit_price"].asInt64(), currency);
  if (line["kind"].asString() == "time_entry") {
    text += " (" + std::to_string(quantity) + " min at " + price + "/h)";
  } else if (quantity != 1 || line["discount"].asString() != "0.00") {
    text += " (" + std::to_string(quantity) + " x " + price;
    if (!line["discount"].asString().empty() && line["discount"].asString() != "0.00") {
      text += ", " + line["discount"].asString() + "% off";
    }
    text += ")";
  }
  return text;
}

}  // namespace connectors
