#include "cli/commands.hpp"

#include "cli/options.hpp"

#include "app/app.hpp"
#include "audit/audit_log.hpp"
#include "auth/tokens.hpp"
#include "cli/plugin_runner.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "delivery/outbox.hpp"
#include "plugins/bundle.hpp"
#include "plugins/installer.hpp"
#include "plugins/registry.hpp"
#include "plugins/remote_secret.hpp"
#include "plugins/signing.hpp"
#include "store/store.hpp"

#include <json/writer.h>
#include <psa/plugin_api.h>
#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace psahost::cli {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* kOverview =
    "psahost — the billing-automation extension host for PSA/RMM platforms\n"
    "\n"
    "Usage: psahost <command> [options]\n"
    "\n"
    "Commands:\n"
    "  serve              run the HTTPS API with the bundled plugins (default data dir ./var)\n"
    "  plugins list       list plugins and whether they load\n"
    "  plugins verify     check manifests, signatures and libraries without serving\n"
    "  plugins keygen|sign  make a publisher key pair; sign manifests with it\n"
    "  plugins enable|disable ID   the operator's host-wide switch (applies at the next start)\n"
    "  plugins install PATH  verify a plugin bundle (folder or .tar.gz), then install it\n"
    "  plugins uninstall ID  remove an installed plugin\n"
    "  plugins secret ID  issue (once; --rotate: replace) a remote plugin's signing secret\n"
    "  tokens create      create an API token (prints it alone on stdout)\n"
    "  tokens list        list API tokens (never their secrets)\n"
    "  tokens revoke ID   revoke an API token\n"
    "  onboarding status  clients missing billing info or contracts; numbering verified?\n"
    "  contracts bootstrap  draft contracts for clients with services and none (--all)\n"
    "  numbering show     invoice numbering settings, the accounting system's last number\n"
    "  numbering set      change prefix, pattern, next number or reset (needs a new verify)\n"
    "  numbering verify   verify the numbering settings (before the first billing run)\n"
    "  billing run        bill a period: --period YYYY-MM [--dry-run] [--tenant NAME]\n"
    "  connections add    connect a PSA or accounting system (served at /webhooks/NAME)\n"
    "  connections list   list a tenant's connections (never their secrets)\n"
    "  connections test   check a connection reaches its system with its credentials\n"
    "  demo seed          load a sample partner with existing clients to try things on\n"
    "  version            print the version (also --version, -V)\n"
    "\n"
    "Exit codes: 0 done, 1 failed (the reason on stderr), 2 usage error (the option named).\n"
    "Progress goes to stderr; data to stdout (--json where a command prints data).\n"
    "\n"
    "Every command takes --help. Options can also come from PSAHOST_<OPTION> variables\n"
    "(PSAHOST_DATA_DIR, PSAHOST_LISTEN, ...) and from a config file of `option = value` lines\n"
    "(--config FILE, or DATA_DIR/psahost.conf when present); the command line wins, then the\n"
    "environment, then the file.\n";

}  // namespace

