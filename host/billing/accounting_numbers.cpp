#include "billing/accounting_numbers.hpp"

#include "webhooks/connections.hpp"

#include <algorithm>

namespace psahost::billing {

std::vector<AccountingReport> ask_accounting_last_numbers(const plugins::PluginRegistry& registry,
                                                          store::Store& store,
                                                          const std::string& tenant_id) {
  constexpr const char* kCommand = "last_invoice_number";
  std::vector<AccountingReport> out;
  auto connectors = registry.all_enabled();
  std::sort(connectors.begin(), connectors.end(),
            [](const auto& a, const auto& b) { return a->id() < b->id(); });
  std::vector<webhooks::Connection> connections;
  store.read(
      [&](store::Tx& tx) { connections = webhooks::tenant_connections(tx, tenant_id, true); });
  for (const auto& plugin : connectors) {
    const auto& m = plugin->manifest();
    if (m.kind != "connector" || !registry.acts_for(tenant_id, m.id) ||
        std::find(m.hooks.commands.begin(), m.hooks.commands.end(), kCommand) ==
            m.hooks.commands.end()) {
      continue;
    }
    for (const auto& connection : connections) {
      if (connection.connector != m.id) continue;
      Json::Value request;
      request["tenant_id"] = tenant_id;
      request["connection"] = webhooks::connection_json(connection);
      AccountingReport report;
      report.plugin_id = m.id;
      report.connection = connection.name;
      report.system = m.id;
      const auto answer = plugin->call(std::string("command.") + kCommand, request);
      const bool shaped =
          answer.body.isObject() && answer.body.isMember("last_number") &&
          (answer.body["last_number"].isNull() || (answer.body["last_number"].isString() &&
                                                   !answer.body["last_number"].asString().empty()));
      if (!answer.ok()) {
        report.error = answer.error_message();
      } else if (!shaped) {
        report.error = "the answer has no last_number (a non-empty string or null)";
      } else {
        if (answer.body["system"].isString() && !answer.body["system"].asString().empty()) {
          report.system = answer.body["system"].asString();
        }
        if (answer.body["last_number"].isString()) {
          report.last_number = answer.body["last_number"].asString();
        }
      }
      out.push_back(std::move(report));
    }
  }
  return out;
}

}  // namespace psahost::billing
