// psahost connections add|list: a tenant's configured instances of connectors. The secret is
// sealed before it reaches the database and never printed again.
#include "api/host_services.hpp"
#include "app/app.hpp"
#include "auth/tokens.hpp"
#include "catalog/catalog.hpp"
#include "cli/options.hpp"
#include "clients/clients.hpp"
#include "core/clock.hpp"
#include "delivery/connector_http.hpp"
#include "delivery/credentials.hpp"
#include "plugins/manifest.hpp"
#include "plugins/registry.hpp"
#include "store/json_column.hpp"
#include "webhooks/connections.hpp"

#include <json/reader.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace psahost::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "Usage: psahost connections add --tenant NAME --connector ID --name CONN\n"
    "                               (--secret SECRET | --secret-file FILE | --secret -)\n"
    "                               [--base-url URL] [--settings JSON]\n"
    "                               [--credentials JSON | --credentials-file FILE]\n"
    "       psahost connections list [--tenant NAME] [--json]\n"
    "       psahost connections test --name CONN [--tenant NAME] [--outbound-ca FILE]\n"
    "\n"
    "A connection is served at https://HOST:PORT/webhooks/CONN. Its secret is the one the\n"
    "external system signs with (a whsec_ secret for Standard Webhooks, the webhook key for\n"
    "Xero, the verifier token for QuickBooks, the secret key for Autotask; ConnectWise needs\n"
    "none but --base-url). --secret - reads it from standard input, which keeps it out of the\n"
    "process list and the shell history.";

