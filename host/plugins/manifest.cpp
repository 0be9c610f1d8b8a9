// Manifest checks. The same rules are written down for publishers in
// manifests/manifest.schema.json; tests/plugins/manifest_schema_test.cpp keeps the two in
// agreement, so change both together.
#include "plugins/manifest.hpp"

#include "domain/utf8.hpp"

#include <json/reader.h>
#include <json/writer.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <system_error>
#include <tuple>
#include <utility>

namespace psahost::plugins {
namespace {

namespace fs = std::filesystem;
using domain::code_points;
using domain::find_invalid_utf8;
using Errors = std::vector<ManifestError>;

// Real manifests are a few KiB; anything near this is a mistake or an attempt to make the host
// allocate, so reading stops here.
constexpr std::size_t kMaxManifestBytes = std::size_t{256} * 1024;

// Strings echoed back in messages are cut here so that one bad value cannot flood a log line.
constexpr std::size_t kMaxEchoedChars = 80;

const std::vector<std::string> kTopLevelMembers = {
    "id",        "name",           "version",    "kind",    "publisher",   "description", "sdk",
    "library",   "sha256",         "signature",  "hooks",   "permissions", "network",     "config",
    "isolation", "failure_policy", "timeout_ms", "inbound", "limits",      "remote"};
const std::vector<std::string> kHookMembers = {"admission", "events",  "commands",
                                               "numbering", "webhook", "sync"};
const std::vector<std::string> kConfigMembers = {"schema", "defaults"};
const std::vector<std::string> kLimitsMembers = {"memory_mb", "cpu_seconds"};
const std::vector<std::string> kRemoteMembers = {"url"};
const std::vector<std::string> kInboundMembers = {"signature", "header", "prefix", "escaped_body",
                                                  "dedupe"};
const std::vector<std::string> kConfigSchemaMembers = {"type", "properties", "required",
                                                       "additionalProperties"};
const std::vector<std::string> kConfigPropertyMembers = {
    "type", "enum", "minimum", "maximum", "items", "description", "default"};
const std::vector<std::string> kConfigTypes = {"string", "integer", "boolean", "array", "object"};
const std::vector<std::string> kKinds = {"plugin", "connector"};
const std::vector<std::string> kIsolations = {"in_process", "process", "remote"};
const std::vector<std::string> kFailurePolicies = {"fail_closed", "fail_open"};

// Character classes spelled out: <cctype> depends on the locale, the schema's patterns do not.
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex_lower(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}
bool is_semver_char(char c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '-';
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  return std::all_of(s.begin(), s.end(), pred);
}

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = s.find(separator);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// Renders a value the way a reader of the error wants to see what was found.
std::string got(const Json::Value& value) {
  switch (value.type()) {
    case Json::nullValue:
      return "null";
    case Json::booleanValue:
      return value.asBool() ? "true" : "false";
    case Json::arrayValue:
      return "an array";
    case Json::objectValue:
      return "an object";
    case Json::stringValue: {
      std::string text = value.asString();
      const bool cut = text.size() > kMaxEchoedChars;
      if (cut) {
        text.resize(kMaxEchoedChars);
        // Do not leave half a UTF-8 sequence behind.
        while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
          text.pop_back();
        }
        if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
      }
      return Json::valueToQuotedString(text.c_str()) + (cut ? " (cut short)" : "");
    }
    default: {
      Json::StreamWriterBuilder writer;
      writer["indentation"] = "";
      return Json::writeString(writer, value);
    }
  }
}

// Member names that are not plain identifiers are quoted so that a path stays one line.
std::string member_path(std::string_view parent, const std::string& name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '-' || c == ':';
  });
  std::string path(parent);
  if (plain) {
    if (!path.empty()) path += '.';
    path += name;
  } else {
    path += "[" + Json::valueToQuotedString(name.c_str()) + "]";
  }
  return path;
}

