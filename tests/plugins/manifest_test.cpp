// Manifest checks: every field's rule, reported by its path, all at once; defaults; loading files.
#include "plugins/manifest.hpp"

#include <json/reader.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
using psahost::plugins::check_config;
using psahost::plugins::describe;
using psahost::plugins::Hooks;
using psahost::plugins::load_manifest;
using psahost::plugins::ManifestError;
using psahost::plugins::ManifestResult;
using psahost::plugins::parse_manifest;

const fs::path kFixtures = fs::path(PSAHOST_TEST_DATA) / "plugins" / "manifests";
constexpr std::size_t kManifestLimit = std::size_t{256} * 1024;  // what load_manifest reads

Json::Value json(const std::string& text) {
  Json::CharReaderBuilder builder;
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value value;
  std::string errors;
  INFO(text);
  REQUIRE(reader->parse(text.data(), text.data() + text.size(), &value, &errors));
  return value;
}

Json::Value minimal_plugin() {
  return json(R"({
    "id": "example-gate",
    "name": "Example gate",
    "version": "1.0.0",
    "kind": "plugin",
    "publisher": "Example Ltd",
    "sdk": "^1.0",
    "library": "example-gate.so",
    "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "hooks": {"admission": ["time_entry.approve"]}
  })");
}

Json::Value minimal_connector() {
  Json::Value document = minimal_plugin();
  document["kind"] = "connector";
  document["hooks"] = json(R"({"webhook": true, "sync": ["invoice.issued"]})");
  document["inbound"] = json(R"({"signature": "hmac-sha256", "header": "x-books-signature"})");
  return document;
}

ManifestResult check(const Json::Value& document) {
  return parse_manifest(document, "test.json");
}

std::string fields_of(const std::vector<ManifestError>& errors) {
  std::string out;
  for (const auto& error : errors) out += "[" + error.field + "] ";
  return out;
}

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  REQUIRE(out.good());
}

