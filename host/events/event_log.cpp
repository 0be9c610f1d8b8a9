#include "events/event_log.hpp"

#include "core/clock.hpp"

#include <psa/sdk.hpp>

#include <memory>

namespace psahost::events {
namespace {

std::string compact(const Json::Value& v) {
  return psa::json::write(v);
}

Json::Value parse(const std::string& text) {
  Json::Value v;
  std::string errors;
  if (!psa::json::reader().parse(text.data(), text.data() + text.size(), &v, &errors)) {
    throw store::StoreError("event payload is not JSON: " + errors);
  }
  return v;
}

}  // namespace

Json::Value Event::to_json() const {
  Json::Value v;
  v["seq"] = static_cast<Json::Int64>(seq);
  v["id"] = "evt_" + std::to_string(seq);
  v["type"] = type;
  v["tenant_id"] = tenant_id;
  v["object"]["type"] = object_type;
  v["object"]["id"] = object_id;
  v["ordering_key"] = ordering_key;
  v["actor"] = actor;
  v["created_at"] = created_at;
  v["data"] = payload;
  return v;
}

int64_t append(store::Tx& tx, const NewEvent& e) {
  tx.exec(
      "INSERT INTO events (tenant_id, type, object_type, object_id, ordering_key, payload, actor, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {e.tenant_id, e.type, e.object_type, e.object_id,
       e.ordering_key.empty() ? e.object_type + ":" + e.object_id : e.ordering_key,
       e.payload_json.empty() ? compact(e.payload) : e.payload_json, e.actor, now_rfc3339()});
  return tx.last_insert_id();
}

std::vector<Event> read_after(store::Tx& tx, int64_t after_seq, int64_t limit) {
  std::vector<Event> out;
  tx.each(
      "SELECT seq, tenant_id, type, object_type, object_id, ordering_key, payload, actor, "
      "created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
      {after_seq, limit}, [&](const store::Row& r) {
        out.push_back(Event{r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5),
                            parse(r.text(6)), r.text(7), r.text(8)});
      });
  return out;
}

std::optional<Event> read_one(store::Tx& tx, int64_t seq) {
  auto events = read_after(tx, seq - 1, 1);
  if (events.empty() || events.front().seq != seq) return std::nullopt;
  return std::move(events.front());
}

int64_t last_seq(store::Tx& tx) {
  auto row = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM events");
  return row ? row->integer(0) : 0;
}

}  // namespace psahost::events