po::options_description serve_options() {
  po::options_description serve("Serve options");
  serve.add_options()("listen", po::value<std::string>()->default_value("127.0.0.1:8443"),
                      "address to listen on, HOST:PORT (port 0 picks a free one)")(
      "plugins-dir", po::value<std::vector<std::string>>()->composing(),
      "folder of plugin manifests to load (repeatable; default: the bundled plugins)")(
      "strict", po::bool_switch(),
      "stop if any plugin fails to load or is refused (otherwise the host serves without it)")(
      "isolate-plugins", po::value<std::string>(),
      "run these plugins in a child process whatever their manifest says: all, or ids "
      "separated by commas")("threads", po::value<unsigned>()->default_value(0),
                             "I/O threads (0 = one per core)")(
      "body-limit", po::value<std::size_t>()->default_value(1024 * 1024),
      "largest request body in bytes")("header-timeout-ms",
                                       po::value<unsigned>()->default_value(10000),
                                       "time a client has to send a request's headers")(
      "idle-timeout-ms", po::value<unsigned>()->default_value(60000),
      "time an idle keep-alive connection is kept")(
      "shutdown-grace-ms", po::value<unsigned>()->default_value(20000),
      "time given to requests in flight when stopping")(
      "outbound-ca", po::value<std::string>(),
      "CA bundle (PEM) trusted for outbound HTTPS besides the system's")(
      "delivery-retry-schedule", po::value<std::string>(),
      "seconds between delivery attempts, comma-separated (default 5,300,1800,7200,18000,"
      "36000,36000)")("endpoint-disable-after", po::value<unsigned>(),
                      "seconds an endpoint may fail before it is disabled (default 432000)")(
      "delivery-timeout-ms", po::value<unsigned>()->default_value(15000),
      "time a receiver has to answer a delivery")(
      "webhook-replay-window", po::value<unsigned>()->default_value(300),
      "seconds a Standard Webhooks timestamp may be from now")(
      "inbox-max-attempts", po::value<unsigned>()->default_value(8),
      "attempts at mapping an inbound webhook before it is parked")(
      "inbox-backoff-ms", po::value<unsigned>()->default_value(1000),
      "first wait before an inbound webhook is mapped again (doubles each time)")(
      "poll-interval-ms", po::value<unsigned>()->default_value(300000),
      "time between catch-up polls of a connection whose connector polls")(
      "metrics-token", po::value<std::string>(),
      "bearer token /metrics requires (best set in the config file or PSAHOST_METRICS_TOKEN)")(
      "metrics-access", po::value<std::string>()->default_value("closed"),
      "closed (only with --metrics-token) or public (anyone who reaches the port)")(
      "rate-limit", po::value<double>()->default_value(100),
      "API requests a second each tenant may make (0 = unlimited); past it 429 + Retry-After")(
      "rate-limit-burst", po::value<double>()->default_value(1000),
      "requests a tenant may make at once above its rate")(
      "max-connections", po::value<std::size_t>()->default_value(0),
      "connections served at once; past it an idle one is closed, or the new one (0 = from "
      "the open file limit)");
  return serve;
}

