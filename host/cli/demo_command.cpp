// psahost demo seed: a sample partner in the seed's situation — existing clients, some without
// billing information, services assigned but no contracts, tickets with time registered. Made
// through the feature modules, as the API would make it, so its rows, events and audit trail
// are what real use leaves behind.
#include "auth/tokens.hpp"
#include "catalog/catalog.hpp"
#include "cli/options.hpp"
#include "clients/clients.hpp"
#include "tickets/tickets.hpp"

#include <iostream>
#include <stdexcept>

namespace psahost::cli {
namespace {

struct SampleClient {
  const char* name;
  const char* country;
  const char* city;
  const char* zip;
  const char* vat;
  const char* currency;
  const char* tax;
  int billing;  // 2 complete, 1 partial, 0 none
};

// Names are invented; VAT numbers only have the right shape.
constexpr SampleClient kClients[] = {
    {"Contoso Utrecht", "NL", "Utrecht", "3511AA", "NL123456789B01", "EUR", "21.00", 2},
    {"Fabrikam Logistics", "NL", "Rotterdam", "3011AB", "NL987654321B02", "EUR", "21.00", 2},
    {"Northwind Dental", "NL", "Amersfoort", "3811CD", "", "EUR", "21.00", 1},
    {"Tailspin Architects", "DE", "Berlin", "10115", "DE123456789", "EUR", "19.00", 2},
    {"Wide World Importers", "DE", "Hamburg", "20095", "DE987654321", "EUR", "19.00", 0},
    {"Adventure Works Cycles", "BE", "Gent", "9000", "BE0123456789", "EUR", "21.00", 2},
    {"Proseware Accountancy", "BE", "Antwerpen", "2000", "", "EUR", "21.00", 0},
    {"Litware Legal", "FR", "Lyon", "69001", "FR12345678901", "EUR", "20.00", 2},
    {"Lucerne Publishing", "FR", "Paris", "75001", "", "EUR", "20.00", 1},
    {"Margie's Travel", "GB", "Leeds", "LS1 4AP", "GB123456789", "GBP", "20.00", 2},
    {"Trey Research", "GB", "Bristol", "BS1 5TR", "", "GBP", "20.00", 0},
    {"Alpine Ski House", "AT", "Innsbruck", "6020", "ATU12345678", "EUR", "20.00", 2},
    {"Coho Winery", "NL", "Maastricht", "6211AB", "NL111222333B01", "EUR", "21.00", 2},
    {"Blue Yonder Airlines", "NL", "Haarlemmermeer", "2132LS", "", "EUR", "21.00", 0},
    {"City Power & Light", "NL", "Arnhem", "6811AA", "NL444555666B01", "EUR", "21.00", 2},
    {"Consolidated Messenger", "DE", "Koeln", "50667", "", "EUR", "19.00", 1},
    {"Graphic Design Institute", "NL", "Eindhoven", "5611AB", "NL777888999B01", "EUR", "21.00", 2},
    {"Humongous Insurance", "NL", "Den Haag", "2511AA", "", "EUR", "21.00", 0},
    {"School of Fine Art", "BE", "Brugge", "8000", "BE0987654321", "EUR", "21.00", 2},
    {"Southridge Video", "NL", "Groningen", "9711AA", "NL121212121B01", "EUR", "21.00", 2},
    {"VanArsdel Bakery", "NL", "Zwolle", "8011AA", "", "EUR", "9.00", 1},
    {"WingTip Toys", "NL", "Breda", "4811AA", "NL343434343B01", "EUR", "21.00", 2},
    {"Woodgrove Bank Branch", "DE", "Frankfurt am Main", "60311", "DE555666777", "EUR", "19.00", 2},
    {"A. Datum Clinic", "NL", "Leiden", "2311AA", "", "EUR", "21.00", 0},
    {"Best For You Organics", "NL", "Nijmegen", "6511AA", "NL565656565B01", "EUR", "9.00", 2},
    {"Bellows College", "GB", "Oxford", "OX1 2JD", "", "GBP", "20.00", 0},
    {"Fourth Coffee", "NL", "Delft", "2611AA", "NL787878787B01", "EUR", "21.00", 2},
    {"Relecloud Studios", "NL", "Hilversum", "1211AA", "", "EUR", "21.00", 1},
    {"Munson's Pickles", "NL", "Alkmaar", "1811AA", "NL909090909B01", "EUR", "9.00", 2},
    {"Liberty's Delightful Sinful", "BE", "Leuven", "3000", "", "EUR", "21.00", 0},
};

struct SampleProduct {
  const char* sku;
  const char* name;
  const char* unit;
  const char* part_type;
  const char* pricing;
  int64_t eur;
  int64_t gbp;  // 0 = no GBP price: such parts will need one before activation
  bool labour;
};

constexpr SampleProduct kProducts[] = {
    {"CP-BACKUP-WS", "Backup, workstation", "workstation", "default", "per_unit", 450, 400, false},
    {"CP-BACKUP-SRV", "Backup, server", "server", "default", "per_unit", 2900, 2500, false},
    {"RMM-AGENT", "Monitoring agent", "device", "managed_service", "per_unit", 300, 0, false},
    {"M365-BP", "Microsoft 365 Business Premium", "user", "ict_services", "per_unit", 2060, 1800,
     false},
    {"EDR", "Endpoint protection", "device", "managed_service", "per_unit", 350, 300, false},
    {"LABOUR", "Remote support", "hour", "default", "per_hour", 9000, 8000, true},
};

Json::Value billing_document(const SampleClient& c, int index) {
  Json::Value b;
  b["business_name"] = c.name;
  if (c.billing == 2) {
    b["legal_form"] = c.country == std::string("DE") ? "GmbH" : "BV";
    b["email"] = "billing" + std::to_string(index) + "@client.example";
    b["debtor_code"] = "D-" + std::to_string(1000 + index);
    if (*c.vat) b["vat_number"] = c.vat;
    b["address"]["street"] = "Stationsplein";
    b["address"]["number"] = std::to_string(1 + index);
    b["address"]["city"] = c.city;
    b["address"]["zip"] = c.zip;
    b["address"]["country"] = c.country;
    b["currency"] = c.currency;
    b["tax_rate"] = c.tax;
    b["payment_terms_days"] = index % 3 == 0 ? 14 : 30;
    b["invoice_delivery"] = "email";
    b["roundup_minutes"] = index % 4 == 0 ? 15 : 10;
  } else {
    // Partial: what a partner typed in before being interrupted.
    b["email"] = "info" + std::to_string(index) + "@client.example";
    b["address"]["city"] = c.city;
    b["address"]["country"] = c.country;
  }
  return b;
}

// The sample data breaking a rule is a bug in it, not something a user can fix.
template <class T>
T checked(domain::Result<T> r, const std::string& what) {
  if (!r) {
    const auto& why = r.refusal();
    std::string detail = why.detail;
    for (const auto& f : why.fields)
      detail += (detail.empty() ? "" : "; ") + f.field + " " + f.message;
    throw std::logic_error("sample " + what + " refused (" + why.slug + "): " + detail);
  }
  return std::move(*r);
}

}  // namespace

int cmd_demo(const std::vector<std::string>& args) {
  po::options_description options = common_options();
  options.add_options()("action", po::value<std::string>(), "seed")(
      "tenant", po::value<std::string>()->default_value("default"), "tenant to fill");
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse("demo", options, args, &positional);
  if (vm.count("help") || !vm.count("action")) {
    print_help("Usage: psahost demo seed [--data-dir DIR] [--tenant NAME]", options);
    return vm.count("help") ? 0 : 2;
  }
  if (vm["action"].as<std::string>() != "seed") {
    throw UsageError("unknown action '" + vm["action"].as<std::string>() + "': expected seed");
  }
  Logger log(LogLevel::error);
  auto store = open_store(vm, log, DataDirUse::create);
  auth::Tokens tokens(*store);
  const std::string tenant = tokens.ensure_tenant(vm["tenant"].as<std::string>());
  int clients = 0, complete = 0, tickets = 0, entries = 0;
  const auth::Principal who{tenant, vm["tenant"].as<std::string>(), auth::Role::admin, "demo"};
  store->write([&](store::Tx& tx) {
    if (tx.query_one("SELECT 1 FROM clients WHERE tenant_id = ? LIMIT 1", {tenant})) {
      throw UsageError("tenant '" + vm["tenant"].as<std::string>() +
                       "' already has clients; seed a fresh data directory or another --tenant");
    }
    std::vector<catalog::Product> products;
    for (const auto& p : kProducts) {
      Json::Value prices;
      prices["EUR"] = static_cast<Json::Int64>(p.eur);
      if (p.gbp) prices["GBP"] = static_cast<Json::Int64>(p.gbp);
      products.push_back({p.sku, p.name, p.unit, p.part_type, p.pricing, prices, p.labour});
    }
    checked(catalog::upsert_products(tx, who, products), "catalog");
    int index = 0;
    for (const auto& c : kClients) {
      ++index;
      clients::ClientChange change;
      change.name = c.name;
      change.self_managed_profile = index % 5 == 0;
      const std::string id =
          checked(clients::create_client(tx, who, change), c.name)["id"].asString();
      ++clients;
      if (c.billing > 0) {
        auto parsed = domain::parse_billing_info(billing_document(c, index));
        if (!parsed.info) {
          throw std::logic_error(std::string("sample billing info of ") + c.name + " is invalid: " +
                                 parsed.errors.front().field + " " + parsed.errors.front().message);
        }
        checked(clients::put_billing_info(tx, who, id, *parsed.info), c.name);
        if (parsed.info->is_complete()) ++complete;
      }
      // Most clients already use services; a few are prospects of services to come.
      if (index % 7 != 0) {
        const int64_t seats = 3 + (index * 7) % 40;
        std::vector<clients::ServiceAssignment> services = {{"CP-BACKUP-WS", seats, "2026-01-01"},
                                                            {"RMM-AGENT", seats + 2, "2026-01-01"},
                                                            {"EDR", seats, "2026-01-01"}};
        services.resize(services.size() - (index % 2));
        if (index % 3 == 0) services.push_back({"CP-BACKUP-SRV", 1 + index % 3, "2026-03-01"});
        checked(clients::assign_services(tx, who, id, services), c.name);
      }
      if (index % 2 == 1) {
        const auto ticket = checked(
            tickets::open_ticket(tx, who, id, index % 4 == 1 ? "Printer offline" : "VPN drops"),
            c.name);
        ++tickets;
        for (int minutes : {7, 21 + index, 36}) {
          checked(tickets::register_time(
                      tx, who, ticket.id,
                      {minutes, index % 3 ? "alice" : "bob", true, "", "", "2026-11-20"}),
                  c.name);
          ++entries;
        }
      }
    }
  });
  std::cout << "Seeded tenant '" << vm["tenant"].as<std::string>() << "': " << clients
            << " clients (" << complete << " with complete billing info), " << std::size(kProducts)
            << " products, " << tickets << " tickets, " << entries
            << " time entries awaiting approval.\n"
            << "See GET /v1/onboarding or `psahost onboarding status`.\n";
  return 0;
}

}  // namespace psahost::cli
