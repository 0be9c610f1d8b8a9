#include "cli/options.hpp"

#include "app/app.hpp"
#include "plugins/installer.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>

namespace psahost::cli {
namespace fs = std::filesystem;

po::options_description common_options() {
  po::options_description d("Common options");
  d.add_options()("help,h", "show this help")(
      "data-dir", po::value<std::string>()->default_value("var"),
      "data directory: database, TLS certificate, plugin cache")(
      "config", po::value<std::string>(), "config file of `option = value` lines")(
      "log-level", po::value<std::string>()->default_value("info"), "debug, info, warn or error")(
      "secret-key-file", po::value<std::string>(),
      "key sealing connection and endpoint secrets at rest (default DATA_DIR/secret.key, "
      "created on first use)")(
      "allow-outbound-network", po::value<std::string>()->default_value(""),
      "address ranges (CIDR, comma-separated) that outbound HTTPS and registered URLs may "
      "reach besides public addresses, e.g. 10.20.0.0/16 (loopback, private, link-local, "
      "CGNAT, ULA and multicast are refused otherwise)");
  return d;
}

// Parses argv, then PSAHOST_* variables, then the config file, into vm (first one wins).
po::variables_map parse(const std::string& command, const po::options_description& options,
                        const std::vector<std::string>& args,
                        const po::positional_options_description* positional) {
  po::variables_map vm;
  try {
    auto parser = po::command_line_parser(args).options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    po::store(po::parse_environment(options,
                                    [&options](const std::string& name) -> std::string {
                                      if (name.rfind("PSAHOST_", 0) != 0) return "";
                                      std::string key = name.substr(8);
                                      for (char& c : key) {
                                        c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
                                      }
                                      return options.find_nothrow(key, false) ? key : "";
                                    }),
              vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) return vm;
  std::optional<fs::path> config;
  if (vm.count("config")) {
    config = vm["config"].as<std::string>();
    if (!fs::exists(*config)) throw UsageError("--config: no file at " + config->string());
  } else if (vm.count("data-dir")) {
    const fs::path implicit = fs::path(vm["data-dir"].as<std::string>()) / "psahost.conf";
    if (fs::exists(implicit)) config = implicit;
  }
  if (config) {
    std::ifstream in(*config);
    if (!in) throw UsageError("cannot read config file " + config->string());
    try {
      // Only serve reads every key; the other commands share the file and take what is theirs.
      const bool serve = command == "serve";
      const auto parsed = po::parse_config_file(in, options, !serve);
      if (!serve) {
        po::options_description host = common_options();
        host.add(serve_options());
        host.add(trust_options());
        for (const auto& option : parsed.options) {
          if (option.unregistered && !host.find_nothrow(option.string_key, false)) {
            throw UsageError("config file " + config->string() + ": unrecognised option '" +
                             option.string_key + "'");
          }
        }
      }
      po::store(parsed, vm);
    } catch (const po::error& e) {
      throw UsageError("config file " + config->string() + ": " + e.what());
    }
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return vm;
}

LogLevel log_level(const po::variables_map& vm) {
  const auto level = Logger::parse_level(vm["log-level"].as<std::string>());
  if (!level) throw UsageError("--log-level: expected debug, info, warn or error");
  return *level;
}

std::pair<std::string, uint16_t> parse_listen(const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    throw UsageError("--listen: expected HOST:PORT (e.g. 127.0.0.1:8443), got '" + value + "'");
  }
  std::string host = value.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = value.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) {
    throw UsageError("--listen: the port must be a number from 0 to 65535, got '" + port_text +
                     "'");
  }
  return {host, static_cast<uint16_t>(port)};
}

void print_help(const std::string& usage, const po::options_description& options) {
  static const std::set<std::string> kPositional = {"action", "id", "manifest", "command"};
  po::options_description shown("Options");
  for (const auto& option : options.options()) {
    if (!kPositional.contains(option->long_name())) shown.add(option);
  }
  std::cout << usage << "\n\n" << shown << "\n";
}

std::unique_ptr<store::Store> open_store(const po::variables_map& vm, Logger& log, DataDirUse use) {
  const app::DataDir dir{vm["data-dir"].as<std::string>()};
  if (use == DataDirUse::existing) {
    std::error_code ec;
    if (!fs::is_regular_file(dir.database(), ec)) {
      throw UsageError("--data-dir: no psahost database in " + dir.root.string() +
                       " (start `psahost serve --data-dir " + dir.root.string() +
                       "` once, or check the path)");
    }
  } else {
    dir.prepare();
  }
  return store::Store::open_sqlite({dir.database()}, log);
}

ScratchDir::ScratchDir() {
  std::string pattern = (fs::temp_directory_path() / "psahost-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a scratch folder in " +
                             fs::temp_directory_path().string());
  }
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> parse_plugin_ids(const std::string& option, const std::string& value) {
  std::vector<std::string> ids;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t end = std::min(value.find(',', start), value.size());
    const std::string id = value.substr(start, end - start);
    const bool valid = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!valid) {
      throw UsageError(option + ": expected all, or plugin ids separated by commas; got '" + value +
                       "'");
    }
    ids.push_back(id);
    start = end + 1;
  }
  return ids;
}

