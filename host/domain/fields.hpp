// Reads fields out of a JSON document (a request body, a plugin's host call), collecting every
// problem by its field path, so a refusal names each invalid field at once and nothing is written.
#pragma once

#include "domain/refusal.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psahost::domain {

class Fields {
 public:
  explicit Fields(const Json::Value& body, std::string prefix = {})
      : body_(body), prefix_(std::move(prefix)) {}

  // A trimmed string of 1..max characters without control characters; nullopt when absent
  // (an error too if required).
  std::optional<std::string> text(std::string_view name, bool required, std::size_t max = 200);
  // Like text(), but a member that is present must not be empty even when it is optional
  // (a PATCH may leave a name out, but not blank it).
  std::optional<std::string> non_empty(std::string_view name, bool required, std::size_t max = 200);
  // One of the allowed values.
  std::optional<std::string> one_of(std::string_view name, bool required,
                                    const std::vector<std::string>& allowed);
  // A JSON integer within [min, max].
  std::optional<int64_t> integer(std::string_view name, bool required, int64_t min, int64_t max);
  std::optional<bool> boolean(std::string_view name, bool required);
  // A calendar date YYYY-MM-DD.
  std::optional<std::string> date(std::string_view name, bool required);
  // An ISO 4217 code (upper-cased).
  std::optional<std::string> currency(std::string_view name, bool required);

  // Members not in the allowed list are errors (typos must not be silently ignored).
  void only(const std::vector<std::string>& allowed);
  void error(std::string_view name, std::string message);

  bool has(std::string_view name) const { return body_.isMember(std::string(name)); }
  bool ok() const { return errors_.empty(); }
  // [{"field","message"}], for validation_failed().
  Json::Value errors() const;
  // The errors as a refusal of the request as invalid, for a feature that reads a document.
  Refusal to_refusal() const;

 private:
  std::string path(std::string_view name) const;
  const Json::Value& body_;
  std::string prefix_;
  std::vector<std::pair<std::string, std::string>> errors_;
};

// True for YYYY-MM-DD naming a real day.
bool is_date(std::string_view text);

// An integer id in a path or an ?after: a whole number from 1 up; nothing for anything else.
std::optional<int64_t> positive_id(std::string_view text);

}  // namespace psahost::domain