namespace {

int cmd_serve(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add(serve_options());
  options.add(trust_options());
  const auto vm = parse("serve", options, args);
  if (vm.count("help")) {
    print_help(
        "Usage: psahost serve [options]\n\nServes the HTTPS API. On first start it creates "
        "the data directory, a SQLite database, a self-signed TLS certificate and an admin "
        "token (printed once).",
        options);
    return 0;
  }
  app::ServeOptions o;
  o.data_dir = vm["data-dir"].as<std::string>();
  std::tie(o.listen_host, o.listen_port) = parse_listen(vm["listen"].as<std::string>());
  if (vm.count("plugins-dir")) {
    for (const auto& d : vm["plugins-dir"].as<std::vector<std::string>>())
      o.plugin_dirs.emplace_back(d);
  }
  o.strict = vm["strict"].as<bool>();
  o.trust = trust_policy(vm);
  if (vm.count("isolate-plugins"))
    o.isolate_plugins =
        parse_plugin_ids("--isolate-plugins", vm["isolate-plugins"].as<std::string>());
  o.address_policy = outbound_policy(vm);
  if (vm.count("metrics-token")) {
    o.metrics_token = vm["metrics-token"].as<std::string>();
    if (o.metrics_token.size() < 16) {
      throw UsageError("--metrics-token: at least 16 characters (it guards /metrics)");
    }
  }
  const std::string metrics_access = vm["metrics-access"].as<std::string>();
  if (metrics_access != "closed" && metrics_access != "public") {
    throw UsageError("--metrics-access: expected closed or public, got '" + metrics_access + "'");
  }
  o.metrics_public = metrics_access == "public";
  o.max_connections = vm["max-connections"].as<std::size_t>();
  o.rate_limit = vm["rate-limit"].as<double>();
  o.rate_limit_burst = vm["rate-limit-burst"].as<double>();
  if (!(o.rate_limit >= 0) || !(o.rate_limit_burst >= 1)) {
    throw UsageError(
        "--rate-limit: 0 or more requests a second, with --rate-limit-burst 1 or more");
  }
  if (vm.count("secret-key-file")) o.secret_key_file = vm["secret-key-file"].as<std::string>();
  o.threads = vm["threads"].as<unsigned>();
  o.body_limit = vm["body-limit"].as<std::size_t>();
  if (o.body_limit == 0) throw UsageError("--body-limit: must be at least 1 byte");
  o.header_timeout = std::chrono::milliseconds(vm["header-timeout-ms"].as<unsigned>());
  o.idle_timeout = std::chrono::milliseconds(vm["idle-timeout-ms"].as<unsigned>());
  o.shutdown_grace = std::chrono::milliseconds(vm["shutdown-grace-ms"].as<unsigned>());
  if (o.header_timeout.count() == 0) throw UsageError("--header-timeout-ms: must be above 0");
  if (vm.count("outbound-ca")) {
    o.outbound_ca = vm["outbound-ca"].as<std::string>();
    std::error_code ec;
    if (!fs::is_regular_file(o.outbound_ca, ec)) {
      throw UsageError("--outbound-ca: no file at " + o.outbound_ca.string());
    }
  }
  if (vm.count("delivery-retry-schedule")) {
    auto schedule = delivery::parse_retry_schedule(vm["delivery-retry-schedule"].as<std::string>());
    if (!schedule) {
      throw UsageError(
          "--delivery-retry-schedule: expected 1 to 20 comma-separated seconds, e.g. 5,300,1800");
    }
    o.delivery_retry_schedule = *schedule;
  }
  if (vm.count("endpoint-disable-after")) {
    o.endpoint_disable_after = std::chrono::seconds(vm["endpoint-disable-after"].as<unsigned>());
    if (o.endpoint_disable_after.count() == 0) {
      throw UsageError("--endpoint-disable-after: must be above 0");
    }
  }
  o.replay_window = std::chrono::seconds(vm["webhook-replay-window"].as<unsigned>());
  o.delivery_timeout = std::chrono::milliseconds(vm["delivery-timeout-ms"].as<unsigned>());
  if (o.delivery_timeout.count() == 0) throw UsageError("--delivery-timeout-ms: must be above 0");
  o.inbox_max_attempts = static_cast<int>(vm["inbox-max-attempts"].as<unsigned>());
  if (o.inbox_max_attempts < 1) throw UsageError("--inbox-max-attempts: must be at least 1");
  o.inbox_backoff = std::chrono::milliseconds(vm["inbox-backoff-ms"].as<unsigned>());
  o.poll_interval = std::chrono::milliseconds(vm["poll-interval-ms"].as<unsigned>());
  if (o.poll_interval.count() == 0) throw UsageError("--poll-interval-ms: must be above 0");
  Logger log(log_level(vm));
  return app::serve(o, log);
}

// The operator's host-wide switch: a plugin switched off here acts for no tenant, and no tenant
// can switch it back on. A running host reads it at its next start.
int set_host_wide(store::Store& store, const std::string& id, bool enable) {
  store.write([&](store::Tx& tx) {
    tx.exec(
        "INSERT INTO plugin_settings (plugin_id, enabled, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (plugin_id) DO UPDATE SET enabled = excluded.enabled, "
        "updated_at = excluded.updated_at",
        {id, int64_t{enable ? 1 : 0}, now_rfc3339()});
    audit::record(tx, {"", "cli", enable ? "plugin.enable" : "plugin.disable", "plugin", id,
                       std::nullopt, std::string(enable ? "enabled" : "disabled")});
  });
  std::cout << id << (enable ? " enabled" : " disabled")
            << " for the whole host (a running psahost applies it at its next start)\n";
  return 0;
}

// Writes a publisher key pair; the private key's contents never reach stdout or a log.
int keygen(const po::variables_map& vm) {
  if (!vm.count("out")) throw UsageError("--out: required (the folder for the key pair)");
  const fs::path dir = vm["out"].as<std::string>();
  const std::string key_id = plugins::generate_key_pair(dir);
  std::cout << "key " << key_id << ": private " << (dir / "publisher.key").string()
            << " (mode 0600, keep it secret), public " << (dir / "publisher.pub").string()
            << "\nHosts trust it with the public file in their --trusted-keys folder.\n";
  return 0;
}

// Signs each manifest in place (written to a temporary file, then renamed over it).
int sign(const po::variables_map& vm) {
  if (!vm.count("key")) throw UsageError("--key: required (the private key file from keygen)");
  if (!vm.count("manifest")) throw UsageError("sign needs one or more MANIFEST files");
  const fs::path key = vm["key"].as<std::string>();
  for (const auto& m : vm["manifest"].as<std::vector<std::string>>()) {
    auto read = plugins::read_manifest_file(m);
    if (!read.document) throw std::runtime_error(plugins::describe(m, read.errors));
    const Json::Value signed_document = plugins::sign_manifest(*read.document, key);
    Json::StreamWriterBuilder writer;
    writer["indentation"] = "  ";
    writer["emitUTF8"] = true;
    const fs::path tmp = m + ".signing";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << Json::writeString(writer, signed_document) << "\n";
      if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, m);
    std::cout << "signed " << m << " with key " << signed_document["signature"]["key_id"].asString()
              << "\n";
  }
  return 0;
}

