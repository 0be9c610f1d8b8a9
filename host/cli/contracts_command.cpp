// psahost contracts bootstrap: draft contracts for clients with services and no contract, made
// by the contract-bootstrap plugin exactly as POST /v1/contracts/bootstrap makes them.
#include "api/host_services.hpp"
#include "app/app.hpp"
#include "auth/tokens.hpp"
#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "contracts/contracts.hpp"
#include "contracts/host_calls.hpp"
#include "plugins/registry.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

namespace psahost::cli {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPage = 500;  // clients per plugin call: one progress step, one transaction

void print_summary(const Json::Value& created, const Json::Value& skipped, bool dry_run) {
  std::map<std::string, int64_t> reasons;
  for (const auto& s : skipped) ++reasons[s["reason"].asString()];
  int64_t unpriced = 0;
  int64_t unpriced_contracts = 0;
  int64_t assumed = 0;
  for (const auto& c : created) {
    unpriced += c["unpriced_parts"].size();
    unpriced_contracts += c["unpriced_parts"].empty() ? 0 : 1;
    assumed += c["currency_assumed"].asBool() ? 1 : 0;
  }
  std::printf("%s %lld draft contract(s)%s\n", dry_run ? "Would create" : "Created",
              static_cast<long long>(created.size()),
              dry_run ? " (dry run: nothing was written)" : "");
  std::string why;
  for (const auto& [reason, count] : reasons) {
    why += (why.empty() ? "" : ", ") + reason + " " + std::to_string(count);
  }
  std::printf("Skipped %lld client(s)%s%s\n", static_cast<long long>(skipped.size()),
              why.empty() ? "" : ": ", why.c_str());
  std::printf("Parts without a price: %lld in %lld contract(s)%s\n",
              static_cast<long long>(unpriced), static_cast<long long>(unpriced_contracts),
              unpriced > 0 ? "; set their prices before activating" : "");
  if (assumed > 0) {
    std::printf("Currency assumed for %lld client(s) without a billing currency\n",
                static_cast<long long>(assumed));
  }
  int listed = 0;
  for (const auto& c : created) {
    if (c["unpriced_parts"].empty()) continue;
    if (++listed > 20) {
      std::printf("  ... and more (see --json)\n");
      break;
    }
    std::string skus;
    for (const auto& p : c["unpriced_parts"])
      skus += (skus.empty() ? "" : ", ") + p["sku"].asString();
    std::printf("  %-26s %-26s unpriced: %s\n", c["client_id"].asCString(),
                c["contract_id"].isString() ? c["contract_id"].asCString() : "(dry run)",
                skus.c_str());
  }
}

}  // namespace

