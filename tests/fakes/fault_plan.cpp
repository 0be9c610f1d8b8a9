#include "fakes/fault_plan.hpp"

namespace psahost::test {

std::optional<http::Response> Fault::answer() const {
  switch (kind) {
    case Kind::no_answer:
      return std::nullopt;
    case Kind::garbage:
      return http::Response::text(200, "<html><body>Service temporarily unavailable", "text/html");
    case Kind::status:
      break;
  }
  http::Response r = http::Response::text(status, body, "application/json");
  return r;
}

void FaultPlan::add(Fault fault) {
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
}

std::optional<Fault> FaultPlan::take(const Received& r) {
  std::lock_guard lock(mutex_);
  for (auto& f : faults_) {
    if (f.times <= 0) continue;
    if (!f.method.empty() && f.method != r.method) continue;
    if (r.target.find(f.path_part) == std::string::npos) continue;
    if (f.skip > 0) {
      --f.skip;
      continue;
    }
    --f.times;
    return f;
  }
  return std::nullopt;
}

void FaultPlan::clear() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

}  // namespace psahost::test