// Fixture stems in a folder, sorted.
std::vector<std::string> fixture_stems(const std::string& folder) {
  std::vector<std::string> stems;
  for (const auto& entry : fs::directory_iterator(kFixtures / folder)) {
    if (entry.path().extension() == ".json") stems.push_back(entry.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  return stems;
}

}  // namespace

TEST_CASE("a complete manifest parses into the struct the loader uses", "[manifest]") {
  const auto result = load_manifest(kFixtures / "valid" / "full-connector.json");
  INFO(describe("full-connector.json", result.errors));
  REQUIRE(result.errors.empty());
  REQUIRE(result.manifest);
  const auto& m = *result.manifest;
  CHECK(m.id == "example-sync");
  CHECK(m.name == "Example sync — every member");
  CHECK(m.version == "2.1.0-rc.1+build.5");
  CHECK(m.kind == "connector");
  CHECK(m.publisher == "Example Ltd");
  CHECK(m.description == "Uses every member of the format once.");
  CHECK(m.sdk == "^1.3");
  CHECK(m.sdk_major == 1);
  CHECK(m.sdk_minor == 3);
  CHECK(m.library == "libexample-sync.v2.so");
  CHECK(m.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  REQUIRE(m.signature);
  CHECK(m.signature->key_id == "0123456789abcdef");
  CHECK(m.signature->value == std::string(86, 'A') + "==");
  CHECK(m.hooks.admission ==
        std::vector<std::string>{"sales_item.create", "billing_run.start", "invoice.issue"});
  CHECK(m.hooks.events == std::vector<std::string>{"client.upserted", "billing_info.updated"});
  CHECK(m.hooks.commands == std::vector<std::string>{"resync", "import-clients", "a"});
  CHECK(m.hooks.numbering);
  CHECK_FALSE(m.hooks.webhook);
  CHECK(m.hooks.sync == std::vector<std::string>{"invoice.issued", "client.upserted"});
  CHECK(m.permissions == std::vector<std::string>{"clients:read", "invoices:write",
                                                  "numbering:read", "outbox:write", "kv"});
  CHECK(m.network == std::vector<std::string>{"https://api.example.com",
                                              "https://sandbox.example.com:8443",
                                              "https://10.0.0.1"});
  CHECK(m.config_schema["properties"]["page_size"]["maximum"].asInt() == 1000);
  CHECK(m.config_defaults["page_size"].asInt() == 100);
  CHECK(m.isolation == "process");
  CHECK(m.failure_policy == "fail_open");
  CHECK(m.timeout_ms == 5000);
  CHECK(m.manifest_path == kFixtures / "valid" / "full-connector.json");
  CHECK(m.library_path() == kFixtures / "valid" / "libexample-sync.v2.so");
  CHECK(m.has_permission("outbox:write"));
  CHECK_FALSE(m.has_permission("clients:write"));
  CHECK_FALSE(m.has_permission("outbox"));
}

TEST_CASE("isolation - failure_policy - timeout_ms and config default when omitted", "[manifest]") {
  const auto result = check(minimal_plugin());
  REQUIRE(result.manifest);
  CHECK(result.manifest->isolation == "in_process");
  CHECK(result.manifest->failure_policy == "fail_closed");
  CHECK(result.manifest->timeout_ms == 1000);
  CHECK(result.manifest->limits.memory_mb == 1024);
  CHECK(result.manifest->limits.cpu_seconds == 3600);
  CHECK_FALSE(result.manifest->signature);
  CHECK(result.manifest->description.empty());
  CHECK(result.manifest->permissions.empty());
  CHECK(result.manifest->network.empty());
  CHECK((result.manifest->config_schema.isObject() && result.manifest->config_schema.empty()));
  CHECK((result.manifest->config_defaults.isObject() && result.manifest->config_defaults.empty()));
}

TEST_CASE("a process-isolated plugin's limits are read from the manifest", "[manifest]") {
  Json::Value document = minimal_plugin();
  document["isolation"] = "process";
  document["limits"] = json(R"({"memory_mb": 256, "cpu_seconds": 60})");
  const auto result = check(document);
  INFO(describe("test.json", result.errors));
  REQUIRE(result.manifest);
  CHECK(result.manifest->isolation == "process");
  CHECK(result.manifest->limits.memory_mb == 256);
  CHECK(result.manifest->limits.cpu_seconds == 60);
}

TEST_CASE("every valid fixture parses", "[manifest]") {
  const auto stems = fixture_stems("valid");
  REQUIRE(stems.size() >= 10);
  for (const auto& stem : stems) {
    const auto result = load_manifest(kFixtures / "valid" / (stem + ".json"));
    INFO(describe(stem + ".json", result.errors));
    CHECK(result.errors.empty());
    CHECK(result.manifest.has_value());
  }
}

TEST_CASE("each broken fixture is refused with one error on the field its name gives",
          "[manifest]") {
  // Every fixture in broken/ must be listed here: a fixture that failed for another reason than
  // the one it is named after would prove nothing in the schema agreement test either.
  const std::map<std::string, std::string> expected_field = {
      {"admission-duplicate-operation", "hooks.admission[2]"},
      {"admission-not-an-array", "hooks.admission"},
      {"admission-unknown-operation", "hooks.admission[1]"},
      {"byte-order-mark", ""},
      {"commands-bad-name", "hooks.commands[0]"},
      {"comment", ""},
      {"config-defaults-not-an-object", "config.defaults"},
      {"config-extra-member", "config.default"},
      {"config-missing-schema", "config.schema"},
      {"config-property-empty-enum", "config.schema.properties.mode.enum"},
      {"config-property-minimum-fraction", "config.schema.properties.roundup.minimum"},
      {"config-property-type-number", "config.schema.properties.rate.type"},
      {"config-schema-type-not-object", "config.schema.type"},
      {"config-schema-unknown-keyword", "config.schema.properties.url.pattern"},
      {"description-wrong-type", "description"},
      {"duplicate-key", ""},
      {"events-bad-type", "hooks.events[0]"},
      {"events-without-dot", "hooks.events[0]"},
      {"failure-policy-unknown", "failure_policy"},
      {"hooks-empty", "hooks"},
      {"hooks-missing", "hooks"},
      {"hooks-not-an-object", "hooks"},
      {"hooks-only-empty-lists", "hooks"},
      {"hooks-unknown-member", "hooks.admision"},
      {"id-bad", "id"},
      {"id-missing", "id"},
      {"id-too-short", "id"},
      {"id-trailing-newline", "id"},
      {"inbound-dedupe-not-a-pointer", "inbound.dedupe[0]"},
      {"inbound-dedupe-on-standard-webhooks", "inbound.dedupe"},
      {"inbound-hmac-without-header", "inbound.header"},
      {"inbound-header-upper-case", "inbound.header"},
      {"inbound-missing", "inbound"},
      {"inbound-on-plugin", "inbound"},
      {"inbound-prefix-on-connectwise", "inbound.prefix"},
      {"inbound-unknown-member", "inbound.headers"},
      {"inbound-unknown-scheme", "inbound.signature"},
      {"inbound-without-webhook-hook", "inbound"},
      {"isolation-unknown", "isolation"},
      {"kind-unknown", "kind"},
      {"library-missing", "library"},
      {"library-with-backslash", "library"},
      {"library-with-slash", "library"},
      {"library-without-so", "library"},
      {"malformed-json", ""},
      {"name-empty", "name"},
      {"name-too-long", "name"},
      {"network-bad-origin", "network[0]"},
      {"network-origin-upper-case", "network[0]"},
      {"network-origin-with-path", "network[0]"},
      {"network-port-too-long", "network[0]"},
      {"not-an-object", ""},
      {"not-utf8", ""},
      {"numbering-wrong-type", "hooks.numbering"},
      {"permissions-duplicate", "permissions[1]"},
      {"permissions-unknown", "permissions[1]"},
      {"publisher-missing", "publisher"},
      {"remote-missing", "remote"},
      {"remote-url-fragment", "remote.url"},
      {"remote-url-http", "remote.url"},
      {"remote-with-library", "library"},
      {"remote-without-remote-isolation", "remote"},
      {"sdk-with-patch", "sdk"},
      {"sdk-without-caret", "sdk"},
      {"sha256-missing", "sha256"},
      {"sha256-short", "sha256"},
      {"sha256-upper-case", "sha256"},
      {"signature-wrong-type", "signature"},
      {"sync-bad-event-type", "hooks.sync[0]"},
      {"sync-on-plugin", "hooks.sync"},
      {"timeout-60001", "timeout_ms"},
      {"timeout-fraction", "timeout_ms"},
      {"timeout-string", "timeout_ms"},
      {"timeout-zero", "timeout_ms"},
      {"unknown-top-level-member", "timeout"},
      {"version-bad", "version"},
      {"version-empty-prerelease", "version"},
      {"version-leading-zero", "version"},
      {"webhook-on-plugin", "hooks.webhook"},
  };
  std::vector<std::string> listed;
  listed.reserve(expected_field.size());
  for (const auto& [stem, field] : expected_field) listed.push_back(stem);
  CHECK(fixture_stems("broken") == listed);

  for (const auto& [stem, field] : expected_field) {
    const auto result = load_manifest(kFixtures / "broken" / (stem + ".json"));
    INFO(stem << ":\n" << describe(stem + ".json", result.errors));
    CHECK_FALSE(result.manifest.has_value());
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].field == field);
    CHECK_FALSE(result.errors[0].message.empty());
  }
}

