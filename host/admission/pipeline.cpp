#include "admission/pipeline.hpp"

#include "core/log.hpp"
#include "http/message.hpp"

#include <psa/sdk.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

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

domain::Refusal Verdict::to_refusal() const {
  auto r = domain::Refusal::make(domain::RefusalKind::refused,
                                 type.empty() ? "admission-denied" : type, reason);
  r.prompt = prompt;
  r.extra["decided_by"] = decided_by;
  return r;
}

Json::Value Pipeline::request_of(const Review& review) {
  Json::Value request;
  request["uid"] = review.uid;
  request["tenant_id"] = review.tenant_id;
  request["operation"] = review.operation;
  request["object"] = review.object;
  request["old_object"] = review.old_object;
  request["user"] = review.user;
  return request;
}

bool Pipeline::weigh(const Review& review, const plugins::Plugin& plugin,
                     const plugins::HookResult& result, std::chrono::steady_clock::duration elapsed,
                     Verdict& verdict) const {
  const auto& m = plugin.manifest();
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
      return false;
    }
    log_.error("admission review failed; denied by fail_closed policy", f);
    verdict.allowed = false;
    verdict.type = "admission-review-failed";
    verdict.reason =
        "The " + m.id + " plugin could not review " + review.operation + ": " + failure + ".";
    verdict.decided_by = m.id;
    return true;
  }

  for (const auto& w : result.body["warnings"]) verdict.warnings.push_back(w.asString());
  if (!result.body["allowed"].asBool()) {
    verdict.allowed = false;
    verdict.type = result.body.get("type", "admission-denied").asString();
    verdict.reason = result.body["reason"].asString();
    verdict.prompt = result.body["prompt"];
    verdict.decided_by = m.id;
    return true;
  }
  return false;
}

Verdict Pipeline::review(const Review& review) const {
  const Json::Value request = request_of(review);
  Verdict verdict;
  for (const auto& plugin : plugins_.reviewers_of(review.operation)) {
    if (!plugins_.acts_for(review.tenant_id, plugin->id())) continue;  // the tenant's own switch
    const auto started = std::chrono::steady_clock::now();
    const auto result = plugin->call("admission.review", request);
    if (weigh(review, *plugin, result, std::chrono::steady_clock::now() - started, verdict)) {
      break;
    }
  }
  return verdict;
}

struct Pipeline::Run {
  Review review;
  std::string request;  // the hook document, written once for every reviewer
  std::vector<std::shared_ptr<plugins::Plugin>> reviewers;
  std::size_t next = 0;
  Verdict verdict;
  std::function<void(Verdict)> done;
};

void Pipeline::review_async(const Review& review, std::function<void(Verdict)> done) const {
  auto run = std::make_shared<Run>();
  run->review = review;
  run->request = psa::json::write(request_of(review));
  run->reviewers = plugins_.reviewers_of(review.operation);
  run->done = std::move(done);
  next(run);
}

void Pipeline::next(const std::shared_ptr<Run>& run) const {
  while (run->next < run->reviewers.size()) {
    auto plugin = run->reviewers[run->next++];
    if (!plugins_.acts_for(run->review.tenant_id, plugin->id())) continue;
    const auto started = std::chrono::steady_clock::now();
    plugin->call_async("admission.review", run->request,
                       [this, run, plugin, started](plugins::HookResult result) {
                         const auto elapsed = std::chrono::steady_clock::now() - started;
                         if (weigh(run->review, *plugin, result, elapsed, run->verdict)) {
                           run->done(std::move(run->verdict));
                         } else {
                           next(run);
                         }
                       });
    return;
  }
  run->done(std::move(run->verdict));
}

std::vector<Verdict> Pipeline::review_all(const std::vector<Review>& reviews) const {
  // A few at a time: enough that a pool thread finds the next review waiting when it ends one
  // (no wake-up in between), few enough that none waits long in the queue, since its deadline
  // runs from when it was asked.
  constexpr std::size_t kInFlight = 8;
  struct Wait {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Verdict> verdicts;
    std::size_t next = 0;                 // the next review to ask
    std::size_t left = 0;                 // not answered yet
    std::vector<std::size_t> for_caller;  // to ask, left to the caller's thread
  };
  auto wait = std::make_shared<Wait>();
  wait->verdicts.resize(reviews.size());
  wait->left = reviews.size();
  const auto caller = std::this_thread::get_id();
  // Asks review i; its answer asks the next one not asked yet, on the thread that answered, or,
  // when that is this thread (an answer given at once), from the loop below rather than deeper
  // in the stack. reviews outlives every answer: this returns only once all are in.
  std::function<void(std::size_t)> ask = [&](std::size_t i) {
    review_async(reviews[i], [&ask, wait, i, caller](Verdict v) {
      std::optional<std::size_t> following;
      bool here = false;
      {
        std::lock_guard lock(wait->mutex);
        wait->verdicts[i] = std::move(v);
        if (wait->next < wait->verdicts.size()) {
          following = wait->next++;
          here = std::this_thread::get_id() == caller;
          if (here) wait->for_caller.push_back(*following);
        }
        --wait->left;
        wait->changed.notify_all();
      }
      if (following && !here) ask(*following);
    });
  };
  {
    const plugins::HookPool::Burst burst;  // the pool is woken once for the first few
    std::vector<std::size_t> first;
    {
      std::lock_guard lock(wait->mutex);
      while (wait->next < reviews.size() && wait->next < kInFlight) first.push_back(wait->next++);
    }
    for (const auto i : first) ask(i);
  }
  // Every review is answered by its plugins' deadlines, so this loop ends.
  std::unique_lock lock(wait->mutex);
  for (;;) {
    wait->changed.wait(lock, [&] { return wait->left == 0 || !wait->for_caller.empty(); });
    if (wait->for_caller.empty()) break;
    const auto mine = std::move(wait->for_caller);
    wait->for_caller.clear();
    lock.unlock();
    for (const auto i : mine) ask(i);
    lock.lock();
  }
  return std::move(wait->verdicts);
}

}  // namespace psahost::admission