std::string index_path(std::string_view parent, Json::ArrayIndex index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

const Json::Value* find_member(const Json::Value& object, std::string_view key) {
  if (!object.isObject()) return nullptr;
  return object.find(key.data(), key.data() + key.size());
}

// JSON Schema's "integer" is any number with no fraction (1.0 and 1e30 included); jsoncpp's
// isIntegral() misses doubles beyond 64 bits.
bool is_integer(const Json::Value& value) {
  if (value.isIntegral()) return true;
  if (value.type() != Json::realValue) return false;
  const double d = value.asDouble();
  return std::isfinite(d) && std::trunc(d) == d;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Unknown members are almost always typos of known ones; naming the likely one saves a round trip.
std::string unknown_member_message(const std::string& name, const std::vector<std::string>& known,
                                   bool extensions_allowed) {
  std::string message = "unknown member";
  const std::string* closest = nullptr;
  std::size_t best = SIZE_MAX;
  for (const auto& candidate : known) {
    // Close enough to be a slip of the keyboard or a dropped suffix ("timeout" for "timeout_ms"),
    // not merely another short word.
    const std::size_t distance = edit_distance(name, candidate);
    if (distance <= std::max<std::size_t>(2, candidate.size() / 3) && distance < best) {
      best = distance, closest = &candidate;
    }
  }
  if (closest) {
    message += " (did you mean \"" + *closest + "\"?)";
  }
  message += "; expected one of " + join(known, ", ");
  if (extensions_allowed) message += ", or a vendor extension whose name starts with \"x-\"";
  return message;
}

void report_unknown_members(const Json::Value& object, std::string_view path,
                            const std::vector<std::string>& known, bool extensions_allowed,
                            Errors& errors) {
  for (const auto& name : object.getMemberNames()) {
    if (contains(known, name)) continue;
    if (extensions_allowed && name.starts_with("x-")) continue;
    errors.push_back(
        {member_path(path, name), unknown_member_message(name, known, extensions_allowed)});
  }
}

// A rule for a string value: what it accepts and how to say what was expected.
struct StringRule {
  std::function<bool(std::string_view)> accepts;
  std::string expected;
};

StringRule any_string() {
  return {[](std::string_view) { return true; }, "a string"};
}

StringRule one_of(const std::vector<std::string>& values) {
  return {[&values](std::string_view s) { return contains(values, s); },
          "one of " + join(values, ", ")};
}

bool is_plugin_id(std::string_view s) {
  return s.size() >= 2 && s.size() <= 63 && is_lower(s[0]) &&
         std::all_of(s.begin() + 1, s.end(),
                     [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

bool is_numeric_identifier(std::string_view s) {
  return !s.empty() && all_of(s, is_digit) && (s.size() == 1 || s[0] != '0');
}

// semver.org 2.0.0's grammar: numeric parts without leading zeros, dot-separated pre-release
// identifiers (numeric ones without leading zeros) and build identifiers of [0-9A-Za-z-].
bool is_semantic_version(std::string_view s) {
  if (const auto plus = s.find('+'); plus != std::string_view::npos) {
    for (const auto identifier : split(s.substr(plus + 1), '.')) {
      if (identifier.empty() || !all_of(identifier, is_semver_char)) return false;
    }
    s = s.substr(0, plus);
  }
  if (const auto dash = s.find('-'); dash != std::string_view::npos) {
    for (const auto identifier : split(s.substr(dash + 1), '.')) {
      if (identifier.empty() || !all_of(identifier, is_semver_char)) return false;
      if (all_of(identifier, is_digit) && !is_numeric_identifier(identifier)) return false;
    }
    s = s.substr(0, dash);
  }
  const auto core = split(s, '.');
  return core.size() == 3 && std::all_of(core.begin(), core.end(), is_numeric_identifier);
}

// "^MAJOR.MINOR". Each number is capped at nine digits so that it always fits an int; the schema
// states the same cap.
std::optional<std::pair<int, int>> parse_sdk_range(std::string_view s) {
  if (!s.starts_with('^')) return std::nullopt;
  const auto parts = split(s.substr(1), '.');
  if (parts.size() != 2) return std::nullopt;
  int numbers[2] = {0, 0};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto part = parts[i];
    if (!is_numeric_identifier(part) || part.size() > 9) return std::nullopt;
    std::from_chars(part.data(), part.data() + part.size(), numbers[i]);
  }
  return std::pair{numbers[0], numbers[1]};
}

// A bare file name in the manifest's folder. NUL is refused as well: the loader hands the name to
// dlopen(), which would stop reading at it.
bool is_library_file_name(std::string_view s) {
  return s.ends_with(".so") &&
         s.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && all_of(s, is_hex_lower);
}

bool is_snake_word(std::string_view s) {
  return !s.empty() && is_lower(s[0]) &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return is_lower(c) || c == '_'; });
}

bool is_command_name(std::string_view s) {
  return !s.empty() && s.size() <= 63 && is_lower(s[0]) &&
         std::all_of(s.begin() + 1, s.end(),
                     [](char c) { return is_lower(c) || is_digit(c) || c == '_' || c == '-'; });
}

bool is_https_origin(std::string_view s) {
  constexpr std::string_view scheme = "https://";
  if (!s.starts_with(scheme)) return false;
  s.remove_prefix(scheme.size());
  const auto colon = s.find(':');
  const auto host = s.substr(0, colon);
  if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
        return is_lower(c) || is_digit(c) || c == '.' || c == '-';
      })) {
    return false;
  }
  if (colon == std::string_view::npos) return true;
  const auto port = s.substr(colon + 1);
  return !port.empty() && port.size() <= 5 && all_of(port, is_digit);
}

