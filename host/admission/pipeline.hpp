// The admission pipeline: before a guarded operation every enabled plugin that declared it is
// asked; any denial stops the operation. Errors and timeouts follow each plugin's failure_policy.
#pragma once

#include "domain/refusal.hpp"
#include "plugins/registry.hpp"

#include <json/value.h>

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
  // A denial as a feature returns it: refused, with the plugin's type (or "admission-denied"),
  // reason, prompt and "decided_by".
  domain::Refusal refusal() const;
};

class Pipeline {
 public:
  Pipeline(const plugins::PluginRegistry& plugins, Logger& log) : plugins_(plugins), log_(log) {}

  Verdict review(const Review& review) const;

 private:
  const plugins::PluginRegistry& plugins_;
  Logger& log_;
};

}  // namespace psahost::admission