TEST_CASE("a wrong field is reported by its path - saying what was expected", "[manifest]") {
  struct Mistake {
    std::string what;
    std::function<void(Json::Value&)> make;
    std::string field;
    std::string message_part;
  };
  const std::vector<Mistake> mistakes = {
      {"id with capitals", [](auto& d) { d["id"] = "Billing"; }, "id",
       "expected an id matching ^[a-z][a-z0-9-]{1,62}$; got \"Billing\""},
      {"id too long", [](auto& d) { d["id"] = "a" + std::string(63, 'b'); }, "id", "{1,62}"},
      {"id not a string", [](auto& d) { d["id"] = 42; }, "id", "got 42"},
      {"empty name", [](auto& d) { d["name"] = ""; }, "name", "a non-empty string"},
      {"name of 201 characters", [](auto& d) { d["name"] = std::string(201, 'n'); }, "name",
       "at most 200 characters"},
      {"four-part version", [](auto& d) { d["version"] = "1.0.0.0"; }, "version",
       "semantic version"},
      {"version with v prefix", [](auto& d) { d["version"] = "v1.0.0"; }, "version",
       "semantic version"},
      {"pre-release with leading zero", [](auto& d) { d["version"] = "1.0.0-01"; }, "version",
       "semantic version"},
      {"unknown kind", [](auto& d) { d["kind"] = "extension"; }, "kind",
       "expected one of plugin, connector; got \"extension\""},
      {"publisher missing", [](auto& d) { d.removeMember("publisher"); }, "publisher",
       "required member is missing"},
      {"description not a string", [](auto& d) { d["description"] = false; }, "description",
       "expected a string; got false"},
      {"sdk without caret", [](auto& d) { d["sdk"] = "1.0"; }, "sdk", "\"^MAJOR.MINOR\""},
      {"sdk with leading zero", [](auto& d) { d["sdk"] = "^01.0"; }, "sdk", "^MAJOR.MINOR"},
      {"sdk number past nine digits", [](auto& d) { d["sdk"] = "^1000000000.0"; }, "sdk",
       "^MAJOR.MINOR"},
      {"library in a subfolder", [](auto& d) { d["library"] = "lib/x.so"; }, "library",
       "without '/'"},
      {"library named ..", [](auto& d) { d["library"] = ".."; }, "library", "ending in \".so\""},
      {"library with NUL", [](auto& d) { d["library"] = std::string("x.so\0.so", 8); }, "library",
       ".so"},
      {"sha256 of 63 characters", [](auto& d) { d["sha256"] = std::string(63, 'a'); }, "sha256",
       "64 lower-case hex characters"},
      {"sha256 not hex", [](auto& d) { d["sha256"] = std::string(64, 'g'); }, "sha256",
       "64 lower-case hex characters"},
      {"signature not an object", [](auto& d) { d["signature"] = "c2ln"; }, "signature",
       "an object {\"key_id\", \"value\"}"},
      {"signature key id too short",
       [](auto& d) {
         d["signature"]["key_id"] = "abc";
         d["signature"]["value"] = std::string(86, 'A') + "==";
       },
       "signature.key_id", "16 lower-case hex characters"},
      {"signature without value",
       [](auto& d) { d["signature"] = json(R"({"key_id": "0123456789abcdef"})"); },
       "signature.value", "required member is missing"},
      {"hooks missing", [](auto& d) { d.removeMember("hooks"); }, "hooks",
       "required member is missing"},
      {"unknown admission operation",
       [](auto& d) { d["hooks"]["admission"].append("time.approve"); }, "hooks.admission[1]",
       "expected one of time_entry.approve, sales_item.create, sales_item.update, "
       "contract.activate, billing_run.start, invoice.issue; got \"time.approve\""},
      {"duplicate admission operation",
       [](auto& d) { d["hooks"]["admission"].append("time_entry.approve"); }, "hooks.admission[1]",
       "duplicate of hooks.admission[0]"},
      {"admission entry not a string", [](auto& d) { d["hooks"]["admission"].append(7); },
       "hooks.admission[1]", "got 7"},
      {"event type in camel case", [](auto& d) { d["hooks"]["events"].append("invoice.Issued"); },
       "hooks.events[0]", "an event type like \"invoice.issued\" or \"*\""},
      {"event type with two dots",
       [](auto& d) { d["hooks"]["events"].append("invoice.issued.late"); }, "hooks.events[0]",
       "event type"},
      {"command starting with a digit", [](auto& d) { d["hooks"]["commands"].append("1sync"); },
       "hooks.commands[0]", "^[a-z][a-z0-9_-]{0,62}$"},
      {"numbering as a string", [](auto& d) { d["hooks"]["numbering"] = "yes"; }, "hooks.numbering",
       "expected a boolean (true or false); got \"yes\""},
      {"webhook on a plugin", [](auto& d) { d["hooks"]["webhook"] = true; }, "hooks.webhook",
       "only connectors"},
      {"webhook false on a plugin", [](auto& d) { d["hooks"]["webhook"] = false; }, "hooks.webhook",
       "only connectors"},
      {"sync on a plugin", [](auto& d) { d["hooks"]["sync"].append("invoice.issued"); },
       "hooks.sync", "only connectors"},
      {"empty hooks", [](auto& d) { d["hooks"] = Json::Value(Json::objectValue); }, "hooks",
       "declares no hook"},
      {"hooks with only false and empty lists",
       [](auto& d) { d["hooks"] = json(R"({"admission": [], "numbering": false})"); }, "hooks",
       "declares no hook"},
      {"unknown hook", [](auto& d) { d["hooks"]["event"] = Json::arrayValue; }, "hooks.event",
       "did you mean \"events\"?"},
      {"unknown permission", [](auto& d) { d["permissions"].append("admin"); }, "permissions[0]",
       "expected one of clients:read, clients:write"},
      {"permissions not an array", [](auto& d) { d["permissions"] = "kv"; }, "permissions",
       "expected an array of distinct strings"},
      {"origin with upper-case host", [](auto& d) { d["network"].append("https://Example.com"); },
       "network[0]", "https://host[:port]"},
      {"origin with a trailing slash", [](auto& d) { d["network"].append("https://example.com/"); },
       "network[0]", "no path"},
      {"origin with an empty port", [](auto& d) { d["network"].append("https://example.com:"); },
       "network[0]", "https://host[:port]"},
      {"config not an object", [](auto& d) { d["config"] = 5; }, "config",
       "expected an object with schema and defaults; got 5"},
      {"config property of type number",
       [](auto& d) {
         d["config"] = json(R"({"schema": {"type": "object",
                                            "properties": {"rate": {"type": "number"}}}})");
       },
       "config.schema.properties.rate.type", "expected one of string, integer, boolean, array"},
      {"config items outside the subset",
       [](auto& d) {
         d["config"] = json(R"({"schema": {"type": "object", "properties":
             {"codes": {"type": "array", "items": {"type": "string", "format": "uri"}}}}})");
       },
       "config.schema.properties.codes.items.format", "unknown member"},
      {"config defaults of the wrong type",
       [](auto& d) {
         d["config"] = json(R"({"schema": {"type": "object", "properties":
             {"roundup": {"type": "integer"}}}, "defaults": {"roundup": "ten"}})");
       },
       "config.defaults.roundup", "expected an integer; got \"ten\""},
      {"unknown isolation", [](auto& d) { d["isolation"] = "docker"; }, "isolation",
       "expected one of in_process, process, remote; got \"docker\""},
      {"unknown failure policy", [](auto& d) { d["failure_policy"] = "ignore"; }, "failure_policy",
       "expected one of fail_closed, fail_open"},
      {"timeout 0", [](auto& d) { d["timeout_ms"] = 0; }, "timeout_ms",
       "expected an integer from 1 to 60000; got 0"},
      {"timeout 60001", [](auto& d) { d["timeout_ms"] = 60001; }, "timeout_ms",
       "expected an integer from 1 to 60000; got 60001"},
      {"timeout as a string", [](auto& d) { d["timeout_ms"] = "250"; }, "timeout_ms",
       "from 1 to 60000"},
      {"timeout with a fraction", [](auto& d) { d["timeout_ms"] = 2.5; }, "timeout_ms",
       "from 1 to 60000"},
      {"timeout as a boolean", [](auto& d) { d["timeout_ms"] = true; }, "timeout_ms",
       "from 1 to 60000"},
      {"limits not an object", [](auto& d) { d["limits"] = 512; }, "limits", "expected an object"},
      {"memory limit too small", [](auto& d) { d["limits"] = json(R"({"memory_mb": 16})"); },
       "limits.memory_mb", "expected an integer from 128 to 65536; got 16"},
      {"cpu limit as a string", [](auto& d) { d["limits"] = json(R"({"cpu_seconds": "60"})"); },
       "limits.cpu_seconds", "from 1 to 86400"},
      {"unknown limit", [](auto& d) { d["limits"] = json(R"({"threads": 4})"); }, "limits.threads",
       "unknown member"},
      {"misspelt member", [](auto& d) { d["timeout"] = 250; }, "timeout",
       "unknown member (did you mean \"timeout_ms\"?)"},
      {"unknown member far from any known one", [](auto& d) { d["colour"] = "blue"; }, "colour",
       "vendor extension whose name starts with \"x-\""},
      {"unknown member with spaces", [](auto& d) { d["a b"] = 1; }, "[\"a b\"]", "unknown member"},
  };
  for (const auto& mistake : mistakes) {
    Json::Value document = minimal_plugin();
    mistake.make(document);
    const auto result = check(document);
    INFO(mistake.what << ":\n" << describe("test.json", result.errors));
    CHECK_FALSE(result.manifest.has_value());
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].field == mistake.field);
    CHECK_THAT(result.errors[0].message, Catch::Contains(mistake.message_part));
  }
}

