#include "support/webhooks.hpp"

#include "core/crypto.hpp"
#include "support/process.hpp"
#include "webhooks/signature.hpp"

#include <json/reader.h>
#include <json/writer.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

namespace psahost::test {
namespace {

std::string npm_package() {
  return std::string(PSAHOST_BINARY_DIR) + "/npm/node_modules/standardwebhooks";
}

// Runs a script with node; argv after the script are its arguments.
CliResult node(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> all{"-e", script, "--"};
  all.insert(all.end(), args.begin(), args.end());
  return run_program("node", all);
}

}  // namespace

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json::Value json_of(const std::string& text) {
  Json::Value v;
  Json::CharReaderBuilder builder;
  std::string errors;
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  if (!reader->parse(text.data(), text.data() + text.size(), &v, &errors)) {
    throw std::runtime_error("not JSON: " + errors);
  }
  return v;
}

std::map<std::string, std::string> standard_webhook_headers(const std::string& secret,
                                                            const std::string& id,
                                                            int64_t timestamp,
                                                            const std::string& body) {
  const std::string ts = std::to_string(timestamp);
  const auto key = webhooks::standard_webhooks_key(secret);
  if (!key) throw std::runtime_error("not a whsec_ secret");
  return {{"webhook-id", id},
          {"webhook-timestamp", ts},
          {"webhook-signature", webhooks::standard_webhooks_signature(*key, id, ts, body)},
          {"content-type", "application/json"}};
}

std::map<std::string, std::string> npm_signed_headers(const std::string& secret,
                                                      const std::string& id, int64_t timestamp,
                                                      const std::string& body) {
  const auto r = node(
      "const {Webhook} = require(process.argv[1]);"
      "const [secret, id, ts, body] = process.argv.slice(2);"
      "process.stdout.write(new Webhook(secret).sign(id, new Date(Number(ts) * 1000), body));",
      {npm_package(), secret, id, std::to_string(timestamp), body});
  if (r.exit_code != 0) throw std::runtime_error("npm standardwebhooks sign failed: " + r.err);
  return {{"webhook-id", id},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature", r.out},
          {"content-type", "application/json"}};
}

bool npm_verifies(const std::string& secret, const Received& request) {
  const auto r = node(
      "const {Webhook} = require(process.argv[1]);"
      "const [secret, id, ts, sig, body] = process.argv.slice(2);"
      "try { new Webhook(secret).verify(body, {'webhook-id': id, 'webhook-timestamp': ts,"
      " 'webhook-signature': sig}); process.stdout.write('ok'); }"
      "catch (e) { process.stdout.write('refused: ' + e.message); }",
      {npm_package(), secret, request.header("webhook-id"), request.header("webhook-timestamp"),
       request.header("webhook-signature"), request.body});
  if (r.exit_code != 0) throw std::runtime_error("npm standardwebhooks verify failed: " + r.err);
  return r.out == "ok";
}

void add_connection(const std::filesystem::path& data_dir, const std::string& connector,
                    const std::string& name, const std::string& secret,
                    const std::vector<std::string>& extra, const std::string& tenant) {
  std::vector<std::string> args{"connections", "add",  "--data-dir",  data_dir.string(),
                                "--tenant",    tenant, "--connector", connector,
                                "--name",      name};
  if (!secret.empty()) {
    args.push_back("--secret");
    args.push_back(secret);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_cli(args);
  if (r.exit_code != 0) {
    throw std::runtime_error("connections add failed (" + std::to_string(r.exit_code) +
                             "): " + r.err + r.out);
  }
}

std::vector<std::string> plugin_args(const std::filesystem::path& dir,
                                     const std::vector<std::string>& test_plugins) {
  std::vector<std::string> args{"--plugins-dir", PSAHOST_PLUGIN_DIR};
  if (!test_plugins.empty()) {
    const auto folder = dir / "test-plugins";
    for (const auto& id : test_plugins) copy_plugin(PSAHOST_TEST_PLUGIN_DIR, id, folder);
    args.push_back("--plugins-dir");
    args.push_back(folder.string());
  }
  return args;
}

}  // namespace psahost::test
