// The invoice-numbering plugin through its C ABI, as the host loads it: pattern rendering,
// counters with and without a yearly reset, settings checks and reading numbers back.
#include "core/log.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace psahost;

namespace {

class Numbering {
 public:
  Numbering()
      : log_(LogLevel::error),
        registry_({dir_.path() / "cache", false, {}},
                  plugins::PluginEnv{calls_, nullptr, log_, nullptr}) {
    REQUIRE(registry_.load(fs::path(PSAHOST_PLUGIN_DIR) / "invoice-numbering.json"));
    plugin_ = registry_.find("invoice-numbering");
    REQUIRE(plugin_);
  }

  plugins::HookResult call(const std::string& hook, const Json::Value& request) {
    return plugin_->call(hook, request);
  }

  // numbering.allocate for a series and counter on a date; fails the test if it refuses.
  Json::Value allocate(const std::string& pattern, const std::string& reset, int64_t next,
                       const Json::Value& year, const std::string& date,
                       const std::string& prefix = "INV-") {
    const auto r = call("numbering.allocate", request(pattern, reset, next, year, date, prefix));
    INFO(r.body.toStyledString());
    REQUIRE(r.ok());
    return r.body;
  }

  static Json::Value request(const std::string& pattern, const std::string& reset, int64_t next,
                             const Json::Value& year, const std::string& date,
                             const std::string& prefix = "INV-") {
    Json::Value req;
    req["tenant_id"] = "ten_1";
    req["series"]["billing_entity"] = "";
    req["series"]["prefix"] = prefix;
    req["series"]["pattern"] = pattern;
    req["series"]["reset"] = reset;
    req["counter"]["next"] = static_cast<Json::Int64>(next);
    req["counter"]["year"] = year;
    req["issue_date"] = date;
    return req;
  }

  Json::Value errors_of(const std::string& pattern, const std::string& reset, int64_t next,
                        const std::string& prefix = "INV-") {
    Json::Value req;
    req["settings"]["prefix"] = prefix;
    req["settings"]["pattern"] = pattern;
    req["settings"]["reset"] = reset;
    req["settings"]["next_number"] = static_cast<Json::Int64>(next);
    req["issue_date"] = "2026-11-03";
    const auto r = call("command.check_settings", req);
    REQUIRE(r.ok());
    return r.body["errors"];
  }

  Json::Value parse(const std::string& pattern, const std::string& number,
                    const std::string& prefix = "INV-") {
    Json::Value req;
    req["settings"]["prefix"] = prefix;
    req["settings"]["pattern"] = pattern;
    req["number"] = number;
    const auto r = call("command.parse_number", req);
    REQUIRE(r.ok());
    return r.body;
  }

