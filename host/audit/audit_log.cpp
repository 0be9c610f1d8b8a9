#include "audit/audit_log.hpp"

#include "core/clock.hpp"
#include "store/json_column.hpp"

namespace psahost::audit {

void record(store::Tx& tx, const Change& c) {
  const auto text = [](const std::optional<std::string>& v) {
    return v ? store::Value(*v) : store::Value(nullptr);
  };
  tx.exec(
      "INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, before, after, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {c.tenant_id, c.actor, c.action, c.object_type, c.object_id, text(c.before), text(c.after),
       c.at.empty() ? now_rfc3339() : c.at});
}

std::optional<std::string> json(const Json::Value& v) {
  if (v.isNull()) return std::nullopt;
  return store::to_text(v);
}

}  // namespace psahost::audit
