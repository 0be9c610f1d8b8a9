// Requests a tenant may make: a token bucket per tenant (rate per second, burst), so one
// tenant's flood is answered 429 with Retry-After while every other tenant is served as before.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace psahost::auth {

class TenantRateLimit {
 public:
  using Clock = std::chrono::steady_clock;
  // rate 0 = no limit.
  TenantRateLimit(double per_second, double burst) : rate_(per_second), burst_(burst) {}

  // nullopt when the request may go on (and is counted); otherwise how long the tenant should
  // wait before its next request is admitted (whole seconds, at least 1).
  std::optional<std::chrono::seconds> admit(std::string_view tenant_id,
                                            Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point at;
  };
  const double rate_;
  const double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace psahost::auth