std::string read_file(const std::string& option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--" + option + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

Json::Value parse_object(const std::string& option, const std::string& text) {
  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  Json::Value v;
  std::string errors;
  if (!reader->parse(text.data(), text.data() + text.size(), &v, &errors) || !v.isObject()) {
    throw UsageError("--" + option + ": expected a JSON object");
  }
  return v;
}

std::optional<plugins::Manifest> find_connector(const po::variables_map& vm, const std::string& id,
                                                std::vector<std::string>& known) {
  for (const auto& file : manifest_files(vm)) {
    const auto result = plugins::load_manifest(file);
    if (!result.manifest || result.manifest->kind != "connector") continue;
    known.push_back(result.manifest->id);
    if (result.manifest->id == id) return result.manifest;
  }
  return std::nullopt;
}

// The id of --tenant, which must exist.
std::string existing_tenant(store::Store& store, const po::variables_map& vm) {
  auth::Tokens tokens(store);
  const std::string name = vm["tenant"].as<std::string>();
  const auto tenant = tokens.find_tenant(name);
  if (!tenant) throw UsageError("--tenant: no tenant named '" + name + "'");
  return *tenant;
}

int add(const po::variables_map& vm) {
  for (const char* required : {"tenant", "connector", "name"}) {
    if (!vm.count(required) || vm[required].as<std::string>().empty()) {
      throw UsageError(std::string("--") + required + ": required");
    }
  }
  std::vector<std::string> known;
  const std::string connector_id = vm["connector"].as<std::string>();
  const auto connector = find_connector(vm, connector_id, known);
  if (!connector) {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw UsageError("--connector: no connector '" + connector_id + "' is installed" +
                     (list.empty() ? std::string() : "; installed: " + list));
  }
  if (vm.count("secret") + vm.count("secret-file") > 1) {
    throw UsageError("--secret: give the secret once (--secret or --secret-file)");
  }
  webhooks::NewConnection c;
  c.name = vm["name"].as<std::string>();
  c.connector = connector_id;
  if (vm.count("secret")) {
    c.secret = vm["secret"].as<std::string>();
    if (c.secret == "-") {
      std::getline(std::cin, c.secret);
      c.secret = trim_newline(c.secret);
    }
  } else if (vm.count("secret-file")) {
    c.secret = trim_newline(read_file("secret-file", vm["secret-file"].as<std::string>()));
  }
  if (vm.count("base-url")) c.base_url = vm["base-url"].as<std::string>();
  if (vm.count("settings")) c.settings = parse_object("settings", vm["settings"].as<std::string>());
  if (vm.count("credentials") && vm.count("credentials-file")) {
    throw UsageError("--credentials: give them once (--credentials or --credentials-file)");
  }
  if (vm.count("credentials")) {
    c.credentials = parse_object("credentials", vm["credentials"].as<std::string>());
  } else if (vm.count("credentials-file")) {
    c.credentials =
        parse_object("credentials-file",
                     read_file("credentials-file", vm["credentials-file"].as<std::string>()));
  }
  if (!c.credentials.isNull()) {
    if (const std::string problem = delivery::check_credentials(c.credentials); !problem.empty()) {
      throw UsageError("--credentials: " + problem);
    }
  }
  const bool needs_secret = connector->inbound && connector->inbound->signature != "connectwise";
  if (needs_secret && c.secret.empty()) {
    throw UsageError("--secret: required for " + connector_id + " (" +
                     connector->inbound->signature + " signatures)");
  }

  Logger log(LogLevel::error);
  auto store = open_store(vm, log, DataDirUse::create);
  auto box = open_secret_box(vm);
  auth::Tokens tokens(*store);
  c.tenant_id = tokens.ensure_tenant(vm["tenant"].as<std::string>());
  webhooks::Connections connections(*store, box);
  connections.set_address_policy(outbound_policy(vm));
  auto result = connections.add(c, *connector);
  if (auto* errors = std::get_if<std::vector<webhooks::ConnectionError>>(&result)) {
    const auto& first = errors->front();
    std::string message = "--" + first.field + ": " + first.message;
    for (std::size_t i = 1; i < errors->size(); ++i) {
      message += "\n  --" + (*errors)[i].field + ": " + (*errors)[i].message;
    }
    throw UsageError(message);
  }
  const auto& added = std::get<webhooks::Connection>(result);
  std::printf("created connection %s (%s) for tenant %s\n  inbound webhooks: POST /webhooks/%s\n",
              added.name.c_str(), added.connector.c_str(), vm["tenant"].as<std::string>().c_str(),
              added.name.c_str());
  return 0;
}

// Asks the connector to reach its system with the connection's settings and credentials
// (command.test), as the host would: through http.request, with --outbound-ca trusted.
int test(const po::variables_map& vm) {
  if (!vm.count("name")) throw UsageError("test needs --name CONN (see psahost connections list)");
  if (vm.count("outbound-ca") && !fs::exists(vm["outbound-ca"].as<std::string>())) {
    throw UsageError("--outbound-ca: no file at " + vm["outbound-ca"].as<std::string>());
  }
  Logger log(log_level(vm));
  auto store = open_store(vm, log);
  auto box = open_secret_box(vm);
  const std::string tenant = existing_tenant(*store, vm);
  webhooks::Connections connections(*store, box);
  connections.set_address_policy(outbound_policy(vm));
  std::optional<webhooks::Connection> connection;
  for (auto& c : connections.list(tenant)) {
    if (c.name == vm["name"].as<std::string>()) connection = c;
  }
  if (!connection) {
    throw UsageError("--name: tenant " + vm["tenant"].as<std::string>() +
                     " has no connection named '" + vm["name"].as<std::string>() + "'");
  }
  net::ClientOptions client_options;
  if (vm.count("outbound-ca")) client_options.extra_ca_file = vm["outbound-ca"].as<std::string>();
  client_options.max_response_body = std::size_t{4} * 1024 * 1024;
  client_options.address_policy = outbound_policy(vm);
  net::HttpsClient client(client_options, &log);
  delivery::ConnectionAuth auth(connections, client, log);
  plugins::HostCalls calls;
  api::register_all_host_calls(calls, *store);
  const app::DataDir dir{vm["data-dir"].as<std::string>()};
  plugins::RegistryOptions registry_options{dir.plugin_cache(), false, {}};
  registry_options.trust = trust_policy(vm);
  plugins::PluginRegistry registry(registry_options,
                                   plugins::PluginEnv{calls, store.get(), log, nullptr});
  delivery::register_connector_http(calls, connections, registry, client, auth, log);
  for (const auto& manifest : manifest_files(vm)) {
    const auto parsed = plugins::load_manifest(manifest);
    if (parsed.manifest && parsed.manifest->id == connection->connector) registry.load(manifest);
  }
  const auto plugin = registry.find(connection->connector);
  if (!plugin) {
    std::cerr << "psahost connections: connector " << connection->connector
              << " could not be loaded\n";
    for (const auto& p : registry.list()) {
      if (!p.last_error.empty()) std::cerr << "psahost connections: " << p.last_error << "\n";
    }
    return 1;
  }
  const auto& commands = plugin->manifest().hooks.commands;
  if (std::find(commands.begin(), commands.end(), "test") == commands.end()) {
    std::cerr << "psahost connections: connector " << connection->connector
              << " has no test command\n";
    return 1;
  }
  Json::Value request;
  request["tenant_id"] = tenant;
  request["connection"] = webhooks::connection_json(*connection);
  const auto answer = plugin->call("command.test", request);
  client.shutdown();
  if (!answer.ok() || !answer.body["ok"].asBool()) {
    std::printf(
        "FAILED  %s: %s\n", connection->name.c_str(),
        answer.ok() ? answer.body["detail"].asString().c_str() : answer.error_message().c_str());
    return 1;
  }
  std::printf("ok      %s: %s\n", connection->name.c_str(),
              answer.body["detail"].asString().c_str());
  return 0;
}

int list(const po::variables_map& vm) {
  Logger log(LogLevel::error);
  auto store = open_store(vm, log);
  auto box = open_secret_box(vm);
  const std::string tenant = existing_tenant(*store, vm);
  webhooks::Connections connections(*store, box);
  const auto all = connections.list(tenant);
  if (vm["json"].as<bool>()) {
    Json::Value items(Json::arrayValue);
    for (const auto& c : all) items.append(webhooks::connection_json(c));
    std::cout << items.toStyledString();
    return 0;
  }
  std::printf("%-24s %-20s %-9s %-7s %s\n", "NAME", "CONNECTOR", "STATUS", "SECRET", "BASE URL");
  for (const auto& c : all) {
    std::printf("%-24s %-20s %-9s %-7s %s\n", c.name.c_str(), c.connector.c_str(), c.status.c_str(),
                c.has_secret ? "sealed" : "none", c.base_url.empty() ? "-" : c.base_url.c_str());
  }
  return 0;
}

}  // namespace

