// psahost billing run --period YYYY-MM [--dry-run]: a billing run in this process, the same run
// POST /v1/billing-runs makes, with a progress bar on a terminal and a summary at the end.
#include "billing/billing_run.hpp"
#include "cli/local_host.hpp"
#include "cli/progress.hpp"
#include "domain/reference_data.hpp"

#include <cstdio>
#include <iostream>
#include <stop_token>

namespace psahost::cli {
namespace {

// Minor units as the currency writes them: 123456 EUR is "1234.56 EUR".
std::string money(int64_t minor, const std::string& currency) {
  const int exponent = domain::currency_exponent(currency).value_or(2);
  std::string digits = std::to_string(minor < 0 ? -minor : minor);
  if (exponent > 0) {
    if (static_cast<int>(digits.size()) <= exponent) {
      digits.insert(0, static_cast<std::size_t>(exponent) - digits.size() + 1, '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(exponent), ".");
  }
  return (minor < 0 ? "-" : "") + digits + " " + currency;
}

void print_summary(const Json::Value& run, store::Store& store, const std::string& tenant) {
  const bool dry = run["dry_run"].asBool();
  std::printf("Billing run %s for %s: %s%s\n", run["id"].asString().c_str(),
              run["period"].asString().c_str(), run["status"].asString().c_str(),
              dry ? " (dry run: nothing issued, no number taken)" : "");
  if (!run["error"].isNull()) std::printf("  error: %s\n", run["error"].asString().c_str());
  std::printf("  clients %lld, %s %lld invoice(s), skipped %lld, failed %lld\n",
              static_cast<long long>(run["processed"].asInt64()), dry ? "would issue" : "issued",
              static_cast<long long>(run["issued"].asInt64()),
              static_cast<long long>(run["skipped"].asInt64()),
              static_cast<long long>(run["failed"].asInt64()));
  for (const auto& currency : run["totals"].getMemberNames()) {
    const Json::Value& t = run["totals"][currency];
    std::printf("  %s: %lld invoice(s), net %s, tax %s, total %s\n", currency.c_str(),
                static_cast<long long>(t["invoices"].asInt64()),
                money(t["net_amount"].asInt64(), currency).c_str(),
                money(t["tax_amount"].asInt64(), currency).c_str(),
                money(t["total_amount"].asInt64(), currency).c_str());
  }
  std::string reasons;
  for (const auto& reason : run["reasons"].getMemberNames()) {
    reasons += (reasons.empty() ? "" : ", ") + reason + " " + run["reasons"][reason].asString();
  }
  if (!reasons.empty()) std::printf("  reasons: %s\n", reasons.c_str());
  // The clients that need a look: failed first, then skipped, at most 20 of each.
  for (const char* outcome : {"failed", "skipped"}) {
    billing::RunItemsPage page;
    page.limit = 21;
    page.outcome = outcome;
    Json::Value listed;
    store.read([&](store::Tx& tx) {
      listed = billing::billing_run_json(tx, tenant, run["id"].asString(), page);
    });
    int shown = 0;
    for (const auto& item : listed["items"]) {
      if (++shown > 20) {
        std::printf("  ... and more (see --json or GET /v1/billing-runs/%s)\n",
                    run["id"].asString().c_str());
        break;
      }
      // A skipped client may carry no detail (null): asString() reads it as empty.
      const std::string detail = item["detail"].asString();
      std::printf("  %-7s %-26s %s%s%s\n", outcome, item["client_id"].asString().c_str(),
                  item["reason"].asString().c_str(), detail.empty() ? "" : ": ", detail.c_str());
    }
  }
}

}  // namespace

int cmd_billing(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add(local_host_options());
  options.add_options()("action", po::value<std::string>(), "run")(
      "period", po::value<std::string>(), "the month to bill, YYYY-MM")(
      "dry-run", po::bool_switch(), "show what would be issued; issue nothing, take no number")(
      "json", po::bool_switch(), "print the run as JSON (GET /v1/billing-runs/{id})");
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse("billing", options, args, &positional);
  const std::string usage =
      "Usage: psahost billing run --period YYYY-MM [--dry-run] [--tenant NAME] [--json]\n\n"
      "Bills every active client with complete billing information for the period: contract\n"
      "parts due by their interval (upfront: the interval starting in the period; afterwards:\n"
      "the one that ended as it began), approved time and sales items dated in it or before.\n"
      "Running a period again bills only who was not billed for it yet.";
  if (vm.count("help") || !vm.count("action")) {
    print_help(usage, options);
    return vm.count("help") ? 0 : 2;
  }
  if (vm["action"].as<std::string>() != "run") {
    throw UsageError("unknown action '" + vm["action"].as<std::string>() + "': expected run");
  }
  if (!vm.count("period")) throw UsageError("--period: required (the month to bill, YYYY-MM)");
  const std::string period = vm["period"].as<std::string>();
  if (const auto problem = billing::period_problem(period, domain::today_utc())) {
    throw UsageError("--period: " + *problem);
  }
  const bool json = vm["json"].as<bool>();

  Logger log(LogLevel::error);
  LocalHost host(vm, log);
  const billing::BillingEnv env{host.store(), host.plugins(), host.admission(), {}};
  const auth::Principal cli{host.tenant_id(), host.tenant_name(), auth::Role::admin, "cli"};
  const auto start = billing::start_billing_run(env, cli, {period, vm["dry-run"].as<bool>()});
  if (!start) {
    const auto& refusal = start.refusal();
    if (refusal.kind == domain::RefusalKind::refused) {
      std::cerr << "psahost billing: refused: " << refusal.detail << "\n";
      if (refusal.prompt["action"].asString() == "verify_invoice_numbering") {
        std::cerr << "  check the settings with psahost numbering show, then psahost numbering "
                     "verify\n";
      }
    } else {
      std::cerr << "psahost billing: " << refusal.detail << "\n";
    }
    return 1;
  }
  const bool tty = progress_is_shown() && !json;
  std::stop_source never;
  billing::execute_billing_run(env, host.tenant_id(), start->id, never.get_token(),
                               [tty](const billing::RunProgress& p) {
                                 if (tty) draw_progress("billing", p.processed, p.clients);
                               });
  if (tty) end_progress();
  Json::Value run;
  billing::RunItemsPage page;
  page.limit = 1000;
  host.store().read([&](store::Tx& tx) {
    run = billing::billing_run_json(tx, host.tenant_id(), start->id, page);
  });
  if (json) {
    std::cout << run.toStyledString();
  } else {
    print_summary(run, host.store(), host.tenant_id());
  }
  return run["status"].asString() == "completed" ? 0 : 1;
}

}  // namespace psahost::cli
