// The approval feature against a real SQLite file and the bundled time-approval plugin, without
// the binary: its refusals, its version guard and its one audit row per step.
#include "approval/approval.hpp"
#include "admission/pipeline.hpp"
#include "auth/tokens.hpp"
#include "clients/clients.hpp"
#include "core/log.hpp"
#include "plugins/host_calls.hpp"
#include "plugins/registry.hpp"
#include "store/store.hpp"
#include "support/process.hpp"
#include "tickets/tickets.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace fs = std::filesystem;
using namespace psahost;
using domain::RefusalKind;

namespace {

class Approvals {
 public:
  explicit Approvals(bool with_plugin = true)
      : log_(LogLevel::error),
        store_(store::Store::open_sqlite({dir_.path() / "psahost.db"}, log_)),
        tenant_(auth::Tokens(*store_).ensure_tenant("acme")) {
    approval::register_time_host_calls(calls_, *store_);
    registry_ = std::make_unique<plugins::PluginRegistry>(
        plugins::RegistryOptions{dir_.path() / "cache", false, {}},
        plugins::PluginEnv{calls_, store_.get(), log_, nullptr});
    if (with_plugin) {
      REQUIRE(registry_->load(fs::path(PSAHOST_PLUGIN_DIR) / "time-approval.json"));
    }
    pipeline_ = std::make_unique<admission::Pipeline>(*registry_, log_);
    who_ = {tenant_, "acme", auth::Role::admin, "tok_1"};
    // The client and ticket come from their own feature modules, as the API makes them.
    store_->write([&](store::Tx& tx) {
      clients::ClientChange contoso;
      contoso.name = "Contoso";
      const auto client = clients::create_client(tx, who_, contoso);
      REQUIRE(client);
      client_ = (*client)["id"].asString();
      const auto ticket = tickets::open_ticket(tx, who_, client_, "Printer");
      REQUIRE(ticket);
      ticket_ = ticket->id;
    });
  }

  // A submitted entry on the ticket; non-billable entries need no labour rate to be approved.
  std::string entry(bool billable = false) {
    std::string id;
    store_->write([&](store::Tx& tx) {
      const auto registered =
          tickets::register_time(tx, who_, ticket_, {30, "alice", billable, "", "", "2026-11-02"});
      REQUIRE(registered);
      id = registered->id;
    });
    return id;
  }

  approval::TimeApprovalEnv env() const { return {*store_, *registry_, *pipeline_, {}}; }
  const std::string& tenant() const { return tenant_; }
  const std::string& client() const { return client_; }
  plugins::PluginRegistry& registry() { return *registry_; }

  int64_t count(const std::string& sql) {
    int64_t n = 0;
    store_->read([&](store::Tx& tx) { n = tx.query_one(sql)->integer(0); });
    return n;
  }

  domain::Result<tickets::TimeEntry> step(const approval::Transition& t, const std::string& id) {
    auto plan = approval::plan_transition(env(), tenant_, id, t);
    if (!plan) return plan.refusal();
    std::optional<domain::Result<tickets::TimeEntry>> out;
    store_->write([&](store::Tx& tx) {
      out = approval::apply_transition(tx, tenant_, "tok_1", std::move(*plan));
    });
    return *out;
  }

 private:
  test::TempDir dir_;
  Logger log_;
  std::unique_ptr<store::Store> store_;
  std::string tenant_;
  auth::Principal who_;
  std::string client_, ticket_;
  plugins::HostCalls calls_;
  std::unique_ptr<plugins::PluginRegistry> registry_;
  std::unique_ptr<admission::Pipeline> pipeline_;
};

approval::Transition reject(std::string reason, std::optional<int64_t> version = {}) {
  return {"reject", version, std::move(reason), {}, {}, {}, {}};
}

}  // namespace

TEST_CASE("approving time is refused as unavailable while the time-approval plugin is not loaded",
          "[approval]") {
  Approvals a(false);
  const std::string te_1 = a.entry();
  const auto run = approval::approve_time_entries(a.env(), {a.tenant(), "tok_1", {te_1}});
  REQUIRE(run.refusal);
  CHECK(run.refusal->kind == RefusalKind::unavailable);
  CHECK(run.refusal->slug == "plugin-unavailable");
  CHECK(run.results.empty());
  CHECK(a.count("SELECT COUNT(*) FROM time_entries WHERE status = 'approved'") == 0);
}

TEST_CASE("approval finds its plugin by what it does, and a disabled one is a conflict naming it",
          "[approval]") {
  Approvals a;
  const std::string te_1 = a.entry();
  const auto found = a.registry().require("command.approve");
  REQUIRE(found.plugin);
  CHECK(found.plugin->id() == "time-approval");
  REQUIRE(a.registry().set_enabled("time-approval", false));
  const auto run = approval::approve_time_entries(a.env(), {a.tenant(), "tok_1", {te_1}});
  REQUIRE(run.refusal);
  CHECK(run.refusal->kind == RefusalKind::conflict);
  CHECK(run.refusal->slug == "plugin-disabled");
  CHECK(run.refusal->detail.find("/v1/plugins/time-approval/enable") != std::string::npos);
}

