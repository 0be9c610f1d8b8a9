// Typed access to one result row of the store.
// Columns hold only NULL, integers and text, so every accessor is exact; nothing is guessed.
#include <string>

#include "store/store.hpp"

namespace psahost::store {

int64_t Row::integer(std::size_t i) const {
  const Value& v = columns_.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (std::holds_alternative<std::nullptr_t>(v)) return 0;
  // Parsing text here would hide a schema or query mistake; fail where it happens.
  throw StoreError("column " + std::to_string(i) + " holds text, not an integer");
}

std::string Row::text(std::size_t i) const {
  const Value& v = columns_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  return {};
}

std::optional<std::string> Row::optional_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

}  // namespace psahost::store