// https://host[:port] then an optional path and query of visible ASCII without a fragment: the
// URL a remote plugin's hook calls are POSTed to.
bool is_https_url(std::string_view s) {
  const auto slash = s.find('/', std::string_view("https://").size());
  const auto origin = s.substr(0, slash);
  if (!is_https_origin(origin)) return false;
  if (slash == std::string_view::npos) return true;
  const auto rest = s.substr(slash);
  return std::all_of(rest.begin(), rest.end(),
                     [](char c) { return c > ' ' && c < 0x7f && c != '#'; });
}

std::optional<std::string> check_string(const Json::Value& value, const std::string& path,
                                        const StringRule& rule, Errors& errors) {
  if (!value.isString() || !rule.accepts(value.asString())) {
    errors.push_back({path, "expected " + rule.expected + "; got " + got(value)});
    return std::nullopt;
  }
  return value.asString();
}

// An array of distinct strings, each passing the rule. Returns the good entries.
std::vector<std::string> check_string_set(const Json::Value& value, const std::string& path,
                                          const StringRule& rule, Errors& errors) {
  if (!value.isArray()) {
    errors.push_back({path, "expected an array of distinct strings, each " + rule.expected +
                                "; got " + got(value)});
    return {};
  }
  std::vector<std::string> entries;
  std::map<std::string, Json::ArrayIndex> first_seen;
  for (Json::ArrayIndex i = 0; i < value.size(); ++i) {
    const std::string entry_path = index_path(path, i);
    auto entry = check_string(value[i], entry_path, rule, errors);
    if (!entry) continue;
    const auto [seen, inserted] = first_seen.emplace(*entry, i);
    if (!inserted) {
      errors.push_back({entry_path, "duplicate of " + index_path(path, seen->second) +
                                        "; each entry may appear once; got " + got(value[i])});
      continue;
    }
    entries.push_back(std::move(*entry));
  }
  return entries;
}

std::optional<bool> check_bool(const Json::Value& value, const std::string& path, Errors& errors) {
  if (!value.isBool()) {
    errors.push_back({path, "expected a boolean (true or false); got " + got(value)});
    return std::nullopt;
  }
  return value.asBool();
}

std::optional<int> check_int_in_range(const Json::Value& value, const std::string& path, int lowest,
                                      int highest, Errors& errors) {
  if (!is_integer(value) || value.asDouble() < lowest || value.asDouble() > highest) {
    errors.push_back({path, "expected an integer from " + std::to_string(lowest) + " to " +
                                std::to_string(highest) + "; got " + got(value)});
    return std::nullopt;
  }
  return static_cast<int>(value.asDouble());
}