int cmd_connections(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add_options()("action", po::value<std::string>(), "add | list | test")(
      "tenant", po::value<std::string>()->default_value("default"), "tenant name")(
      "connector", po::value<std::string>(), "connector id (add)")(
      "name", po::value<std::string>(), "connection name, the last part of its URL (add)")(
      "secret", po::value<std::string>(), "webhook secret, or - to read it from stdin (add)")(
      "secret-file", po::value<std::string>(), "file holding the webhook secret (add)")(
      "base-url", po::value<std::string>(), "the external system's https base URL (add)")(
      "settings", po::value<std::string>(), "JSON object handed to the connector (add)")(
      "credentials", po::value<std::string>(), "JSON object of API credentials, sealed (add)")(
      "credentials-file", po::value<std::string>(), "file holding the credentials JSON (add)")(
      "outbound-ca", po::value<std::string>(),
      "CA bundle trusted, besides the system's, for the connector's HTTPS (test)")(
      "plugins-dir", po::value<std::vector<std::string>>()->composing(),
      "folder of connector manifests (default: the bundled ones)")("json", po::bool_switch(),
                                                                   "print JSON (list)");
  options.add(trust_options());
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse("connections", options, args, &positional);
  if (vm.count("help") || !vm.count("action")) {
    print_help(kUsage, options);
    return vm.count("help") ? 0 : 2;
  }
  const std::string action = vm["action"].as<std::string>();
  if (action == "add") return add(vm);
  if (action == "list") return list(vm);
  if (action == "test") return test(vm);
  throw UsageError("unknown action '" + action + "': expected add, list or test");
}

}  // namespace psahost::cli
