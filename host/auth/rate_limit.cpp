#include "auth/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace psahost::auth {

std::optional<std::chrono::seconds> TenantRateLimit::admit(std::string_view tenant_id,
                                                           Clock::time_point now) {
  if (rate_ <= 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(std::string(tenant_id));
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst_;
    b.at = now;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
    b.at = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / rate_;
  return std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait))));
}

}  // namespace psahost::auth