// plugins secret ID: issues the Standard Webhooks secret a remote plugin's calls are signed with
// and prints it, the only time it is shown; --rotate replaces it.
int issue_remote_secret(const po::variables_map& vm, Logger& log) {
  const auto ids = vm.count("manifest") ? vm["manifest"].as<std::vector<std::string>>()
                                        : std::vector<std::string>{};
  if (ids.size() != 1) throw UsageError("secret needs one remote plugin ID");
  const std::string& id = ids.front();
  const auto manifests = manifest_files(vm);
  if (std::none_of(manifests.begin(), manifests.end(), [&](const fs::path& m) {
        const auto parsed = plugins::load_manifest(m);
        return parsed.manifest && parsed.manifest->id == id && parsed.manifest->remote;
      })) {
    throw UsageError("no plugin " + id + " with isolation \"remote\" in --plugins-dir");
  }
  auto store = open_store(vm, log);
  const auto secret =
      plugins::issue_remote_secret(*store, open_secret_box(vm), id, vm["rotate"].as<bool>());
  if (!secret) {
    throw UsageError(id + " already has a signing secret, shown when it was issued; --rotate " +
                     "replaces it (the service must then use the new one)");
  }
  std::cout << *secret << "\n";
  std::cerr << "The signing secret of " << id
            << " is shown this once: configure the service with it. A running psahost uses it "
               "from its next call.\n";
  return 0;
}

// The data directory of a command that changes an existing host: named when it holds none.
app::DataDir existing_data_dir(const po::variables_map& vm) {
  const app::DataDir dir{vm["data-dir"].as<std::string>()};
  std::error_code ec;
  if (!fs::is_regular_file(dir.database(), ec)) {
    throw UsageError("--data-dir: no psahost database in " + dir.root.string() +
                     " (start `psahost serve --data-dir " + dir.root.string() +
                     "` once, or check the path)");
  }
  return dir;
}

// What a partner does after installing or removing a plugin, for a host already running.
constexpr const char* kPickUp =
    "A running psahost picks this up on SIGHUP (kill -HUP <pid>) or POST /v1/plugins/reload "
    "(admin token); otherwise at its next start.";

