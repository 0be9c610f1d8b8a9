// psahost numbering show|set|verify: the invoice numbering settings, what the accounting systems
// report, and their verification, exactly as GET/PUT /v1/invoice-numbering and .../verify.
#include "billing/numbering_review.hpp"
#include "cli/local_host.hpp"

#include <cstdio>
#include <iostream>
#include <map>

namespace psahost::cli {
namespace {

const std::map<std::string, std::string> kOptionOf = {{"prefix", "--prefix"},
                                                      {"pattern", "--pattern"},
                                                      {"next_number", "--next-number"},
                                                      {"reset", "--reset"},
                                                      {"billing_entity", "--billing-entity"}};

std::string option_of(const std::string& field) {
  const auto it = kOptionOf.find(field);
  return it == kOptionOf.end() ? field : it->second;
}

void print_review(const billing::NumberingReview& r, const std::string& tenant) {
  const Json::Value v = r.to_json();
  std::printf("Invoice numbering of tenant '%s'%s\n", tenant.c_str(),
              r.series.settings.billing_entity.empty()
                  ? " (default series)"
                  : (" (billing entity " + r.series.settings.billing_entity + ")").c_str());
  if (!r.billing_entity.empty() && r.billing_entity != r.series.settings.billing_entity) {
    std::printf("  billing entity %s has no series of its own and is numbered by this one\n",
                r.billing_entity.c_str());
  }
  std::printf("  pattern      %s\n", v["pattern"].asCString());
  std::printf("  prefix       %s\n", v["prefix"].asCString());
  std::printf("  reset        %s\n", v["reset"].asCString());
  std::printf("  next number  %lld -> %s\n", static_cast<long long>(v["next_number"].asInt64()),
              v["next_invoice_number"].asCString());
  if (v["last_issued"].isNull()) {
    std::printf("  last issued  none\n");
  } else {
    std::printf("  last issued  %s on %s\n", v["last_issued"]["number"].asCString(),
                v["last_issued"]["issue_date"].asCString());
  }
  if (r.accounting_asked) {
    if (r.accounting.empty()) std::printf("  accounting   no connector reports a last number\n");
    for (const auto& a : r.accounting) {
      if (!a.report.error.empty()) {
        std::printf("  accounting   %s: could not say (%s)\n", a.report.system.c_str(),
                    a.report.error.c_str());
      } else if (!a.report.last_number) {
        std::printf("  accounting   %s: no invoice yet\n", a.report.system.c_str());
      } else {
        std::printf("  accounting   %s: last %s%s\n", a.report.system.c_str(),
                    a.report.last_number->c_str(),
                    a.matches ? "" : " (does not follow the pattern)");
      }
    }
  }
  std::printf("  proposed     next number %lld\n", static_cast<long long>(r.proposed_next_number));
  for (const auto& c : r.collisions) {
    std::printf("  collision    %s: %s\n", option_of(c["field"].asString()).c_str(),
                c["message"].asCString());
  }
  if (r.series.verified()) {
    std::printf("  verified     yes, by %s at %s\n", r.series.verified_by->c_str(),
                r.series.verified_at->c_str());
  } else {
    std::printf("  verified     no: check the settings, then psahost numbering verify\n");
  }
}

// Prints a refusal; returns the exit code (2 for bad input named by option, else 1).
int report(const domain::Refusal& out) {
  if (out.kind == domain::RefusalKind::invalid) {
    std::string what;
    for (const auto& e : out.fields) {
      what += (what.empty() ? "" : "; ") + option_of(e.field) + ": " + e.message;
    }
    throw UsageError(what);
  }
  std::cerr << "psahost numbering: " << out.detail << "\n";
  for (const auto& e : out.extra["errors"]) {
    std::cerr << "  " << option_of(e["field"].asString()) << ": " << e["message"].asString()
              << "\n";
  }
  if (out.prompt.isObject() && out.prompt["next_number"].isInt64()) {
    std::cerr << "  set it with: psahost numbering set --next-number "
              << out.prompt["next_number"].asInt64() << "\n";
  }
  return 1;
}

}  // namespace

int cmd_numbering(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add(local_host_options());
  options.add_options()("action", po::value<std::string>(), "show | set | verify")(
      "billing-entity", po::value<std::string>()->default_value(""),
      "the billing entity whose series this is (default: the partner's default series)")(
      "prefix", po::value<std::string>(), "set: the {prefix} of the pattern")(
      "pattern", po::value<std::string>(),
      "set: tokens {prefix} {yyyy} {yy} {mm} {seq:N} and literal text")(
      "next-number", po::value<int64_t>(), "set: the sequence number of the next invoice")(
      "reset", po::value<std::string>(), "set: never or yearly")("json", po::bool_switch(),
                                                                 "print JSON");
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse("numbering", options, args, &positional);
  const std::string usage =
      "Usage: psahost numbering show [--billing-entity NAME] [--tenant NAME] [--json]\n"
      "       psahost numbering set [--prefix P] [--pattern PAT] [--next-number N] "
      "[--reset never|yearly]\n"
      "       psahost numbering verify [--billing-entity NAME]\n\n"
      "Invoice numbers must line up with the accounting system: show what the settings give and\n"
      "what the accounting connectors report, change what is off, then verify. The first real\n"
      "billing run waits for the verification; any change needs a new one.";
  if (vm.count("help") || !vm.count("action")) {
    print_help(usage, options);
    return vm.count("help") ? 0 : 2;
  }
  const std::string action = vm["action"].as<std::string>();
  if (action != "show" && action != "set" && action != "verify") {
    throw UsageError("unknown action '" + action + "': expected show, set or verify");
  }
  const bool setting =
      vm.count("prefix") || vm.count("pattern") || vm.count("next-number") || vm.count("reset");
  if (action != "set" && setting) {
    throw UsageError("--prefix, --pattern, --next-number and --reset go with set");
  }
  if (action == "set" && !setting) {
    throw UsageError("set needs at least one of --prefix, --pattern, --next-number, --reset");
  }
  if (vm.count("reset") && vm["reset"].as<std::string>() != "never" &&
      vm["reset"].as<std::string>() != "yearly") {
    throw UsageError("--reset: expected never or yearly, got '" + vm["reset"].as<std::string>() +
                     "'");
  }
  if (vm.count("next-number") && vm["next-number"].as<int64_t>() < 1) {
    throw UsageError("--next-number: must be at least 1");
  }
  const std::string entity = vm["billing-entity"].as<std::string>();

  Logger log(LogLevel::error);
  LocalHost host(vm, log);
  const billing::NumberingEnv env{host.store(), host.plugins()};
  const auth::Principal cli{host.tenant_id(), host.tenant_name(), auth::Role::admin, "cli"};
  auto out = domain::Result<billing::NumberingReview>(domain::Refusal());
  if (action == "show") {
    out = billing::review_numbering(env, cli, entity, true);
  } else if (action == "verify") {
    out = billing::verify_numbering(env, cli, entity, std::nullopt);
  } else {
    // What is not given stays as it is now.
    const auto current = billing::review_numbering(env, cli, entity, false);
    if (!current) return report(current.refusal());
    billing::SeriesSettings wanted = current->effective();
    wanted.billing_entity = entity;
    if (vm.count("prefix")) wanted.prefix = vm["prefix"].as<std::string>();
    if (vm.count("pattern")) wanted.pattern = vm["pattern"].as<std::string>();
    if (vm.count("next-number")) wanted.next_number = vm["next-number"].as<int64_t>();
    if (vm.count("reset")) wanted.reset = vm["reset"].as<std::string>();
    out = billing::update_numbering(env, cli, wanted);
  }
  if (!out) return report(out.refusal());
  if (vm["json"].as<bool>()) {
    std::cout << out->to_json().toStyledString();
  } else {
    if (action == "verify") std::printf("Verified.\n");
    print_review(*out, host.tenant_name());
  }
  return 0;
}

}  // namespace psahost::cli