int cmd_contracts(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add_options()("action", po::value<std::string>(), "bootstrap")(
      "all", po::bool_switch(), "every active client with services and no contract")(
      "client", po::value<std::vector<std::string>>()->composing(),
      "a client id (repeatable) instead of --all")("dry-run", po::bool_switch(),
                                                   "decide and report, write nothing")(
      "tenant", po::value<std::string>()->default_value("default"), "tenant name")(
      "plugins-dir", po::value<std::string>(),
      "folder with contract-bootstrap.json (default: the bundled plugins)")(
      "json", po::bool_switch(), "print the full report as JSON");
  options.add(trust_options());
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse("contracts", options, args, &positional);
  const std::string usage =
      "Usage: psahost contracts bootstrap --all [--dry-run] [--tenant NAME] [--data-dir DIR]\n"
      "       psahost contracts bootstrap --client ID [--client ID...] [--dry-run]\n\n"
      "Creates a draft contract for every client that has services assigned and no contract,\n"
      "its parts from those services priced from the catalog (the contract-bootstrap plugin).";
  if (vm.count("help") || !vm.count("action")) {
    print_help(usage, options);
    return vm.count("help") ? 0 : 2;
  }
  if (vm["action"].as<std::string>() != "bootstrap") {
    throw UsageError("unknown action '" + vm["action"].as<std::string>() + "': expected bootstrap");
  }
  const bool all = vm["all"].as<bool>();
  std::vector<std::string> ids;
  if (vm.count("client")) ids = vm["client"].as<std::vector<std::string>>();
  if (all == !ids.empty()) throw UsageError("give either --all or --client ID");
  const bool dry_run = vm["dry-run"].as<bool>();

  Logger log(LogLevel::error);
  auto store = open_store(vm, log);
  auth::Tokens tokens(*store);
  const std::string tenant_name = vm["tenant"].as<std::string>();
  const auto tenant = tokens.find_tenant(tenant_name);
  if (!tenant) throw UsageError("--tenant: no tenant named '" + tenant_name + "'");

  // The same host calls and plugin loading as `psahost serve`, without the server.
  plugins::HostCalls calls;
  api::register_host_services(calls, *store);
  contracts::register_contract_host_calls(calls, *store);
  const app::DataDir dir{vm["data-dir"].as<std::string>()};
  plugins::RegistryOptions registry_options{dir.plugin_cache(), false, {}};
  registry_options.trust = trust_policy(vm);
  plugins::PluginRegistry registry(registry_options,
                                   plugins::PluginEnv{calls, store.get(), log, nullptr});
  const fs::path plugin_dir = vm.count("plugins-dir")
                                  ? fs::path(vm["plugins-dir"].as<std::string>())
                                  : app::bundled_plugin_dir();
  const fs::path manifest = plugin_dir / "contract-bootstrap.json";
  if (!fs::exists(manifest)) throw UsageError("--plugins-dir: no " + manifest.string());
  if (!registry.load(manifest)) {
    for (const auto& p : registry.list())
      std::cerr << "psahost contracts: " << p.last_error << "\n";
    return 1;
  }

  int64_t total = static_cast<int64_t>(ids.size());
  if (all)
    store->read([&](store::Tx& tx) { total = contracts::count_bootstrap_candidates(tx, *tenant); });
  const bool tty = progress_is_shown() && !vm["json"].as<bool>();

  Json::Value created(Json::arrayValue);
  Json::Value skipped(Json::arrayValue);
  int64_t done = 0;
  std::string after;
  std::size_t next_id = 0;
  if (tty) draw_progress("bootstrapping", 0, total);
  while (true) {
    Json::Value request;
    request["tenant_id"] = *tenant;
    request["actor"] = "cli";
    request["dry_run"] = dry_run;
    if (all) {
      request["all"] = true;
      request["after"] = after;
      request["limit"] = static_cast<Json::Int64>(kPage);
    } else {
      if (next_id >= ids.size()) break;
      request["client_ids"] = Json::Value(Json::arrayValue);
      const std::size_t end = std::min(ids.size(), next_id + static_cast<std::size_t>(kPage));
      for (; next_id < end; ++next_id) request["client_ids"].append(ids[next_id]);
    }
    const auto result = contracts::bootstrap(registry, request);
    if (!result) {
      if (tty) end_progress();
      std::cerr << "psahost contracts: " << result.refusal().detail << "\n";
      return 1;
    }
    for (const auto& c : (*result)["created"]) created.append(c);
    for (const auto& s : (*result)["skipped"]) skipped.append(s);
    done = static_cast<int64_t>(created.size() + skipped.size());
    if (tty) draw_progress("bootstrapping", done, std::max(total, done));
    if (all) {
      if (!(*result)["next_after"].isString()) break;
      after = (*result)["next_after"].asString();
    }
  }
  if (tty) end_progress();
  if (vm["json"].as<bool>()) {
    Json::Value out;
    out["created"] = created;
    out["skipped"] = skipped;
    out["dry_run"] = dry_run;
    std::cout << out.toStyledString();
    return 0;
  }
  print_summary(created, skipped, dry_run);
  return 0;
}

}  // namespace psahost::cli