// plugins install PATH: everything is checked on a private copy before anything is copied into
// DATA_DIR/plugins.
int install(const po::variables_map& vm, Logger& log) {
  const auto paths = vm.count("manifest") ? vm["manifest"].as<std::vector<std::string>>()
                                          : std::vector<std::string>{};
  if (paths.size() != 1) {
    throw UsageError("install needs one PATH: a bundle folder or a .tar.gz of one");
  }
  const app::DataDir dir = existing_data_dir(vm);
  std::vector<std::pair<std::string, fs::path>> taken;
  for (const auto& m : plugin_dir_manifests(vm)) {
    if (const auto parsed = plugins::load_manifest(m); parsed.manifest) {
      taken.emplace_back(parsed.manifest->id, m);
    }
  }
  const ScratchDir scratch;
  plugins::HostCalls calls;
  plugins::RegistryOptions options{scratch.path(), false, {}};
  options.trust = trust_policy(vm);
  if (vm.count("isolate-plugins")) {
    options.isolate =
        parse_plugin_ids("--isolate-plugins", vm["isolate-plugins"].as<std::string>());
  }
  plugins::InstallResult r;
  try {
    r = plugins::install_plugin(paths.front(), dir.installed_plugins(), options,
                                plugins::PluginEnv{calls, nullptr, log, nullptr}, taken);
  } catch (const plugins::LoadError& e) {
    throw std::runtime_error("install " + paths.front() +
                             ": refused, nothing installed: " + e.field() + ": " + e.what());
  } catch (const plugins::BundleError& e) {
    throw std::runtime_error("install " + paths.front() +
                             ": refused, nothing installed: " + e.what());
  }
  std::cout << "installed " << r.id << " " << r.version << " into " << r.dir.string();
  if (!r.replaced_version.empty()) std::cout << " (replacing " << r.replaced_version << ")";
  std::cout << "\n  signature  "
            << (r.signature == "trusted" ? "signed by trusted key " + r.key_id
                                         : std::string("unsigned, let in by "
                                                       "--allow-unsigned-plugins"))
            << "\n  runs       " << r.isolation << "\n";
  std::cout << "Next: " << kPickUp;
  if (r.signature == "unsigned") {
    std::cout << " The host needs --allow-unsigned-plugins " << r.id
              << " too (in its config file or command line), or it refuses the plugin.";
  }
  std::cout << " It acts for every tenant until one switches it off (POST /v1/plugins/" << r.id
            << "/disable).\n";
  return 0;
}

int uninstall(const po::variables_map& vm) {
  const auto ids = vm.count("manifest") ? vm["manifest"].as<std::vector<std::string>>()
                                        : std::vector<std::string>{};
  if (ids.size() != 1) throw UsageError("uninstall needs one plugin ID (see psahost plugins list)");
  const std::string& id = ids.front();
  const app::DataDir dir = existing_data_dir(vm);
  if (plugins::uninstall_plugin(dir.installed_plugins(), id)) {
    std::cout << "uninstalled " << id << " from " << (dir.installed_plugins() / id).string() << "\n"
              << kPickUp << " Its settings and stored data stay, should it come back.\n";
    return 0;
  }
  for (const auto& m : plugin_dir_manifests(vm)) {
    const auto parsed = plugins::load_manifest(m);
    if (parsed.manifest && parsed.manifest->id == id) {
      std::cerr << "psahost plugins: " << id << " comes with psahost (" << m.string()
                << "), it was not installed; switch it off with psahost plugins disable " << id
                << "\n";
      return 1;
    }
  }
  std::cerr << "psahost plugins: no plugin " << id << " is installed in "
            << dir.installed_plugins().string() << " (see psahost plugins list)\n";
  return 1;
}

