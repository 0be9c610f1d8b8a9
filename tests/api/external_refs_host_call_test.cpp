// The external_refs.find host call: a connector reads the links its own changes made, in both
// directions, and never another system's.
#include "api/host_services.hpp"
#include "core/log.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace psahost;

namespace {

struct Refs {
  test::TempDir dir;
  Logger log{LogLevel::error};
  std::unique_ptr<store::Store> store = store::Store::open_sqlite({dir.path() / "db"}, log);
  plugins::HostCalls calls;

  Refs() {
    api::register_host_services(calls, *store);
    store->write([](store::Tx& tx) {
      for (const auto& [system, type, external, object] :
           std::vector<std::array<std::string, 4>>{{"connectwise", "time_entry", "901", "te_1"},
                                                   {"autotask", "time_entry", "77", "te_1"},
                                                   {"connectwise", "ticket", "55", "tkt_1"}}) {
        tx.exec(
            "INSERT INTO external_refs (tenant_id, system, object_type, external_id, object_id, "
            "created_at) VALUES ('ten_1', ?, ?, ?, ?, '2026-01-01T00:00:00Z')",
            {system, type, external, object});
      }
    });
  }

  plugins::CallResult find(const std::string& caller, const Json::Value& request) {
    const auto* entry = calls.find("external_refs.find");
    REQUIRE(entry);
    CHECK(entry->permission.empty());
    return entry->fn(plugins::CallerInfo{caller}, request);
  }
};

Json::Value by_object(const std::string& type, const std::string& id) {
  Json::Value r;
  r["tenant_id"] = "ten_1";
  r["object_type"] = type;
  r["object_id"] = id;
  return r;
}

Json::Value by_external(const std::string& type, const std::string& id) {
  Json::Value r;
  r["tenant_id"] = "ten_1";
  r["object_type"] = type;
  r["external_id"] = id;
  return r;
}

}  // namespace

TEST_CASE("external_refs.find answers a connector with the ids of its own system only",
          "[host-calls]") {
  Refs refs;
  auto r = refs.find("connectwise", by_object("time_entry", "te_1"));
  REQUIRE(r.code == PSA_OK);
  CHECK(r.body["external_id"].asString() == "901");
  r = refs.find("autotask", by_object("time_entry", "te_1"));
  CHECK(r.body["external_id"].asString() == "77");

  r = refs.find("connectwise", by_external("ticket", "55"));
  REQUIRE(r.code == PSA_OK);
  CHECK(r.body["object_id"].asString() == "tkt_1");
  // The same external id in another system, or another tenant, is not a link of this caller's.
  CHECK(refs.find("autotask", by_external("ticket", "55")).body["object_id"].isNull());
  auto other_tenant = by_external("ticket", "55");
  other_tenant["tenant_id"] = "ten_2";
  CHECK(refs.find("connectwise", other_tenant).body["object_id"].isNull());
  CHECK(refs.find("xero", by_object("time_entry", "te_1")).body["external_id"].isNull());
}

TEST_CASE("external_refs.find needs a tenant, a type and exactly one of the two ids",
          "[host-calls]") {
  Refs refs;
  auto both = by_object("ticket", "tkt_1");
  both["external_id"] = "55";
  CHECK(refs.find("connectwise", both).code == PSA_INVALID_ARGUMENT);
  Json::Value none;
  none["tenant_id"] = "ten_1";
  none["object_type"] = "ticket";
  CHECK(refs.find("connectwise", none).code == PSA_INVALID_ARGUMENT);
  auto no_type = by_object("ticket", "tkt_1");
  no_type.removeMember("object_type");
  CHECK(refs.find("connectwise", no_type).code == PSA_INVALID_ARGUMENT);
}