TEST_CASE("all mistakes in a manifest are reported at once", "[manifest]") {
  Json::Value document = minimal_plugin();
  document["id"] = "Example";
  document["hooks"]["admission"].append("time.approve");
  document["timeout_ms"] = 0;
  document.removeMember("sha256");
  const auto result = check(document);
  INFO(describe("test.json", result.errors));
  CHECK_FALSE(result.manifest.has_value());
  std::set<std::string> fields;
  for (const auto& error : result.errors) fields.insert(error.field);
  CHECK(fields == std::set<std::string>{"id", "hooks.admission[1]", "timeout_ms", "sha256"});
  CHECK(result.errors.size() == 4);
}

TEST_CASE("a document that is not an object is one error on field \"\"", "[manifest]") {
  for (const auto& document : {Json::Value(Json::arrayValue), Json::Value("x"), Json::Value()}) {
    const auto result = check(document);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].field.empty());
    CHECK_THAT(result.errors[0].message, Catch::StartsWith("expected a JSON object"));
  }
}

TEST_CASE("connectors may declare webhook and sync hooks", "[manifest]") {
  const auto result = check(minimal_connector());
  INFO(describe("test.json", result.errors));
  REQUIRE(result.manifest);
  CHECK(result.manifest->hooks.webhook);
  CHECK(result.manifest->hooks.sync == std::vector<std::string>{"invoice.issued"});
  CHECK(result.manifest->hooks.hook_names() ==
        std::vector<std::string>{"webhook.map", "sync.push"});
  REQUIRE(result.manifest->inbound);
  CHECK(result.manifest->inbound->signature == "hmac-sha256");
  CHECK(result.manifest->inbound->header == "x-books-signature");
}

