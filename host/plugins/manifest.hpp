// A plugin's or connector's manifest: what it is, which library to load and what it may do.
// parse_manifest() checks every field and reports each problem by its JSON path.
#pragma once

#include <json/value.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psahost::plugins {

// Operations the admission pipeline guards.
inline const std::vector<std::string> kAdmissionOperations = {
    "time_entry.approve", "sales_item.create", "sales_item.update",
    "contract.activate",  "billing_run.start", "invoice.issue"};

// Permissions a manifest may ask for; host calls check them (see HostCalls).
inline const std::vector<std::string> kPermissions = {
    "clients:read",       "clients:write",     "billing_info:read",
    "billing_info:write", "services:read",     "catalog:read",
    "contracts:read",     "contracts:write",   "tickets:read",
    "tickets:write",      "time_entries:read", "time_entries:write",
    "sales_items:read",   "sales_items:write", "invoices:read",
    "invoices:write",     "numbering:read",    "numbering:write",
    "events:emit",        "outbox:write",      "kv"};

struct ManifestError {
  std::string field;    // JSON path of the offending member: "hooks.admission[1]", "sha256"
  std::string message;  // what was expected
};

struct Hooks {
  std::vector<std::string> admission;  // operations reviewed (admission.review)
  std::vector<std::string> events;     // event types handled (event.handle); "*" for all
  std::vector<std::string> commands;   // command.<name> hooks exposed on the API
  bool numbering = false;              // numbering.allocate
  bool webhook = false;                // webhook.map (connectors)
  std::vector<std::string> sync;       // event types pushed out (sync.push, connectors)

  // Every hook name these declarations need the library to handle.
  std::vector<std::string> hook_names() const;
};

// Inbound webhook signature schemes the host verifies before anything is stored.
inline const std::vector<std::string> kSignatureSchemes = {"standard-webhooks", "hmac-sha256",
                                                           "hmac-sha1", "connectwise"};

// How the host authenticates and deduplicates a connector's inbound webhooks (manifest member
// "inbound"; connectors with hooks.webhook only). The connector never sees the secret.
struct Inbound {
  std::string signature;  // one of kSignatureSchemes
  // hmac-*: the request header carrying the MAC, base64, after an optional prefix ("sha1=").
  std::string header;
  std::string prefix;
  // hmac-*: also accept a MAC over the body with & < > ' " and non-ASCII re-escaped as \uXXXX
  // (Autotask signs such a copy), after the raw body failed.
  bool escaped_body = false;
  // JSON pointers into the body whose values together are the delivery's natural key
  // (["/Guid","/Id","/SequenceNumber"]). Standard Webhooks always uses webhook-id; without
  // either, a repeated delivery is recognised by the SHA-256 of its body.
  std::vector<std::string> dedupe;
};

// What a plugin run in its own process may use (isolation "process"); applied with setrlimit in
// the runner before the library is loaded. An in-process plugin shares the host's.
struct Limits {
  int memory_mb = 1024;    // address space, 128..65536
  int cpu_seconds = 3600;  // CPU time of one runner before it is stopped and restarted, 1..86400
};

// A publisher's signature over the canonical manifest (see plugins/signing.hpp).
struct ManifestSignature {
  std::string key_id;  // 16 lower-case hex characters
  std::string value;   // base64 of 64 bytes
};

// Where a plugin with isolation "remote" is called: each hook call is POSTed there, signed the
// Standard Webhooks way with a secret the host issues (psahost plugins secret ID).
struct Remote {
  std::string url;  // https://host[:port][/path]
};

struct Manifest {
  std::string id;  // ^[a-z][a-z0-9-]{1,62}$
  std::string name;
  std::string version;  // semantic version
  std::string kind;     // plugin | connector
  std::string publisher;
  std::string description;
  std::string sdk;  // "^MAJOR.MINOR": the ABI the plugin was built against
  int sdk_major = 0;
  int sdk_minor = 0;
  std::string library;  // file name, relative to the manifest's folder ("" when remote)
  std::string sha256;   // lower-case hex digest of the library ("" when remote)
  std::optional<ManifestSignature> signature;
  Hooks hooks;
  std::vector<std::string> permissions;
  std::vector<std::string> network;  // outbound origins (https://host[:port])
  std::optional<Inbound> inbound;    // set exactly when hooks.webhook is
  Json::Value config_schema = Json::objectValue;
  Json::Value config_defaults = Json::objectValue;
  std::string isolation = "in_process";        // in_process | process | remote
  std::string failure_policy = "fail_closed";  // fail_closed | fail_open
  int timeout_ms = 1000;                       // 1..60000
  Limits limits;
  std::optional<Remote> remote;  // set exactly when isolation is "remote"

  std::filesystem::path manifest_path;  // where it was read from
  std::filesystem::path library_path() const { return manifest_path.parent_path() / library; }
  bool has_permission(std::string_view permission) const;
};

struct ManifestResult {
  std::optional<Manifest> manifest;  // set only when errors is empty
  std::vector<ManifestError> errors;
};

// "invoice.issued": two snake_case words joined by a dot; or "*" for every event.
bool is_event_type(std::string_view s);

// Checks a parsed document field by field; source names the file in messages.
ManifestResult parse_manifest(const Json::Value& document, const std::filesystem::path& source);

struct ManifestDocument {
  std::optional<Json::Value> document;  // set only when errors is empty
  std::vector<ManifestError> errors;
};

// Reads a manifest file as strict JSON (UTF-8, no BOM, no comments, size-limited), unchecked;
// the loader verifies the signature over exactly the document it then parses.
ManifestDocument read_manifest_file(const std::filesystem::path& path);

// Reads and checks a manifest file; unreadable or malformed JSON is reported as field "".
ManifestResult load_manifest(const std::filesystem::path& path);

// Checks a configuration value against a manifest's config schema (the subset documented in
// manifests/manifest.schema.json); errors name the path under "config".
std::vector<ManifestError> check_config(const Json::Value& schema, const Json::Value& value,
                                        const std::string& path = "config");

// "file: field: message" lines, for logs and the CLI.
std::string describe(const std::filesystem::path& source, const std::vector<ManifestError>& errors);

}  // namespace psahost::plugins