// Equality as JSON Schema's enum means it: 1 and 1.0 are the same number.
bool json_equal(const Json::Value& a, const Json::Value& b) {
  if (a.isNumeric() && b.isNumeric()) {
    if (a.isInt64() && b.isInt64()) return a.asInt64() == b.asInt64();
    return a.asDouble() == b.asDouble();
  }
  if (a.type() != b.type()) return false;
  if (a.isArray()) {
    if (a.size() != b.size()) return false;
    for (Json::ArrayIndex i = 0; i < a.size(); ++i) {
      if (!json_equal(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.isObject()) {
    if (a.size() != b.size()) return false;
    for (const auto& name : a.getMemberNames()) {
      const Json::Value* other = find_member(b, name);
      if (!other || !json_equal(*find_member(a, name), *other)) return false;
    }
    return true;
  }
  return a == b;
}

bool has_config_type(const Json::Value& value, std::string_view type) {
  if (type == "string") return value.isString();
  if (type == "integer") return is_integer(value);
  if (type == "boolean") return value.isBool();
  if (type == "array") return value.isArray();
  if (type == "object") return value.isObject();
  return false;
}

std::string with_article(std::string_view type) {
  return (type == "integer" || type == "array" || type == "object" ? "an " : "a ") +
         std::string(type);
}

// One setting against its property schema (already checked to be inside the subset).
void check_setting(const Json::Value& property, const Json::Value& value, const std::string& path,
                   Errors& errors) {
  const Json::Value* type_member = find_member(property, "type");
  const std::string type =
      type_member && type_member->isString() ? type_member->asString() : std::string();
  if (!type.empty() && !has_config_type(value, type)) {
    errors.push_back({path, "expected " + with_article(type) + "; got " + got(value)});
    return;
  }
  if (const Json::Value* allowed = find_member(property, "enum"); allowed && allowed->isArray()) {
    bool found = false;
    std::vector<std::string> shown;
    for (const auto& candidate : *allowed) {
      found = found || json_equal(candidate, value);
      shown.push_back(got(candidate));
    }
    if (!found) {
      errors.push_back({path, "expected one of " + join(shown, ", ") + "; got " + got(value)});
      return;
    }
  }
  if (is_integer(value)) {
    const Json::Value* minimum = find_member(property, "minimum");
    if (minimum && is_integer(*minimum) && value.asDouble() < minimum->asDouble()) {
      errors.push_back({path, "expected an integer >= " + got(*minimum) + "; got " + got(value)});
    }
    const Json::Value* maximum = find_member(property, "maximum");
    if (maximum && is_integer(*maximum) && value.asDouble() > maximum->asDouble()) {
      errors.push_back({path, "expected an integer <= " + got(*maximum) + "; got " + got(value)});
    }
  }
  if (const Json::Value* items = find_member(property, "items"); items && value.isArray()) {
    for (Json::ArrayIndex i = 0; i < value.size(); ++i) {
      check_setting(*items, value[i], index_path(path, i), errors);
    }
  }
}

// A whole configuration object. require_all is off for a manifest's defaults: they fill in what
// they can, and a required setting without a sensible default (an API key) is the partner's to
// give.
void check_settings(const Json::Value& schema, const Json::Value& value, const std::string& path,
                    bool require_all, Errors& errors) {
  if (!value.isObject()) {
    errors.push_back({path, "expected an object; got " + got(value)});
    return;
  }
  const Json::Value* properties = find_member(schema, "properties");
  const Json::Value* additional = find_member(schema, "additionalProperties");
  const bool closed = additional && additional->isBool() && !additional->asBool();
  for (const auto& name : value.getMemberNames()) {
    const std::string setting_path = member_path(path, name);
    if (const Json::Value* property = properties ? find_member(*properties, name) : nullptr) {
      check_setting(*property, *find_member(value, name), setting_path, errors);
    } else if (closed) {
      const auto known = properties && properties->isObject() ? properties->getMemberNames()
                                                              : std::vector<std::string>{};
      errors.push_back({setting_path, "unknown setting; expected one of: " + join(known, ", ")});
    }
  }
  const Json::Value* required = find_member(schema, "required");
  if (!require_all || !required || !required->isArray()) return;
  for (const auto& name : *required) {
    if (name.isString() && !find_member(value, name.asString())) {
      errors.push_back({member_path(path, name.asString()), "required setting is missing"});
    }
  }
}

// A property of a config schema: inside the documented subset, and its default fits it.
void check_config_property(const Json::Value& property, const std::string& path, Errors& errors) {
  if (!property.isObject()) {
    errors.push_back({path, "expected an object describing the setting; got " + got(property)});
    return;
  }
  const std::size_t errors_before = errors.size();
  report_unknown_members(property, path, kConfigPropertyMembers, false, errors);
  if (const Json::Value* type = find_member(property, "type")) {
    check_string(*type, path + ".type", one_of(kConfigTypes), errors);
  } else {
    errors.push_back({path + ".type",
                      "required member is missing; expected one of " + join(kConfigTypes, ", ")});
  }
  if (const Json::Value* allowed = find_member(property, "enum");
      allowed && (!allowed->isArray() || allowed->empty())) {
    errors.push_back(
        {path + ".enum", "expected a non-empty array of allowed values; got " + got(*allowed)});
  }
  for (const char* bound : {"minimum", "maximum"}) {
    if (const Json::Value* limit = find_member(property, bound); limit && !is_integer(*limit)) {
      errors.push_back({path + "." + bound, "expected an integer; got " + got(*limit)});
    }
  }
  if (const Json::Value* items = find_member(property, "items")) {
    check_config_property(*items, path + ".items", errors);
  }
  if (const Json::Value* description = find_member(property, "description")) {
    check_string(*description, path + ".description", any_string(), errors);
  }
  if (const Json::Value* fallback = find_member(property, "default");
      fallback && errors.size() == errors_before) {
    check_setting(property, *fallback, path + ".default", errors);
  }
}

// A config schema: the small subset of JSON Schema that the host can check without a library.
bool check_config_schema(const Json::Value& schema, const std::string& path, Errors& errors) {
  if (!schema.isObject()) {
    errors.push_back({path, "expected an object (a config schema); got " + got(schema)});
    return false;
  }
  const std::size_t errors_before = errors.size();
  report_unknown_members(schema, path, kConfigSchemaMembers, false, errors);
  const Json::Value* type = find_member(schema, "type");
  if (!type) {
    errors.push_back({path + ".type", "required member is missing; expected \"object\""});
  } else if (!type->isString() || type->asString() != "object") {
    errors.push_back({path + ".type", "expected \"object\"; got " + got(*type)});
  }
  if (const Json::Value* properties = find_member(schema, "properties")) {
    if (!properties->isObject()) {
      errors.push_back({path + ".properties", "expected an object; got " + got(*properties)});
    } else {
      for (const auto& name : properties->getMemberNames()) {
        check_config_property(*find_member(*properties, name),
                              member_path(path + ".properties", name), errors);
      }
    }
  }
  if (const Json::Value* required = find_member(schema, "required")) {
    check_string_set(*required, path + ".required", any_string(), errors);
  }
  if (const Json::Value* additional = find_member(schema, "additionalProperties")) {
    check_bool(*additional, path + ".additionalProperties", errors);
  }
  return errors.size() == errors_before;
}

void check_config_member(const Json::Value& config, Manifest& manifest, Errors& errors) {
  if (!config.isObject()) {
    errors.push_back({"config", "expected an object with schema and defaults; got " + got(config)});
    return;
  }
  report_unknown_members(config, "config", kConfigMembers, false, errors);
  const Json::Value* schema = find_member(config, "schema");
  if (!schema) {
    errors.push_back({"config.schema",
                      "required member is missing; expected an object (a config "
                      "schema)"});
  }
  const bool schema_ok = schema && check_config_schema(*schema, "config.schema", errors);
  const Json::Value* defaults = find_member(config, "defaults");
  if (defaults && !defaults->isObject()) {
    errors.push_back({"config.defaults", "expected an object; got " + got(*defaults)});
    return;
  }
  if (!schema_ok) return;
  manifest.config_schema = *schema;
  if (defaults) {
    check_settings(*schema, *defaults, "config.defaults", false, errors);
    manifest.config_defaults = *defaults;
  }
}

void check_hooks_member(const Json::Value& hooks, std::string_view kind, Hooks& out,
                        Errors& errors) {
  if (!hooks.isObject()) {
    errors.push_back(
        {"hooks", "expected an object declaring at least one hook; got " + got(hooks)});
    return;
  }
  report_unknown_members(hooks, "hooks", kHookMembers, false, errors);

  const StringRule event_type{is_event_type, "an event type like \"invoice.issued\" or \"*\""};
  const auto set = [&](const char* key, const StringRule& rule) {
    const Json::Value* value = find_member(hooks, key);
    return value ? check_string_set(*value, std::string("hooks.") + key, rule, errors)
                 : std::vector<std::string>{};
  };
  const auto flag = [&](const char* key) {
    const Json::Value* value = find_member(hooks, key);
    return value && check_bool(*value, std::string("hooks.") + key, errors).value_or(false);
  };
  out.admission = set("admission", one_of(kAdmissionOperations));
  out.events = set("events", event_type);
  out.commands =
      set("commands", {is_command_name, "a command name matching ^[a-z][a-z0-9_-]{0,62}$"});
  out.numbering = flag("numbering");
  for (const char* connector_only : {"webhook", "sync"}) {
    if (kind == "plugin" && find_member(hooks, connector_only)) {
      errors.push_back({std::string("hooks.") + connector_only,
                        "only connectors declare this hook; expected kind \"connector\", got "
                        "kind \"plugin\""});
    }
  }
  if (kind != "plugin") {
    out.webhook = flag("webhook");
    out.sync = set("sync", event_type);
  }

  // Judged on what was written, not on what passed: a mistyped declaration is its own error, and
  // "declares no hook" on top of it would be noise. Only an empty list or false declares nothing.
  const bool declares_any = std::any_of(kHookMembers.begin(), kHookMembers.end(), [&](auto& key) {
    const Json::Value* value = find_member(hooks, key);
    return value && !(value->isArray() && value->empty()) && !(value->isBool() && !value->asBool());
  });
  if (!declares_any) {
    errors.push_back({"hooks",
                      "declares no hook; expected at least one of: a non-empty admission, "
                      "events, commands or sync list, or numbering or webhook set to "
                      "true"});
  }
}

// Header names as HTTP defines tokens, lower case because the host looks them up lower-cased.
bool is_header_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return is_lower(c) || is_digit(c) || c == '-' || c == '_';
  });
}

