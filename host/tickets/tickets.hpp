// Tickets and the time registered on them: the only code that writes tickets, ticket_responses
// and new time entries. Never gated by billing information; approving time is host/approval/'s.
// A refusal is given before anything is written.
#pragma once

#include "auth/tokens.hpp"
#include "domain/refusal.hpp"
#include "store/store.hpp"
#include "tickets/time_entry.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psahost::tickets {

struct Ticket {
  std::string id, client_id, subject, status, created_at, updated_at;
  Json::Value to_json() const;
};

std::optional<Ticket> load_ticket(store::Tx& tx, const std::string& tenant_id,
                                  const std::string& id);

// A new ticket for one of the tenant's clients, with a ticket.created event.
domain::Result<Ticket> open_ticket(store::Tx& tx, const auth::Principal& who,
                                   const std::string& client_id, const std::string& subject);

// Moves a ticket to status and records event_type with the ticket (and extra as "response");
// a closed ticket moves nowhere but closed. Returns the event's payload.
domain::Result<Json::Value> move_ticket(store::Tx& tx, const auth::Principal& who,
                                        const std::string& id, const std::string& status,
                                        const std::string& event_type,
                                        const Json::Value& extra = Json::nullValue);

// A response on a ticket by author; the ticket becomes "responded".
domain::Result<Json::Value> add_response(store::Tx& tx, const auth::Principal& who,
                                         const std::string& id, const std::string& text,
                                         const std::string& author);

struct NewTimeEntry {
  int64_t minutes = 0;
  std::string technician;
  bool billable = true;
  std::string work_type, note;
  std::string work_date;  // YYYY-MM-DD
};

// Reads {"minutes","technician","billable","work_type","note","work_date"} (work_date defaults to
// today, UTC); refused as invalid naming each member that is wrong or not known.
domain::Result<NewTimeEntry> read_new_time_entry(const Json::Value& body);

// Time on a ticket, submitted for approval, with a time_entry.submitted event.
domain::Result<TimeEntry> register_time(store::Tx& tx, const auth::Principal& who,
                                        const std::string& ticket_id, const NewTimeEntry& entry);

// A ticket's entries in the order they were registered; not found for another tenant's ticket.
domain::Result<std::vector<TimeEntry>> ticket_time(store::Tx& tx, const std::string& tenant_id,
                                                   const std::string& ticket_id);

}  // namespace psahost::tickets