TEST_CASE("approval reports each entry: approved once, then already approved, unknown not found",
          "[approval]") {
  Approvals a;
  const std::string te_1 = a.entry();
  auto run = approval::approve_time_entries(a.env(), {a.tenant(), "tok_1", {te_1, "te_x"}});
  REQUIRE_FALSE(run.refusal);
  REQUIRE(run.results.size() == 2);
  CHECK(run.results[0].outcome == "approved");
  CHECK(run.results[0].entry->version == 2);
  CHECK(run.results[1].outcome == "not_found");

  run = approval::approve_time_entries(a.env(), {a.tenant(), "tok_1", {te_1}});
  REQUIRE(run.results.size() == 1);
  CHECK(run.results[0].outcome == "already_approved");
  CHECK(a.count("SELECT COUNT(*) FROM audit_log WHERE action = 'time_entry.approve'") == 1);
  CHECK(a.count("SELECT COUNT(*) FROM events WHERE type = 'time_entry.approved'") == 1);
}

TEST_CASE("a single approval at a version the entry is no longer at is a conflict", "[approval]") {
  Approvals a;
  const std::string te_1 = a.entry();
  const auto run = approval::approve_time_entries(a.env(), {a.tenant(), "tok_1", {te_1}, 7, true});
  REQUIRE(run.results.size() == 1);
  CHECK(run.results[0].outcome == "conflict");
  CHECK(a.count("SELECT COUNT(*) FROM time_entries WHERE status = 'approved'") == 0);
}

TEST_CASE("a billable entry without a labour rate is refused by the plugin and stays submitted",
          "[approval]") {
  Approvals a;
  const std::string te_1 = a.entry(true);
  const auto run = approval::approve_time_entries(a.env(), {a.tenant(), "tok_1", {te_1}});
  REQUIRE(run.results.size() == 1);
  CHECK(run.results[0].outcome == "refused");
  CHECK(run.results[0].decided_by == "time-approval");
  CHECK(a.count("SELECT COUNT(*) FROM time_entries WHERE status = 'submitted'") == 1);
  CHECK(a.count("SELECT COUNT(*) FROM audit_log") == 0);
}

TEST_CASE("a step on an unknown entry is not found, and one at a stale version a conflict",
          "[approval]") {
  Approvals a;
  const std::string te_1 = a.entry();
  auto r = a.step(reject("wrong ticket"), "te_x");
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::not_found);

  r = a.step(reject("wrong ticket", 5), te_1);
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::conflict);
  CHECK(a.count("SELECT COUNT(*) FROM audit_log") == 0);
}

TEST_CASE(
    "rejecting writes the entry, one audit row and one event, and a planned step applied after "
    "another is a conflict",
    "[approval]") {
  Approvals a;
  const std::string te_1 = a.entry();
  auto plan = approval::plan_transition(a.env(), a.tenant(), te_1, reject("duplicate"));
  REQUIRE(plan);
  const auto r = a.step(reject("wrong ticket"), te_1);
  REQUIRE(r);
  CHECK(r->status == "rejected");
  CHECK(r->rejected_reason == "wrong ticket");
  CHECK(r->version == 2);
  CHECK(a.count("SELECT COUNT(*) FROM audit_log WHERE action = 'time_entry.reject'") == 1);
  CHECK(a.count("SELECT COUNT(*) FROM events WHERE type = 'time_entry.rejected'") == 1);

  // The plan was made at version 1: applying it now changes nothing.
  std::optional<domain::Result<tickets::TimeEntry>> late;
  a.env().store.write([&](store::Tx& tx) {
    late = approval::apply_transition(tx, a.tenant(), "tok_1", std::move(*plan));
  });
  REQUIRE_FALSE(*late);
  CHECK(late->refusal().kind == RefusalKind::conflict);
  CHECK(a.count("SELECT COUNT(*) FROM audit_log") == 1);
}

TEST_CASE("rejecting an approved entry is refused by the plugin", "[approval]") {
  Approvals a;
  const std::string te_1 = a.entry();
  REQUIRE(
      approval::approve_time_entries(a.env(), {a.tenant(), "tok_1", {te_1}}).results[0].outcome ==
      "approved");
  const auto r = a.step(reject("late"), te_1);
  REQUIRE_FALSE(r);
  CHECK(r.refusal().kind == RefusalKind::refused);
  CHECK(r.refusal().extra["decided_by"] == "time-approval");
}

TEST_CASE(
    "a filter naming a client the tenant does not have is not found, and pages say if more follow",
    "[approval]") {
  Approvals a;
  // Pages go by id, and ids are not made in order.
  const std::string te_1 = a.entry(), te_2 = a.entry();
  const std::string first = std::min(te_1, te_2), second = std::max(te_1, te_2);
  approval::EntryFilter f;
  f.client_id = "cli_other";
  auto page = approval::select_page(a.env().store, a.tenant(), f);
  REQUIRE_FALSE(page);
  CHECK(page.refusal().kind == RefusalKind::not_found);

  f.client_id = a.client();
  f.limit = 1;
  page = approval::select_page(a.env().store, a.tenant(), f);
  REQUIRE(page);
  CHECK(page->ids == std::vector<std::string>{first});
  CHECK(page->more);
  f.after = first;
  page = approval::select_page(a.env().store, a.tenant(), f);
  REQUIRE(page);
  CHECK(page->ids == std::vector<std::string>{second});
  CHECK_FALSE(page->more);
}