 private:
  test::TempDir dir_;
  Logger log_;
  plugins::HostCalls calls_;
  plugins::PluginRegistry registry_;
  std::shared_ptr<plugins::Plugin> plugin_;
};

bool names_field(const Json::Value& errors, const std::string& field) {
  for (const auto& e : errors) {
    if (e["field"].asString() == field) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a pattern renders prefix, year, month and the zero-padded sequence number",
          "[numbering]") {
  Numbering n;
  CHECK(n.allocate("{prefix}{yyyy}-{seq:05}", "never", 1042, Json::Value(),
                   "2026-11-03")["number"] == "INV-2026-01042");
  CHECK(n.allocate("{prefix}{yy}{mm}/{seq:3}", "never", 7, Json::Value(), "2027-02-28")["number"] ==
        "INV-2702/007");
  CHECK(n.allocate("F{seq}", "never", 12345, Json::Value(), "2026-01-01", "")["number"] ==
        "F12345");
  // A sequence number outgrows its padding rather than being cut.
  CHECK(n.allocate("{prefix}{seq:2}", "never", 123, Json::Value(), "2026-01-01")["number"] ==
        "INV-123");
}

TEST_CASE("allocation advances the counter and never resets without a yearly reset",
          "[numbering]") {
  Numbering n;
  const auto a = n.allocate("{prefix}{yyyy}-{seq:05}", "never", 41, Json::Value(), "2026-12-31");
  CHECK(a["seq"].asInt64() == 41);
  CHECK(a["counter"]["next"].asInt64() == 42);
  CHECK(a["year"].isNull());
  const auto b = n.allocate("{prefix}{yyyy}-{seq:05}", "never", 42, Json::Value(), "2027-01-01");
  CHECK(b["number"] == "INV-2027-00042");
}

TEST_CASE("a yearly reset starts at 1 in the first invoice of a new year", "[numbering]") {
  Numbering n;
  const std::string pattern = "{prefix}{yyyy}-{seq:05}";
  // A counter just set has no year yet: it counts from its next number in the issue year.
  const auto set = n.allocate(pattern, "yearly", 1001, Json::Value(), "2026-11-03");
  CHECK(set["number"] == "INV-2026-01001");
  CHECK(set["counter"]["year"].asInt() == 2026);
  const auto same = n.allocate(pattern, "yearly", 1002, 2026, "2026-12-31");
  CHECK(same["number"] == "INV-2026-01002");
  const auto next_year = n.allocate(pattern, "yearly", 1003, 2026, "2027-01-01");
  CHECK(next_year["number"] == "INV-2027-00001");
  CHECK(next_year["seq"].asInt64() == 1);
  CHECK(next_year["counter"]["next"].asInt64() == 2);
  CHECK(next_year["counter"]["year"].asInt() == 2027);
  // An issue date before the year the counter counts in is refused, never numbered backwards.
  const auto back =
      n.call("numbering.allocate", Numbering::request(pattern, "yearly", 5, 2027, "2026-12-31"));
  CHECK_FALSE(back.ok());
}

TEST_CASE(
    "settings without one {seq}, with unknown tokens or a yearly reset without the year "
    "are refused naming the field",
    "[numbering]") {
  Numbering n;
  CHECK(n.errors_of("{prefix}{yyyy}-{seq:05}", "yearly", 1).empty());
  CHECK(names_field(n.errors_of("{prefix}{yyyy}", "never", 1), "pattern"));
  CHECK(names_field(n.errors_of("{prefix}{seq}{seq}", "never", 1), "pattern"));
  CHECK(names_field(n.errors_of("{prefix}{day}{seq}", "never", 1), "pattern"));
  CHECK(names_field(n.errors_of("{prefix}{seq:0}", "never", 1), "pattern"));
  CHECK(names_field(n.errors_of("{prefix}{seq:13}", "never", 1), "pattern"));
  CHECK(names_field(n.errors_of("{prefix {seq}", "never", 1), "pattern"));
  CHECK(names_field(n.errors_of("INV {seq}", "never", 1), "pattern"));
  CHECK(names_field(n.errors_of("{prefix}{seq:05}", "yearly", 1), "pattern"));
  CHECK(names_field(n.errors_of("{prefix}{seq}", "monthly", 1), "reset"));
  CHECK(names_field(n.errors_of("{prefix}{seq}", "never", 0), "next_number"));
  CHECK(names_field(n.errors_of("{prefix}{seq}", "never", 1, "IN V"), "prefix"));
  // QuickBooks refuses document numbers over 21 characters.
  CHECK(names_field(n.errors_of("{prefix}{yyyy}{mm}-CUSTOMER-{seq:06}", "never", 1), "pattern"));
}

TEST_CASE("a number is read back into its sequence number and year by the pattern", "[numbering]") {
  Numbering n;
  const auto parsed = n.parse("{prefix}{yyyy}-{seq:05}", "INV-2026-01041");
  CHECK(parsed["matches"].asBool());
  CHECK(parsed["seq"].asInt64() == 1041);
  CHECK(parsed["year"].asInt() == 2026);
  CHECK(n.parse("{prefix}{yyyy}-{seq:05}", "INV-2026-123456")["seq"].asInt64() == 123456);
  CHECK(n.parse("{prefix}{yy}{seq:04}", "INV-260042")["year"].asInt() == 2026);
  CHECK(n.parse("{prefix}{seq}", "INV-77")["seq"].asInt64() == 77);
  CHECK(n.parse("{prefix}{seq}", "INV-77")["year"].isNull());
  for (const char* other :
       {"INV/2026/1041", "INV-2026-1041", "2026-01041", "INV-2026-01041X", "INV-2026-00000"}) {
    CAPTURE(other);
    CHECK_FALSE(n.parse("{prefix}{yyyy}-{seq:05}", other)["matches"].asBool());
  }
}