TEST_CASE("hook_names lists the hook each declaration needs the library to handle", "[manifest]") {
  Hooks hooks;
  CHECK(hooks.hook_names().empty());
  hooks.admission = {"time_entry.approve", "invoice.issue"};
  hooks.events = {"*"};
  hooks.commands = {"resync", "import-clients"};
  hooks.numbering = true;
  hooks.webhook = true;
  hooks.sync = {"invoice.issued"};
  CHECK(hooks.hook_names() == std::vector<std::string>{"admission.review", "event.handle",
                                                       "command.resync", "command.import-clients",
                                                       "numbering.allocate", "webhook.map",
                                                       "sync.push"});

  Hooks events_only;
  events_only.events = {"billing_info.updated"};
  CHECK(events_only.hook_names() == std::vector<std::string>{"event.handle"});
}

TEST_CASE("members starting with x- are vendor extensions and are ignored", "[manifest]") {
  Json::Value document = minimal_plugin();
  document["x-build"] = json(R"({"pipeline": 7})");
  document["x-"] = Json::Value();
  const auto result = check(document);
  INFO(describe("test.json", result.errors));
  CHECK(result.errors.empty());
  CHECK(result.manifest.has_value());

  // Only at the top level: inside hooks a misspelling is still a misspelling.
  document["hooks"]["x-extra"] = true;
  const auto nested = check(document);
  REQUIRE(nested.errors.size() == 1);
  CHECK(nested.errors[0].field == "hooks.x-extra");
}