// "signed by key ..." / "unsigned, allowed" / "signature refused" for plugins verify.
std::string signature_note(const plugins::VerifyResult& r) {
  if (r.signature == "trusted") return "signed by key " + r.signature_key_id;
  if (r.signature == "unsigned") return "unsigned, let in by --allow-unsigned-plugins";
  if (r.signature == "refused") return "signature refused";
  return "signature not checked";
}

int cmd_plugins(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add_options()("action", po::value<std::string>(),
                        "list | verify | enable | disable | keygen | sign | secret")(
      "manifest", po::value<std::vector<std::string>>(), "manifest files, ids or a bundle")(
      "plugins-dir", po::value<std::vector<std::string>>()->composing(),
      "folder of manifests (default: the bundled plugins)")("json", po::bool_switch(),
                                                            "print JSON instead of a table")(
      "out", po::value<std::string>(), "folder for the new key pair (keygen)")(
      "key", po::value<std::string>(), "the publisher's private key file (sign)")(
      "rotate", po::bool_switch(), "secret: replace the remote plugin's signing secret")(
      "isolate-plugins", po::value<std::string>(),
      "install: report these as run in a child process, as serve would (all, or ids)");
  options.add(trust_options());
  po::positional_options_description positional;
  positional.add("action", 1).add("manifest", -1);
  const auto vm = parse("plugins", options, args, &positional);
  if (vm.count("help") || !vm.count("action")) {
    print_help(
        "Usage: psahost plugins list [options]\n       psahost plugins verify "
        "[MANIFEST...] [options]\n       psahost plugins enable|disable ID [options]\n"
        "       psahost plugins keygen --out DIR\n"
        "       psahost plugins sign MANIFEST... --key FILE\n"
        "       psahost plugins secret ID [--rotate] [options]\n"
        "       psahost plugins install PATH (a bundle folder or .tar.gz) [options]\n"
        "       psahost plugins uninstall ID [options]",
        options);
    return vm.count("help") ? 0 : 2;
  }
  const std::string action = vm["action"].as<std::string>();
  const std::vector<std::string> actions = {"list", "verify", "enable",  "disable",  "keygen",
                                            "sign", "secret", "install", "uninstall"};
  if (std::find(actions.begin(), actions.end(), action) == actions.end()) {
    throw UsageError("unknown action '" + action +
                     "': expected list, verify, enable, disable, keygen, sign, secret, install "
                     "or uninstall");
  }
  if (action == "keygen") return keygen(vm);
  if (action == "sign") return sign(vm);
  Logger log(LogLevel::error);
  if (action == "install") return install(vm, log);
  if (action == "uninstall") return uninstall(vm);
  if (action == "secret") return issue_remote_secret(vm, log);
  if (action == "enable" || action == "disable") {
    auto store = open_store(vm, log);
    const auto ids = vm.count("manifest") ? vm["manifest"].as<std::vector<std::string>>()
                                          : std::vector<std::string>{};
    if (ids.size() != 1)
      throw UsageError(action + " needs one plugin ID (see psahost plugins list)");
    return set_host_wide(*store, ids.front(), action == "enable");
  }
  // Listing and verifying load each plugin the way serve would, from a private copy of its
  // library; the copies go to a scratch folder, so neither command writes to the data
  // directory (nor needs one). No store: a plugin's key/value calls are refused meanwhile.
  const ScratchDir scratch;
  plugins::HostCalls calls;
  plugins::RegistryOptions registry_options{scratch.path(), false, {}};
  registry_options.trust = trust_policy(vm);
  plugins::PluginRegistry registry(registry_options,
                                   plugins::PluginEnv{calls, nullptr, log, nullptr});
  std::vector<fs::path> manifests;
  if (vm.count("manifest")) {
    for (const auto& m : vm["manifest"].as<std::vector<std::string>>()) manifests.emplace_back(m);
  } else {
    manifests = manifest_files(vm);
  }
  const bool json = vm["json"].as<bool>();
  if (action == "verify") {
    int failures = 0;
    Json::Value items(Json::arrayValue);
    for (const auto& m : manifests) {
      const auto r = registry.verify(m);
      if (!r.errors.empty()) ++failures;
      if (json) {
        Json::Value v;
        v["manifest"] = m.string();
        v["id"] = r.id;
        v["ok"] = r.errors.empty();
        v["signature"] = r.signature;
        v["signature_key_id"] =
            r.signature_key_id.empty() ? Json::Value() : Json::Value(r.signature_key_id);
        v["errors"] = Json::Value(Json::arrayValue);
        for (const auto& e : r.errors) {
          Json::Value error;
          error["field"] = e.field;
          error["message"] = e.message;
          v["errors"].append(error);
        }
        items.append(v);
      } else if (r.errors.empty()) {
        std::cout << "ok      " << m.string() << " (" << r.id << ", " << signature_note(r) << ")\n";
      } else {
        std::cout << "FAILED  " << m.string() << " (" << signature_note(r) << ")\n";
        for (const auto& e : r.errors) {
          std::cout << "        " << (e.field.empty() ? "" : e.field + ": ") << e.message << "\n";
        }
      }
    }
    if (json) {
      Json::Value out;
      out["items"] = items;
      out["verified"] = static_cast<Json::Int64>(manifests.size()) - failures;
      out["failed"] = failures;
      std::cout << out.toStyledString();
    } else {
      std::cout << manifests.size() - failures << " verified, " << failures << " failed\n";
    }
    return failures == 0 ? 0 : 1;
  }
  for (const auto& m : manifests) registry.load(m);
  const auto list = registry.list();
  if (json) {
    Json::Value items(Json::arrayValue);
    for (const auto& p : list) {
      Json::Value v;
      v["id"] = p.id;
      v["version"] = p.version;
      v["kind"] = p.kind;
      v["state"] = p.state;
      v["last_error"] = p.last_error;
      v["isolation"] = p.isolation;
      v["signature"] = p.signature;
      v["signature_key_id"] =
          p.signature_key_id.empty() ? Json::Value() : Json::Value(p.signature_key_id);
      v["manifest"] = p.manifest_path.string();
      items.append(v);
    }
    std::cout << items.toStyledString();
    return 0;
  }
  std::printf("%-24s %-10s %-10s %-9s %-10s %-9s %s\n", "ID", "VERSION", "KIND", "STATE",
              "ISOLATION", "SIGNATURE", "DETAIL");
  for (const auto& p : list) {
    std::printf("%-24s %-10s %-10s %-9s %-10s %-9s %s\n", p.id.c_str(), p.version.c_str(),
                p.kind.c_str(), p.state.c_str(), p.isolation.c_str(), p.signature.c_str(),
                p.last_error.empty() ? p.manifest_path.string().c_str() : p.last_error.c_str());
  }
  return 0;
}