// RFC 6901 pointers without escapes beyond ~0 and ~1: "/Metadata/key_url".
bool is_json_pointer(std::string_view s) {
  if (s.size() < 2 || code_points(s) > 200 || s[0] != '/') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) < 0x20) return false;
    if (s[i] == '~' && (i + 1 == s.size() || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
  }
  return true;
}

// {"key_id": 16 lower-case hex, "value": base64}; whether it verifies is the loader's question.
std::optional<ManifestSignature> check_signature_member(const Json::Value& signature,
                                                        Errors& errors) {
  if (!signature.isObject()) {
    errors.push_back({"signature",
                      "expected an object {\"key_id\", \"value\"} (psahost plugins sign writes "
                      "it); got " +
                          got(signature)});
    return std::nullopt;
  }
  report_unknown_members(signature, "signature", {"key_id", "value"}, false, errors);
  ManifestSignature out;
  const auto member = [&](const char* key, const StringRule& rule) {
    const Json::Value* value = find_member(signature, key);
    if (!value) {
      errors.push_back({std::string("signature.") + key,
                        "required member is missing; expected " + rule.expected});
      return std::string();
    }
    return check_string(*value, std::string("signature.") + key, rule, errors).value_or("");
  };
  const auto is_key_id = [](std::string_view s) {
    return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
  };
  out.key_id =
      member("key_id", {is_key_id, "16 lower-case hex characters (the publisher key's id)"});
  out.value = member("value", {[](std::string_view s) { return s.size() == 88; },
                               "the base64 of a 64-byte Ed25519 signature (88 characters)"});
  return out;
}

