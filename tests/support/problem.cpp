#include "support/problem.hpp"

#include <catch2/catch.hpp>

namespace psahost::test {

std::string urn(const std::string& slug) {
  return "urn:psahost:problem:" + slug;
}

void require_problem(const HttpResponse& r, int status, const std::string& slug) {
  INFO(r.body);
  REQUIRE(r.status == status);
  CHECK(r.header("content-type") == "application/problem+json");
  CHECK(r.json()["type"].asString() == urn(slug));
}

bool names_field(const HttpResponse& r, const std::string& field) {
  const Json::Value problem = r.json();  // kept: the loop below reads into it
  for (const auto& e : problem["errors"]) {
    if (e["field"].asString() == field) return true;
  }
  return false;
}

}  // namespace psahost::test
