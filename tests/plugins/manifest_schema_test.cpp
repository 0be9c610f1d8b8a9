// The host's manifest checks and manifests/manifest.schema.json, which publishers' tools use, must
// accept and refuse the same manifests. Debian has no C++ JSON Schema validator, so the schema's
// verdict comes from Python's jsonschema (Debian package python3-jsonschema), run once over all
// files.
#include <sys/wait.h>

#include <json/reader.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "plugins/manifest.hpp"
#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
using psahost::plugins::describe;
using psahost::plugins::load_manifest;

// Debian's interpreter, which python3-jsonschema installs into; a `python3` found on PATH may be
// a pyenv one without it.
constexpr const char* kPython = "/usr/bin/python3";

// argv: schema, then manifest files. Prints "VERDICTS " and a JSON object
// {file: ["valid"|"invalid", reason]}. Files are read the way the host reads them: strict UTF-8,
// no duplicate keys, no NaN; a file that is not a JSON document is invalid.
constexpr const char* kSchemaVerdicts = R"py(
import json, re, sys
import jsonschema
from jsonschema import Draft202012Validator, validators

def ecma_pattern(validator, pattern, instance, schema):
    # JSON Schema patterns are ECMA-262, where "$" is only the end of the string; Python's "$"
    # also matches before a final newline and would accept "billing-gate\n" as an id.
    if validator.is_type(instance, "string"):
        if not re.search(re.sub(r"(?<!\\)\$", r"\\Z", pattern), instance):
            yield jsonschema.ValidationError("%r does not match %r" % (instance, pattern))

def unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)

def no_constants(name):
    raise ValueError(name + " is not JSON")

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
validator = validators.extend(Draft202012Validator, {"pattern": ecma_pattern})(schema)
verdicts = {}
for path in sys.argv[2:]:
    try:
        with open(path, "rb") as f:
            document = json.loads(f.read().decode("utf-8"), object_pairs_hook=unique_keys,
                                  parse_constant=no_constants)
    except Exception as e:
        verdicts[path] = ["invalid", "not a JSON document: " + str(e)]
        continue
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        verdicts[path] = ["valid", ""]
    else:
        where = "/".join(str(part) for part in error.absolute_path)
        verdicts[path] = ["invalid", where + ": " + error.message]
print("VERDICTS " + json.dumps(verdicts))
)py";

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandResult run_command(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) {
    result.output.append(buffer, n);
  }
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::vector<fs::path> json_files(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code ignored;
  if (!fs::is_directory(folder, ignored)) return files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The manifest templates under manifests/ with "library" and "sha256" filled in as the build
// does, so that a template is checked even when its plugin has not been built.
std::vector<fs::path> stamp_templates(const fs::path& into) {
  std::vector<fs::path> stamped;
  for (const auto& path : json_files(fs::path(PSAHOST_SOURCE_DIR) / "manifests")) {
    if (path.filename() == "manifest.schema.json") continue;
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Json::CharReaderBuilder builder;
    const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value document;
    std::string errors;
    INFO(path.string());
    REQUIRE(reader->parse(text.data(), text.data() + text.size(), &document, &errors));
    REQUIRE(document.isObject());
    document["library"] = path.stem().string() + ".so";
    document["sha256"] = std::string(64, '0');
    const fs::path out_path = into / path.filename();
    std::ofstream(out_path) << document.toStyledString();
    stamped.push_back(out_path);
  }
  return stamped;
}

enum class Expect { agreement_only, valid, invalid };

struct Case {
  fs::path file;
  Expect expect;
};

}  // namespace

TEST_CASE("the host's manifest checks and manifests/manifest.schema.json agree on every manifest",
          "[manifest]") {
  const auto probe =
      run_command(shell_quote(kPython) + " -c 'from jsonschema import Draft202012Validator'");
  if (probe.exit_code != 0) {
    FAIL(kPython << " cannot import jsonschema's Draft202012Validator, which this test needs to "
                    "check manifests/manifest.schema.json: apt-get install python3-jsonschema\n"
                 << probe.output);
  }

  const fs::path fixtures = fs::path(PSAHOST_TEST_DATA) / "plugins" / "manifests";
  psahost::test::TempDir stamped_dir;
  std::vector<Case> cases;
  // Bundled plugins' stamped manifests; absent in a partial build, then there is nothing to check.
  for (const auto& file : json_files(PSAHOST_PLUGIN_DIR))
    cases.push_back({file, Expect::agreement_only});
  for (const auto& file : stamp_templates(stamped_dir.path()))
    cases.push_back({file, Expect::valid});
  const auto valid = json_files(fixtures / "valid");
  const auto broken = json_files(fixtures / "broken");
  REQUIRE(valid.size() >= 10);
  REQUIRE(broken.size() >= 22);
  for (const auto& file : valid) cases.push_back({file, Expect::valid});
  for (const auto& file : broken) cases.push_back({file, Expect::invalid});

  std::string command =
      shell_quote(kPython) + " -c " + shell_quote(kSchemaVerdicts) + " " +
      shell_quote((fs::path(PSAHOST_SOURCE_DIR) / "manifests" / "manifest.schema.json").string());
  for (const auto& c : cases) command += " " + shell_quote(c.file.string());
  Json::Value verdicts;
  {
    const auto run = run_command(command);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    const auto marker = run.output.rfind("VERDICTS ");
    REQUIRE(marker != std::string::npos);
    const std::string json_text = run.output.substr(marker + 9);
    Json::CharReaderBuilder builder;
    const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    std::string parse_errors;
    REQUIRE(reader->parse(json_text.data(), json_text.data() + json_text.size(), &verdicts,
                          &parse_errors));
  }

  for (const auto& c : cases) {
    const auto host = load_manifest(c.file);
    const Json::Value& verdict = verdicts[c.file.string()];
    INFO(c.file.string() << "\nhost:\n"
                         << (host.errors.empty() ? "valid\n" : describe(c.file, host.errors))
                         << "schema: " << verdict[0].asString() << " " << verdict[1].asString());
    REQUIRE(verdict.isArray());
    const bool host_valid = host.errors.empty();
    const bool schema_valid = verdict[0].asString() == "valid";
    CHECK(host_valid == schema_valid);
    if (c.expect == Expect::valid) CHECK(host_valid);
    if (c.expect == Expect::invalid) CHECK_FALSE(host_valid);
  }
}