void check_inbound_member(const Json::Value& inbound, const Manifest& manifest, Inbound& out,
                          Errors& errors) {
  if (manifest.kind == "plugin") {
    errors.push_back({"inbound",
                      "only connectors receive webhooks; expected kind \"connector\", got kind "
                      "\"plugin\""});
    return;
  }
  if (!inbound.isObject()) {
    errors.push_back(
        {"inbound", "expected an object naming the signature scheme; got " + got(inbound)});
    return;
  }
  report_unknown_members(inbound, "inbound", kInboundMembers, false, errors);
  const auto string_member = [&](const char* key, const StringRule& rule) {
    const Json::Value* value = find_member(inbound, key);
    return value ? check_string(*value, std::string("inbound.") + key, rule, errors) : std::nullopt;
  };
  if (const Json::Value* signature = find_member(inbound, "signature")) {
    if (auto v = check_string(*signature, "inbound.signature", one_of(kSignatureSchemes), errors))
      out.signature = *v;
  } else {
    errors.push_back({"inbound.signature", "required member is missing; expected one of " +
                                               join(kSignatureSchemes, ", ")});
  }
  const bool hmac = out.signature.starts_with("hmac-");
  if (auto header = string_member(
          "header", {is_header_name, "a lower-case header name like \"x-xero-signature\""})) {
    out.header = *header;
  }
  if (auto prefix = string_member(
          "prefix", {[](std::string_view s) { return !s.empty() && code_points(s) <= 32; },
                     "a non-empty string of at most 32 characters"})) {
    out.prefix = *prefix;
  }
  if (const Json::Value* escaped = find_member(inbound, "escaped_body")) {
    out.escaped_body = check_bool(*escaped, "inbound.escaped_body", errors).value_or(false);
  }
  if (!out.signature.empty()) {
    if (hmac && !find_member(inbound, "header")) {
      errors.push_back({"inbound.header", "required member is missing for signature \"" +
                                              out.signature + "\"; expected a header name"});
    }
    for (const char* key : {"header", "prefix", "escaped_body"}) {
      if (!hmac && find_member(inbound, key)) {
        errors.push_back({std::string("inbound.") + key,
                          "only the hmac-sha256 and hmac-sha1 schemes take this; signature is \"" +
                              out.signature + "\""});
      }
    }
  }
  if (const Json::Value* dedupe = find_member(inbound, "dedupe")) {
    if (out.signature == "standard-webhooks") {
      errors.push_back({"inbound.dedupe",
                        "Standard Webhooks deliveries are deduplicated by webhook-id; remove "
                        "this member"});
    } else {
      out.dedupe = check_string_set(
          *dedupe, "inbound.dedupe",
          {is_json_pointer, "a JSON pointer into the body like \"/MessageId\""}, errors);
      if (dedupe->isArray() && (dedupe->empty() || dedupe->size() > 8)) {
        errors.push_back({"inbound.dedupe",
                          "expected 1 to 8 JSON pointers; got " + std::to_string(dedupe->size())});
      }
    }
  }
}

// jsoncpp's "* Line 1, Column 8\n  Duplicate key: 'a'\n" made into one line for logs.
std::string one_line(const std::string& jsoncpp_errors) {
  std::string out;
  for (auto line : split(jsoncpp_errors, '\n')) {
    while (!line.empty() && (line.front() == ' ' || line.front() == '*')) line.remove_prefix(1);
    if (line.empty()) continue;
    if (!out.empty()) out += line.starts_with("Line ") ? "; " : ": ";
    out += line;
  }
  return out;
}

}  // namespace

bool is_event_type(std::string_view s) {
  if (s == "*") return true;
  const auto dot = s.find('.');
  return dot != std::string_view::npos && is_snake_word(s.substr(0, dot)) &&
         is_snake_word(s.substr(dot + 1));
}

std::vector<std::string> Hooks::hook_names() const {
  std::vector<std::string> names;
  if (!admission.empty()) names.push_back("admission.review");
  if (!events.empty()) names.push_back("event.handle");
  for (const auto& command : commands) names.push_back("command." + command);
  if (numbering) names.push_back("numbering.allocate");
  if (webhook) names.push_back("webhook.map");
  if (!sync.empty()) names.push_back("sync.push");
  return names;
}

bool Manifest::has_permission(std::string_view permission) const {
  return std::find(permissions.begin(), permissions.end(), permission) != permissions.end();
}