TEST_CASE("name length counts characters - not UTF-8 bytes", "[manifest]") {
  Json::Value document = minimal_plugin();
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xc3\xa4";  // 200 x U+00E4, 400 bytes
  document["name"] = name;
  CHECK(check(document).errors.empty());
  document["name"] = name + "\xc3\xa4";
  const auto result = check(document);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].field == "name");
}

TEST_CASE("config defaults may leave required settings to the partner but must fit the schema",
          "[manifest]") {
  const auto valid =
      load_manifest(kFixtures / "valid" / "config-defaults-omit-required-setting.json");
  INFO(describe("config-defaults-omit-required-setting.json", valid.errors));
  CHECK(valid.errors.empty());

  // What the JSON Schema cannot say, so these fixtures are only checked here.
  const std::map<std::string, std::string> expected = {
      {"config-defaults-array-item-wrong-type", "config.defaults.codes[1]"},
      {"config-defaults-below-minimum", "config.defaults.roundup"},
      {"config-defaults-not-in-enum", "config.defaults.mode"},
      {"config-defaults-unknown-setting", "config.defaults.colour"},
      {"config-defaults-wrong-type", "config.defaults.roundup"},
      {"config-property-default-does-not-fit", "config.schema.properties.gate_invoices.default"},
  };
  std::vector<std::string> listed;
  listed.reserve(expected.size());
  for (const auto& [stem, field] : expected) listed.push_back(stem);
  CHECK(fixture_stems("host-only") == listed);
  for (const auto& [stem, field] : expected) {
    const auto result = load_manifest(kFixtures / "host-only" / (stem + ".json"));
    INFO(stem << ":\n" << describe(stem + ".json", result.errors));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].field == field);
    CHECK_FALSE(result.manifest.has_value());
  }
}