po::options_description trust_options() {
  po::options_description d("Plugin trust options");
  d.add_options()("trusted-keys", po::value<std::vector<std::string>>()->composing(),
                  "folder of publishers' Ed25519 public keys (*.pub, *.pem) whose signatures "
                  "are trusted (repeatable; default: the keys shipped with psahost, which "
                  "signed the bundled plugins)")(
      "allow-unsigned-plugins", po::value<std::string>(),
      "let these unsigned plugins load, always in a child process: ids separated by commas, or "
      "all (a bad or unknown signature is refused whatever this says)");
  return d;
}

plugins::TrustPolicy trust_policy(const po::variables_map& vm) {
  plugins::TrustPolicy policy;
  try {
    if (vm.count("trusted-keys")) {
      for (const auto& d : vm["trusted-keys"].as<std::vector<std::string>>()) {
        policy.add_keys_from(d);
      }
    } else {
      policy = plugins::default_trust_policy();
    }
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    throw UsageError(what.starts_with("--trusted-keys") ? what : "--trusted-keys: " + what);
  }
  if (vm.count("allow-unsigned-plugins")) {
    policy.allow_unsigned = parse_plugin_ids("--allow-unsigned-plugins",
                                             vm["allow-unsigned-plugins"].as<std::string>());
  }
  return policy;
}

crypto::SecretBox open_secret_box(const po::variables_map& vm) {
  const app::DataDir dir{vm["data-dir"].as<std::string>()};
  return crypto::SecretBox::from_key_file(
      vm.count("secret-key-file") ? std::filesystem::path(vm["secret-key-file"].as<std::string>())
                                  : dir.secret_key());
}

std::vector<fs::path> manifest_files(const po::variables_map& vm) {
  auto manifests = plugin_dir_manifests(vm);
  const app::DataDir dir{vm["data-dir"].as<std::string>()};
  for (auto& m : plugins::installed_manifests(dir.installed_plugins())) {
    manifests.push_back(std::move(m));
  }
  return manifests;
}

std::vector<fs::path> plugin_dir_manifests(const po::variables_map& vm) {
  std::vector<fs::path> dirs;
  if (vm.count("plugins-dir")) {
    for (const auto& d : vm["plugins-dir"].as<std::vector<std::string>>()) dirs.emplace_back(d);
  } else {
    dirs.push_back(app::bundled_plugin_dir());
  }
  std::vector<fs::path> manifests;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) throw UsageError("--plugins-dir: no folder at " + d.string());
    for (const auto& e : fs::directory_iterator(d)) {
      if (e.path().extension() == ".json") manifests.push_back(e.path());
    }
  }
  std::sort(manifests.begin(), manifests.end());
  return manifests;
}

std::shared_ptr<const net::AddressPolicy> outbound_policy(const po::variables_map& vm) {
  try {
    return std::make_shared<const net::AddressPolicy>(
        net::AddressPolicy::parse_allowed(vm["allow-outbound-network"].as<std::string>()));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace psahost::cli
