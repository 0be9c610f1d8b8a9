#include "admission/pipeline.hpp"

#include "core/log.hpp"
#include "http/message.hpp"

#include <chrono>

namespace psahost::admission {

Json::Value Verdict::to_json(const std::string& uid) const {
  Json::Value out;
  out["uid"] = uid;
  out["allowed"] = allowed;
  if (!allowed) {
    out["type"] = std::string(http::kProblemTypePrefix) + type;
    out["reason"] = reason;
    if (!prompt.isNull()) out["prompt"] = prompt;
  }
  out["warnings"] = Json::Value(Json::arrayValue);
  for (const auto& w : warnings) out["warnings"].append(w);
  return out;
}

domain::Refusal Verdict::refusal() const {
  auto r = domain::Refusal::make(domain::RefusalKind::refused,
                                 type.empty() ? "admission-denied" : type, reason);
  r.prompt = prompt;
  r.extra["decided_by"] = decided_by;
  return r;
}

Verdict Pipeline::review(const Review& review) const {
  Json::Value request;
  request["uid"] = review.uid;
  request["tenant_id"] = review.tenant_id;
  request["operation"] = review.operation;
  request["object"] = review.object;
  request["old_object"] = review.old_object;
  request["user"] = review.user;

  Verdict verdict;
  for (const auto& plugin : plugins_.reviewers_of(review.operation)) {
    if (!plugins_.acts_for(review.tenant_id, plugin->id())) continue;  // the tenant's own switch
    const auto& m = plugin->manifest();
    const auto started = std::chrono::steady_clock::now();
    const auto result = plugin->call("admission.review", request);
    const auto elapsed = std::chrono::steady_clock::now() - started;

    // In-process hooks cannot be interrupted, so a late answer is discarded and treated as a
    // timeout: a verdict that came too late must not decide, whichever way it went.
    std::string failure;
    if (elapsed > std::chrono::milliseconds(m.timeout_ms)) {
      failure =
          "timed out after " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()) +
          " ms (limit " + std::to_string(m.timeout_ms) + " ms)";
    } else if (!result.ok()) {
      failure = result.error_message();
    } else if (!result.body.isObject() || !result.body["allowed"].isBool()) {
      failure = "answer has no boolean 'allowed'";
    }

    if (!failure.empty()) {
      Json::Value f;
      f["plugin"] = m.id;
      f["operation"] = review.operation;
      f["error"] = failure;
      f["failure_policy"] = m.failure_policy;
      if (m.failure_policy == "fail_open") {
        log_.warn("admission review failed; allowed by fail_open policy", f);
        verdict.warnings.push_back(m.id + " could not review (" + failure + "); allowed by policy");
        continue;
      }
      log_.error("admission review failed; denied by fail_closed policy", f);
      verdict.allowed = false;
      verdict.type = "admission-review-failed";
      verdict.reason =
          "The " + m.id + " plugin could not review " + review.operation + ": " + failure + ".";
      verdict.decided_by = m.id;
      return verdict;
    }

    for (const auto& w : result.body["warnings"]) verdict.warnings.push_back(w.asString());
    if (!result.body["allowed"].asBool()) {
      verdict.allowed = false;
      verdict.type = result.body.get("type", "admission-denied").asString();
      verdict.reason = result.body["reason"].asString();
      verdict.prompt = result.body["prompt"];
      verdict.decided_by = m.id;
      return verdict;
    }
  }
  return verdict;
}

}  // namespace psahost::admission