ManifestResult parse_manifest(const Json::Value& document, const fs::path& source) {
  ManifestResult result;
  Errors& errors = result.errors;
  if (!document.isObject()) {
    errors.push_back({"", "expected a JSON object; got " + got(document)});
    return result;
  }
  report_unknown_members(document, "", kTopLevelMembers, true, errors);

  Manifest manifest;
  manifest.manifest_path = source;
  const auto string_member = [&](const char* key, bool required,
                                 const StringRule& rule) -> std::optional<std::string> {
    const Json::Value* value = find_member(document, key);
    if (!value) {
      if (required)
        errors.push_back({key, "required member is missing; expected " + rule.expected});
      return std::nullopt;
    }
    return check_string(*value, key, rule, errors);
  };
  const auto assign = [](std::string& field, std::optional<std::string> value) {
    if (value) field = std::move(*value);
  };

  assign(manifest.id,
         string_member("id", true, {is_plugin_id, "an id matching ^[a-z][a-z0-9-]{1,62}$"}));
  assign(manifest.name,
         string_member("name", true,
                       {[](std::string_view s) { return !s.empty() && code_points(s) <= 200; },
                        "a non-empty string of at most 200 characters"}));
  assign(manifest.version,
         string_member("version", true,
                       {is_semantic_version,
                        "a semantic version MAJOR.MINOR.PATCH[-prerelease][+build] (semver.org)"}));
  assign(manifest.kind, string_member("kind", true, one_of(kKinds)));
  assign(manifest.publisher,
         string_member("publisher", true,
                       {[](std::string_view s) { return !s.empty(); }, "a non-empty string"}));
  assign(manifest.description, string_member("description", false, any_string()));
  if (auto sdk = string_member(
          "sdk", true,
          {[](std::string_view s) { return parse_sdk_range(s).has_value(); },
           "the SDK ABI as \"^MAJOR.MINOR\", e.g. \"^1.0\" (numbers without leading zeros)"})) {
    std::tie(manifest.sdk_major, manifest.sdk_minor) = *parse_sdk_range(*sdk);
    manifest.sdk = std::move(*sdk);
  }
  // A remote plugin has no library: the two members the build writes for one are refused, and
  // required of every other plugin.
  const Json::Value* isolation_value = find_member(document, "isolation");
  const bool remote =
      isolation_value && isolation_value->isString() && isolation_value->asString() == "remote";
  if (remote) {
    for (const char* key : {"library", "sha256"}) {
      if (find_member(document, key)) {
        errors.push_back({key,
                          "a plugin with isolation \"remote\" has no library; remove this "
                          "member"});
      }
    }
  }
  assign(manifest.library,
         string_member("library", !remote,
                       {is_library_file_name,
                        "a file name ending in \".so\", without '/' or '\\' (the library sits "
                        "beside its manifest)"}));
  assign(manifest.sha256,
         string_member("sha256", !remote,
                       {is_sha256_hex, "64 lower-case hex characters (the library's SHA-256)"}));
  if (const Json::Value* signature = find_member(document, "signature")) {
    manifest.signature = check_signature_member(*signature, errors);
  }

  if (const Json::Value* hooks = find_member(document, "hooks")) {
    check_hooks_member(*hooks, manifest.kind, manifest.hooks, errors);
  } else {
    errors.push_back({"hooks",
                      "required member is missing; expected an object declaring at "
                      "least one hook"});
  }
  if (const Json::Value* permissions = find_member(document, "permissions")) {
    manifest.permissions =
        check_string_set(*permissions, "permissions", one_of(kPermissions), errors);
  }
  if (const Json::Value* network = find_member(document, "network")) {
    manifest.network = check_string_set(
        *network, "network",
        {is_https_origin, "an origin https://host[:port] with a lower-case host and no path"},
        errors);
  }
  if (const Json::Value* config = find_member(document, "config")) {
    check_config_member(*config, manifest, errors);
  }
  if (const Json::Value* inbound = find_member(document, "inbound")) {
    Inbound parsed;
    const std::size_t before = errors.size();
    check_inbound_member(*inbound, manifest, parsed, errors);
    if (errors.size() == before) manifest.inbound = std::move(parsed);
    if (manifest.kind != "plugin" && !manifest.hooks.webhook && errors.size() == before) {
      errors.push_back({"inbound",
                        "describes inbound webhooks but hooks.webhook is not true; declare the "
                        "webhook.map hook or remove this member"});
    }
  } else if (manifest.hooks.webhook) {
    errors.push_back({"inbound",
                      "required member is missing when hooks.webhook is true; expected an "
                      "object naming the signature scheme, e.g. {\"signature\": "
                      "\"standard-webhooks\"}"});
  }
  assign(manifest.isolation, string_member("isolation", false, one_of(kIsolations)));
  assign(manifest.failure_policy, string_member("failure_policy", false, one_of(kFailurePolicies)));
  if (const Json::Value* timeout = find_member(document, "timeout_ms")) {
    if (auto ms = check_int_in_range(*timeout, "timeout_ms", 1, 60000, errors)) {
      manifest.timeout_ms = *ms;
    }
  }

  if (const Json::Value* limits = find_member(document, "limits")) {
    if (!limits->isObject()) {
      errors.push_back({"limits",
                        "expected an object such as {\"memory_mb\": 512, "
                        "\"cpu_seconds\": 600}; got " +
                            got(*limits)});
    } else {
      report_unknown_members(*limits, "limits", kLimitsMembers, false, errors);
      if (const Json::Value* mb = find_member(*limits, "memory_mb")) {
        if (auto v = check_int_in_range(*mb, "limits.memory_mb", 128, 65536, errors)) {
          manifest.limits.memory_mb = *v;
        }
      }
      if (const Json::Value* cpu = find_member(*limits, "cpu_seconds")) {
        if (auto v = check_int_in_range(*cpu, "limits.cpu_seconds", 1, 86400, errors)) {
          manifest.limits.cpu_seconds = *v;
        }
      }
    }
  }

  if (const Json::Value* member = find_member(document, "remote")) {
    if (!remote) {
      errors.push_back({"remote",
                        "only a plugin with isolation \"remote\" names a URL; set isolation to "
                        "\"remote\" or remove this member"});
    } else if (!member->isObject()) {
      errors.push_back(
          {"remote", "expected an object such as {\"url\": \"https://gate.example/review\"}; got " +
                         got(*member)});
    } else {
      report_unknown_members(*member, "remote", kRemoteMembers, false, errors);
      if (const Json::Value* url = find_member(*member, "url")) {
        if (auto checked = check_string(
                *url, "remote.url",
                {is_https_url,
                 "an https:// URL with a lower-case host, an optional port and path, and no "
                 "fragment"},
                errors)) {
          manifest.remote = Remote{std::move(*checked)};
        }
      } else {
        errors.push_back({"remote.url",
                          "required member is missing; expected the https:// URL hook calls are "
                          "POSTed to"});
      }
    }
  } else if (remote) {
    errors.push_back({"remote",
                      "required member is missing when isolation is \"remote\"; expected an "
                      "object such as {\"url\": \"https://gate.example/review\"}"});
  }

  if (errors.empty()) result.manifest = std::move(manifest);
  return result;
}

