// The durable domain event log: every state change appends one event in the same transaction
// as the change, so an event exists exactly when its change was committed.
#pragma once

#include "store/store.hpp"

#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psahost::events {

struct NewEvent {
  std::string tenant_id;
  std::string type;         // "client.upserted", "time_entry.approved", ...
  std::string object_type;  // "client", "time_entry", ...
  std::string object_id;
  Json::Value payload;  // the object after the change (and what changed)
  std::string actor;    // token id, plugin id or "system"
  // Receivers apply changes per ordering key in order; defaults to object_type:object_id.
  std::string ordering_key;
  // The payload as compact JSON text, used instead of payload when set: for a document written
  // without building a Json::Value (an invoice with its lines, once per invoice of a run).
  std::string payload_json{};
};

struct Event {
  int64_t seq = 0;
  std::string tenant_id;
  std::string type;
  std::string object_type;
  std::string object_id;
  std::string ordering_key;
  Json::Value payload;
  std::string actor;
  std::string created_at;

  // {"seq","id","type","tenant_id","object":{"type","id"},"ordering_key","actor","created_at","data"}
  Json::Value to_json() const;
};

// Appends inside the caller's write transaction; returns the event's sequence number.
int64_t append(store::Tx& tx, const NewEvent& event);

// Events after seq (exclusive), oldest first, at most limit.
std::vector<Event> read_after(store::Tx& tx, int64_t after_seq, int64_t limit);

// One event by its sequence number.
std::optional<Event> read_one(store::Tx& tx, int64_t seq);

// The newest sequence number, 0 when the log is empty.
int64_t last_seq(store::Tx& tx);

}  // namespace psahost::events