TEST_CASE("check_config checks a configuration against a config schema", "[manifest]") {
  const Json::Value schema = json(R"({
    "type": "object",
    "properties": {
      "roundup": {"type": "integer", "minimum": 1, "maximum": 60},
      "delivery": {"type": "string", "enum": ["email", "mail"]},
      "gate_invoices": {"type": "boolean"},
      "codes": {"type": "array", "items": {"type": "string"}},
      "mapping": {"type": "object"}
    },
    "required": ["roundup"],
    "additionalProperties": false
  })");
  const auto fields = [&](const std::string& config) {
    return fields_of(check_config(schema, json(config)));
  };

  SECTION("a configuration that fits has no errors") {
    CHECK(fields(R"({"roundup": 15, "delivery": "mail", "gate_invoices": false,
                     "codes": ["A", "B"], "mapping": {"x": 1}})")
              .empty());
    CHECK(fields(R"({"roundup": 15.0})").empty());  // JSON Schema: 15.0 is an integer
  }
  SECTION("each bad setting is named under config") {
    CHECK(fields(R"({"roundup": "15"})") == "[config.roundup] ");
    CHECK(fields(R"({"roundup": 7.5})") == "[config.roundup] ");
    CHECK(fields(R"({"roundup": 0})") == "[config.roundup] ");
    CHECK(fields(R"({"roundup": 61})") == "[config.roundup] ");
    CHECK(fields(R"({"roundup": 15, "delivery": "fax"})") == "[config.delivery] ");
    CHECK(fields(R"({"roundup": 15, "gate_invoices": 1})") == "[config.gate_invoices] ");
    CHECK(fields(R"({"roundup": 15, "codes": ["A", 2, "C", null]})") ==
          "[config.codes[1]] [config.codes[3]] ");
    CHECK(fields(R"({"roundup": 15, "mapping": []})") == "[config.mapping] ");
    CHECK(fields(R"({"roundup": 15, "colour": "blue"})") == "[config.colour] ");
  }
  SECTION("a missing required setting is named") {
    const auto errors = check_config(schema, json(R"({"delivery": "email"})"));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "config.roundup");
    CHECK(errors[0].message == "required setting is missing");
  }
  SECTION("all errors are collected") {
    CHECK(fields(R"({"roundup": 0, "delivery": "fax", "colour": 1})") ==
          "[config.colour] [config.delivery] [config.roundup] ");
  }
  SECTION("messages say what was expected") {
    const auto errors = check_config(schema, json(R"({"roundup": 0, "delivery": "fax"})"));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].message == "expected one of \"email\", \"mail\"; got \"fax\"");
    CHECK(errors[1].message == "expected an integer >= 1; got 0");
  }
  SECTION("the configuration must be an object") {
    const auto errors = check_config(schema, json("[]"));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "config");
  }
  SECTION("the path prefix is the caller's") {
    const auto errors = check_config(schema, json(R"({"roundup": 0})"), "plugins.billing-gate");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "plugins.billing-gate.roundup");
  }
  SECTION("settings not described are allowed unless additionalProperties is false") {
    Json::Value open = schema;
    open.removeMember("additionalProperties");
    CHECK(check_config(open, json(R"({"roundup": 5, "colour": "blue"})")).empty());
    CHECK(check_config(Json::Value(Json::objectValue), json(R"({"anything": 1})")).empty());
  }
}