ManifestDocument read_manifest_file(const fs::path& path) {
  ManifestDocument result;
  const auto fail = [&](std::string message) {
    result.errors.push_back({"", std::move(message)});
    return result;
  };
  const auto os_error = [](int error) { return std::system_category().message(error); };

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return fail("cannot open " + path.string() + ": " + os_error(errno));
  // Read at most one byte past the limit, so that neither a huge file nor a device is slurped.
  std::string text(kMaxManifestBytes + 1, '\0');
  const std::size_t read = std::fread(text.data(), 1, text.size(), file.get());
  if (std::ferror(file.get())) return fail("cannot read " + path.string() + ": " + os_error(errno));
  if (read > kMaxManifestBytes) {
    return fail("file is larger than " + std::to_string(kMaxManifestBytes / 1024) +
                " KiB, the most a manifest may be");
  }
  text.resize(read);
  // RFC 8259 requires UTF-8 and jsoncpp does not check it; publishers' tools refuse such files.
  if (const auto at = find_invalid_utf8(text)) {
    return fail("invalid JSON: not UTF-8 (byte offset " + std::to_string(*at) + ")");
  }

  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);
  // A BOM is not JSON (RFC 8259 section 8.1) and Python's json, which publishers use, refuses it.
  builder["skipBom"] = false;
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value document;
  std::string parse_errors;
  try {
    if (!reader->parse(text.data(), text.data() + text.size(), &document, &parse_errors)) {
      return fail("invalid JSON: " + one_line(parse_errors));
    }
  } catch (const std::exception& e) {
    // jsoncpp throws rather than reports when nesting exceeds its stack limit.
    return fail(std::string("invalid JSON: ") + e.what());
  }
  result.document = std::move(document);
  return result;
}

ManifestResult load_manifest(const fs::path& path) {
  auto read = read_manifest_file(path);
  if (!read.document) return ManifestResult{std::nullopt, std::move(read.errors)};
  return parse_manifest(*read.document, path);
}

std::vector<ManifestError> check_config(const Json::Value& schema, const Json::Value& value,
                                        const std::string& path) {
  Errors errors;
  check_settings(schema, value, path, true, errors);
  return errors;
}

std::string describe(const fs::path& source, const std::vector<ManifestError>& errors) {
  std::string out;
  for (const auto& error : errors) {
    out += source.string();
    out += ": ";
    if (!error.field.empty()) out += error.field + ": ";
    out += error.message;
    out += '\n';
  }
  return out;
}

}  // namespace psahost::plugins
