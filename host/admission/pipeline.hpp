// The admission pipeline: before a guarded operation every enabled plugin that declared it is
// asked; any denial stops the operation. Errors and timeouts follow each plugin's failure_policy.
#pragma once

#include "domain/refusal.hpp"
#include "plugins/registry.hpp"

#include <json/value.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace psahost {
class Logger;
}

namespace psahost::admission {

struct Review {
  std::string uid;
  std::string tenant_id;
  std::string operation;  // one of plugins::kAdmissionOperations
  Json::Value object;
  Json::Value old_object;
  Json::Value user;
};

struct Verdict {
  bool allowed = true;
  std::string type;    // stable slug of the refusal ("billing-info-required")
  std::string reason;  // for people
  Json::Value prompt;  // the next action offered, or null
  std::vector<std::string> warnings;
  std::string decided_by;  // plugin id that denied

  // {"uid","allowed","reason","prompt","warnings"} as the platform's review endpoint answers.
  Json::Value to_json(const std::string& uid) const;
  // A denial as a feature returns it: refused, the plugin's slug (admission-denied when it gave
  // none), its reason and prompt, and "decided_by" among the extra members.
  domain::Refusal to_refusal() const;
};

class Pipeline {
 public:
  Pipeline(const plugins::PluginRegistry& plugins, Logger& log) : plugins_(plugins), log_(log) {}

  Verdict review(const Review& review) const;
  // The same, without waiting: each reviewer is asked once the one before has allowed, and done
  // runs once with the verdict, on whichever thread answered last (a plugin's pool thread, its
  // runner's reader, a deadline's timer) or on this one. done must not block.
  void review_async(const Review& review, std::function<void(Verdict)> done) const;
  // Every review at once, their plugin calls overlapping rather than queueing one behind
  // another; the verdicts in the order of reviews.
  std::vector<Verdict> review_all(const std::vector<Review>& reviews) const;

 private:
  struct Run;
  static Json::Value request_of(const Review& review);
  // Weighs one reviewer's answer into verdict; true when that settles it (a denial).
  bool weigh(const Review& review, const plugins::Plugin& plugin, const plugins::HookResult& result,
             std::chrono::steady_clock::duration elapsed, Verdict& verdict) const;
  void next(const std::shared_ptr<Run>& run) const;

  const plugins::PluginRegistry& plugins_;
  Logger& log_;
};

}  // namespace psahost::admission
