// psahost onboarding status: the onboarding picture of one tenant, for people or as JSON.
#include "api/onboarding.hpp"
#include "auth/tokens.hpp"
#include "cli/options.hpp"

#include <cstdio>
#include <iostream>

namespace psahost::cli {

int cmd_onboarding(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add_options()("action", po::value<std::string>(), "status")(
      "tenant", po::value<std::string>()->default_value("default"), "tenant name")(
      "json", po::bool_switch(), "print JSON");
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse("onboarding", options, args, &positional);
  if (vm.count("help") || !vm.count("action")) {
    print_help("Usage: psahost onboarding status [--tenant NAME] [--json]", options);
    return vm.count("help") ? 0 : 2;
  }
  if (vm["action"].as<std::string>() != "status") {
    throw UsageError("unknown action '" + vm["action"].as<std::string>() + "': expected status");
  }
  Logger log(LogLevel::error);
  auto store = open_store(vm, log);
  auth::Tokens tokens(*store);
  const std::string tenant_name = vm["tenant"].as<std::string>();
  const auto tenant = tokens.find_tenant(tenant_name);
  if (!tenant) throw UsageError("--tenant: no tenant named '" + tenant_name + "'");
  Json::Value status;
  store->read([&](store::Tx& tx) { status = api::onboarding_status(tx, *tenant, 1000); });
  if (vm["json"].as<bool>()) {
    std::cout << status.toStyledString();
    return 0;
  }
  const auto& missing = status["missing_billing_info"];
  const auto& without = status["without_contract"];
  std::printf("Onboarding of tenant '%s': %lld active clients\n\n", tenant_name.c_str(),
              static_cast<long long>(status["clients"].asInt64()));
  std::printf("Billing information missing: %lld client(s)\n",
              static_cast<long long>(missing["count"].asInt64()));
  for (const auto& c : missing["items"]) {
    std::string gaps;
    for (const auto& m : c["missing"]) gaps += (gaps.empty() ? "" : ", ") + m.asString();
    std::printf("  %-28s %-26s missing: %s\n", c["name"].asCString(), c["client_id"].asCString(),
                gaps.c_str());
  }
  std::printf("\nServices assigned but no contract: %lld client(s)\n",
              static_cast<long long>(without["count"].asInt64()));
  for (const auto& c : without["items"]) {
    std::printf("  %-28s %-26s %lld service(s)\n", c["name"].asCString(),
                c["client_id"].asCString(), static_cast<long long>(c["services"].asInt64()));
  }
  std::printf("\nInvoice numbering verified: %s\n",
              status["invoice_numbering"]["verified"].asBool() ? "yes" : "no");
  std::printf("Ready to bill: %s\n", status["ready_to_bill"].asBool() ? "yes" : "no");
  return 0;
}

}  // namespace psahost::cli
