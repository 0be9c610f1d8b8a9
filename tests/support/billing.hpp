// What the billing integration tests share: periods counted from today (UTC, as the host
// counts them), a client with an active contract, approved time, verified numbering, and a
// billing run started and waited for through the API.
#pragma once

#include "support/api_session.hpp"

#include <json/value.h>

#include <string>

namespace psahost::test {

// The month `months` from the current one, "YYYY-MM" (0: this month, -1: last month).
std::string period_from_now(int months);
// Day `day` of a period, "YYYY-MM-DD".
std::string day_of(const std::string& period, int day);

// The labour product (EUR 9000 an hour) time entries are priced at.
void put_labour_catalog(ApiSession& api);

// Creates a contract for client with the given members (JSON text without braces, e.g.
// "\"start_date\":\"2026-01-01\",\"parts\":[...]") and activates it; returns its id.
std::string active_contract(ApiSession& api, const std::string& client_id,
                            const std::string& members);

// Registers minutes on a new ticket of the client and approves them; returns the entry's id.
std::string approved_time(ApiSession& api, const std::string& client_id, int minutes);

// Verifies the numbering as it is (REQUIREs 200) and returns the document.
Json::Value verify_numbering(ApiSession& api, const std::string& body = "{}");

// Starts a run (REQUIREs 202), waits until it ended, and returns it with up to 1000 clients.
Json::Value run_billing(ApiSession& api, const std::string& period, bool dry_run = false);
// Waits until the run is neither queued nor running, and returns it with up to 1000 clients.
Json::Value wait_for_run(HttpsClient& client, const std::string& token, const std::string& id);

// The item of a run for a client (and entity), or null.
Json::Value run_item(const Json::Value& run, const std::string& client_id,
                     const std::string& billing_entity = "");

}  // namespace psahost::test