int cmd_tokens(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add_options()("action", po::value<std::string>(), "create | list | revoke")(
      "id", po::value<std::string>(), "token id (revoke)")("tenant", po::value<std::string>(),
                                                           "tenant name (create; created if new)")(
      "role", po::value<std::string>(), "admin, billing, technician or integration (create)")(
      "name", po::value<std::string>()->default_value(""), "a label for the token (create)")(
      "json", po::bool_switch(), "print JSON instead of a table (list)");
  po::positional_options_description positional;
  positional.add("action", 1).add("id", 1);
  const auto vm = parse("tokens", options, args, &positional);
  if (vm.count("help") || !vm.count("action")) {
    print_help(
        "Usage: psahost tokens create --tenant NAME --role ROLE [--name LABEL]\n"
        "       psahost tokens list [--json]\n       psahost tokens revoke TOKEN_ID",
        options);
    return vm.count("help") ? 0 : 2;
  }
  const std::string action = vm["action"].as<std::string>();
  Logger log(LogLevel::error);
  if (action == "create") {
    if (!vm.count("tenant") || vm["tenant"].as<std::string>().empty()) {
      throw UsageError("--tenant: required (the tenant's name)");
    }
    if (!vm.count("role"))
      throw UsageError("--role: required (admin, billing, technician or integration)");
    const auto role = auth::parse_role(vm["role"].as<std::string>());
    if (!role) {
      throw UsageError("--role: expected admin, billing, technician or integration, got '" +
                       vm["role"].as<std::string>() + "'");
    }
    auto store = open_store(vm, log, DataDirUse::create);
    auth::Tokens tokens(*store);
    std::cout << tokens.create(vm["tenant"].as<std::string>(), *role, vm["name"].as<std::string>())
              << "\n";
    return 0;
  }
  if (action == "list") {
    auto store = open_store(vm, log);
    auth::Tokens tokens(*store);
    if (vm["json"].as<bool>()) {
      Json::Value items(Json::arrayValue);
      for (const auto& t : tokens.list()) {
        Json::Value v;
        v["id"] = t.id;
        v["tenant"] = t.tenant_name;
        v["role"] = t.role;
        v["created_at"] = t.created_at;
        v["revoked_at"] = t.revoked_at ? Json::Value(*t.revoked_at) : Json::Value();
        items.append(v);
      }
      Json::Value out;
      out["items"] = items;
      std::cout << out.toStyledString();
      return 0;
    }
    std::printf("%-20s %-16s %-12s %-25s %s\n", "ID", "TENANT", "ROLE", "CREATED", "STATE");
    for (const auto& t : tokens.list()) {
      std::printf("%-20s %-16s %-12s %-25s %s\n", t.id.c_str(), t.tenant_name.c_str(),
                  t.role.c_str(), t.created_at.c_str(),
                  t.revoked_at ? ("revoked " + *t.revoked_at).c_str() : "active");
    }
    return 0;
  }
  if (action == "revoke") {
    if (!vm.count("id")) throw UsageError("revoke needs a TOKEN_ID (see psahost tokens list)");
    auto store = open_store(vm, log);
    auth::Tokens tokens(*store);
    if (!tokens.revoke(vm["id"].as<std::string>())) {
      std::cerr << "psahost tokens: no active token " << vm["id"].as<std::string>() << "\n";
      return 1;
    }
    std::cout << "revoked " << vm["id"].as<std::string>() << "\n";
    return 0;
  }
  throw UsageError("unknown action '" + action + "': expected create, list or revoke");
}

}  // namespace

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kOverview;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "serve") return cmd_serve(args);
    if (command == "plugins") return cmd_plugins(args);
    if (command == "plugin-runner") return run_plugin_runner(args);  // started by the host only
    if (command == "tokens") return cmd_tokens(args);
    if (command == "onboarding") return cmd_onboarding(args);
    if (command == "demo") return cmd_demo(args);
    if (command == "contracts") return cmd_contracts(args);
    if (command == "numbering") return cmd_numbering(args);
    if (command == "billing") return cmd_billing(args);
    if (command == "connections") return cmd_connections(args);
    if (command == "version" || command == "--version" || command == "-V") {
      if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << "Usage: psahost version (or psahost --version, psahost -V)\n\n"
                     "Prints psahost's version and the plugin SDK ABI it accepts.\n";
        return 0;
      }
      if (!args.empty()) throw UsageError("takes no arguments, got '" + args[0] + "'");
      std::cout << "psahost " << PSAHOST_VERSION << " (plugin ABI " << PSA_PLUGIN_API_VERSION_MAJOR
                << "." << PSA_PLUGIN_API_VERSION_MINOR << ")\n";
      return 0;
    }
    std::cerr << "psahost: unknown command '" << command << "'\n\n" << kOverview;
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "psahost " << command << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "psahost " << command << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace psahost::cli
