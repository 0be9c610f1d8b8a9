// What the REST API refuses to read: bodies that are not strict JSON with valid Unicode, nesting
// past the limit, a limit that is not digits, and an unbounded external_ids object. Each is a
// 400 or 422 and stores nothing.
#include "support/api_session.hpp"

#include <catch2/catch.hpp>

using namespace psahost::test;

TEST_CASE("the REST API refuses bodies that are not strict JSON with valid Unicode",
          "[http][json]") {
  ApiSession api;
  for (const std::string& body : {
           std::string("{\"name\":\"Bad \xC3\x28\",\"type\":\"customer\"}"),  // invalid UTF-8
           std::string("{\"name\":\"\xED\xA0\x80\",\"type\":\"customer\"}"),  // raw surrogate
           std::string(R"({"name":"\ud800","type":"customer"})"),             // lone high
           std::string(R"({"name":"\udc00x","type":"customer"})"),            // lone low
           std::string(R"({"name":"A", /* c */ "type":"customer"})"),         // a comment
           std::string(R"({"name":"A","type":"customer",})"),                 // trailing comma
           std::string(R"({"name":"A","type":"customer"} x)"),                // trailing text
       }) {
    INFO(body);
    const auto r = api.post("/v1/clients", body);
    CHECK(r.status == 400);
    CHECK(r.body.find("malformed-json") != std::string::npos);
  }
  // Nested past the limit: 400, not a 500 from the parser's stack guard.
  std::string deep = R"({"name":"A","type":"customer","x":)";
  deep += std::string(5000, '[') + std::string(5000, ']') + "}";
  const auto nested = api.post("/v1/clients", deep);
  CHECK(nested.status == 400);
  CHECK(nested.body.find("levels deep") != std::string::npos);
  CHECK(api.get("/v1/clients").json()["items"].empty());

  // A pair of escapes is a character like any other.
  const auto ok = api.post("/v1/clients", R"({"name":"Caf\u00e9 \ud83d\ude00","type":"customer"})");
  REQUIRE(ok.status == 201);
  CHECK(ok.json()["name"].asString() == "Caf\xC3\xA9 \xF0\x9F\x98\x80");
}

TEST_CASE("a page limit must be digits: 1e3 is refused, not read as 1", "[http][json]") {
  ApiSession api;
  for (const char* limit : {"1e3", "10abc", "-1", "0", "1001", "+5", "0x10"}) {
    INFO(limit);
    CHECK(api.get(std::string("/v1/clients?limit=") + limit).status == 422);
    CHECK(api.get(std::string("/v1/contracts?limit=") + limit).status == 422);
  }
  CHECK(api.get("/v1/clients?limit=1000").status == 200);
}

TEST_CASE("a client takes a bounded number of external ids", "[http][json]") {
  ApiSession api;
  std::string many = R"({"name":"Many","type":"customer","external_ids":{)";
  for (int i = 0; i < 51; ++i) many += (i ? "," : "") + ("\"c" + std::to_string(i) + "\":\"1\"");
  many += "}}";
  const auto r = api.post("/v1/clients", many);
  CHECK(r.status == 422);
  CHECK(r.body.find("external_ids") != std::string::npos);
  std::string fifty = R"({"name":"Fifty","type":"customer","external_ids":{)";
  for (int i = 0; i < 50; ++i) fifty += (i ? "," : "") + ("\"c" + std::to_string(i) + "\":\"1\"");
  fifty += "}}";
  CHECK(api.post("/v1/clients", fifty).status == 201);
}
