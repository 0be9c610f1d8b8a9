// The per-tenant request budget: a burst, then the rate, with the wait a refused tenant is told;
// another tenant's budget is its own.
#include "auth/rate_limit.hpp"

#include <catch2/catch.hpp>

using psahost::auth::TenantRateLimit;
using namespace std::chrono_literals;

TEST_CASE("a tenant past its burst is told to wait, another tenant is not", "[auth][limits]") {
  TenantRateLimit limit(2, 3);
  const auto t0 = TenantRateLimit::Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limit.admit("a", t0));
  const auto wait = limit.admit("a", t0);
  REQUIRE(wait);
  CHECK(*wait == 1s);
  CHECK_FALSE(limit.admit("b", t0));
  // Half a second later one request's worth has come back, at 2 a second.
  CHECK_FALSE(limit.admit("a", t0 + 500ms));
  CHECK(limit.admit("a", t0 + 500ms));
  // Never more than the burst, however long the pause.
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limit.admit("a", t0 + 1h));
  CHECK(limit.admit("a", t0 + 1h));
}

TEST_CASE("a rate of 0 admits everything", "[auth][limits]") {
  TenantRateLimit limit(0, 1);
  for (int i = 0; i < 1000; ++i) REQUIRE_FALSE(limit.admit("a"));
}