TEST_CASE("load_manifest reports unreadable - oversized and malformed files on field \"\"",
          "[manifest]") {
  psahost::test::TempDir dir;
  const auto only_error = [](const ManifestResult& result) {
    INFO(describe("file", result.errors));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].field.empty());
    CHECK_FALSE(result.manifest.has_value());
    return result.errors[0].message;
  };

  SECTION("a missing file names the file and the OS error") {
    const auto missing = dir.path() / "missing.json";
    const auto message = only_error(load_manifest(missing));
    CHECK_THAT(message, Catch::Contains(missing.string()));
    CHECK_THAT(message, Catch::Contains("No such file or directory"));
  }
  SECTION("a directory names the OS error") {
    CHECK_THAT(only_error(load_manifest(dir.path())), Catch::Contains("Is a directory"));
  }
  SECTION("malformed JSON carries jsoncpp's message with line and column") {
    write_file(dir.path() / "m.json", "{\n  \"id\": \"x\"\n  \"name\": \"y\"\n}\n");
    const auto message = only_error(load_manifest(dir.path() / "m.json"));
    CHECK_THAT(message, Catch::StartsWith("invalid JSON: Line 3, Column 3"));
    CHECK_THAT(message, Catch::Contains("Missing ',' or '}'"));
    CHECK(message.find('\n') == std::string::npos);
  }
  SECTION("duplicate keys are refused, not silently resolved") {
    write_file(dir.path() / "d.json", R"({"id": "a", "id": "b"})");
    CHECK_THAT(only_error(load_manifest(dir.path() / "d.json")),
               Catch::Contains("Duplicate key: 'id'"));
  }
  SECTION("comments, trailing commas and trailing content are refused") {
    for (const std::string text : {"{} // c", "/* c */ {}", R"({"id": "a",})", "{} {}"}) {
      write_file(dir.path() / "c.json", text);
      INFO(text);
      CHECK_THAT(only_error(load_manifest(dir.path() / "c.json")),
                 Catch::StartsWith("invalid JSON: Line"));
    }
  }
  SECTION("bytes that are not UTF-8 are refused") {
    write_file(dir.path() / "u.json", "{\"name\": \"Caf\xe9\"}");
    CHECK_THAT(only_error(load_manifest(dir.path() / "u.json")),
               Catch::Contains("not UTF-8 (byte offset 13)"));
    write_file(dir.path() / "s.json", "{\"name\": \"\xed\xa0\x80\"}");  // an encoded surrogate
    CHECK_THAT(only_error(load_manifest(dir.path() / "s.json")), Catch::Contains("not UTF-8"));
  }
  SECTION("nesting deeper than jsoncpp's limit is an error, not an exception") {
    write_file(dir.path() / "n.json", std::string(5000, '[') + std::string(5000, ']'));
    CHECK_THAT(only_error(load_manifest(dir.path() / "n.json")), Catch::StartsWith("invalid JSON"));
  }
  SECTION("a file over 256 KiB is refused before parsing") {
    std::string text = R"({"x-padding": ")";
    text += std::string(kManifestLimit, 'p');
    text += "\"}";
    write_file(dir.path() / "big.json", text);
    CHECK_THAT(only_error(load_manifest(dir.path() / "big.json")), Catch::Contains("256 KiB"));
  }
  SECTION("a file of exactly 256 KiB is read") {
    Json::Value document = minimal_plugin();
    std::string text = document.toStyledString();
    text.insert(1, "\"x-padding\": \"\",");
    text.insert(text.find("\"\",") + 1, std::string(kManifestLimit - text.size(), 'p'));
    REQUIRE(text.size() == kManifestLimit);
    write_file(dir.path() / "edge.json", text);
    const auto result = load_manifest(dir.path() / "edge.json");
    INFO(describe("edge.json", result.errors));
    CHECK(result.errors.empty());
  }
}

TEST_CASE("describe renders one line per error - naming the file and the field", "[manifest]") {
  const std::vector<ManifestError> errors = {
      {"", "invalid JSON: Line 1, Column 2: oops"},
      {"hooks.admission[1]", "expected one of x; got \"y\""}};
  CHECK(describe("/etc/psahost/plugins/a.json", errors) ==
        "/etc/psahost/plugins/a.json: invalid JSON: Line 1, Column 2: oops\n"
        "/etc/psahost/plugins/a.json: hooks.admission[1]: expected one of x; got \"y\"\n");
  CHECK(describe("a.json", {}).empty());
}

TEST_CASE("the billing-gate manifest template is valid once the build stamps library and sha256",
          "[manifest]") {
  const fs::path template_path = fs::path(PSAHOST_SOURCE_DIR) / "manifests" / "billing-gate.json";
  const auto unstamped = load_manifest(template_path);
  std::set<std::string> missing;
  for (const auto& error : unstamped.errors) missing.insert(error.field);
  INFO(describe(template_path, unstamped.errors));
  CHECK(missing == std::set<std::string>{"library", "sha256"});

  std::ifstream in(template_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json::Value document = json(text);
  document["library"] = "billing-gate.so";
  document["sha256"] = std::string(64, '0');
  const auto result = check(document);
  INFO(describe(template_path, result.errors));
  REQUIRE(result.manifest);
  const auto& m = *result.manifest;
  CHECK(m.id == "billing-gate");
  CHECK(m.kind == "plugin");
  CHECK(m.sdk_major == 1);
  CHECK(m.sdk_minor == 0);
  CHECK(m.hooks.hook_names() == std::vector<std::string>{"admission.review", "event.handle"});
  CHECK(m.hooks.admission.size() == 5);
  CHECK(m.failure_policy == "fail_closed");
  CHECK(m.timeout_ms == 250);
  CHECK(m.config_defaults == json(R"({"gate_invoices": true})"));
  CHECK(m.has_permission("billing_info:read"));
  CHECK_FALSE(m.has_permission("billing_info:write"));
}
