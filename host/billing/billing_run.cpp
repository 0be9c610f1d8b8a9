#include "billing/billing_run.hpp"

#include "auth/tokens.hpp"
#include "billing/invoices.hpp"
#include "billing/numbering.hpp"
#include "core/clock.hpp"
#include "core/ordered_id.hpp"
#include "domain/invoice_draft.hpp"
#include "events/event_log.hpp"
#include "store/in_flight_write.hpp"
#include "store/json_column.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

namespace psahost::billing {
namespace {

// Clients per read and per write: about 100 x 50 lines, a few thousand rows per commit, which
// holds the writer for tens of milliseconds (bench/billing_run.cpp), short enough for the
// requests waiting behind it.
constexpr int64_t kClientsPerBatch = 100;

struct ClientWork {
  std::string client_id;
  std::string name;
  std::optional<domain::BillingInfo> billing;
  domain::ClientFacts facts;
  std::map<std::string, std::string> invoiced;  // billing entity -> number of its invoice
};

// What became of one client and billing entity.
struct Outcome {
  std::string client_id;
  std::string billing_entity;
  std::string outcome;  // issued | would_issue | skipped | failed
  std::string reason;
  std::string detail;
  std::string invoice_id;
  Json::Value report = Json::Value(Json::objectValue);
  std::optional<InvoiceToIssue> to_issue;
  bool retry = false;  // changed while drafted: drafted again once after the main pass
};

// What the run has done so far; only write jobs change it, one at a time.
struct Tally {
  RunProgress progress;
  Json::Value totals = Json::Value(Json::objectValue);  // currency -> {invoices, amounts}
};

// One page of the tenant's active clients (by id after `after`), or exactly `only`, with every
// fact the draft needs: billing info, active contracts with their parts, approved billable time
// and approved sales items dated within the period or before, and their invoices for it.
std::vector<ClientWork> read_clients(store::Tx& tx, const std::string& tenant,
                                     const domain::Period& period, const std::string& after,
                                     const std::vector<std::string>* only) {
  std::vector<ClientWork> out;
  const auto add = [&](const store::Row& r) {
    ClientWork w;
    w.client_id = r.text(0);
    w.name = r.text(1);
    if (!r.is_null(2)) {
      auto parsed = domain::parse_billing_info(store::from_text(r.text(2)));
      if (!parsed.info) {
        throw store::StoreError("stored billing info of " + w.client_id + " no longer validates");
      }
      w.billing = std::move(*parsed.info);
    }
    w.facts.client_id = w.client_id;
    out.push_back(std::move(w));
  };
  // "+c.tenant_id": pages walk the primary key from `after`, in id order; the tenant's (tenant,
  // name) index would make SQLite read and sort all of the tenant's clients for every page.
  constexpr const char* kClient =
      "SELECT c.id, c.name, b.data FROM clients c LEFT JOIN billing_info b ON b.client_id = c.id "
      "WHERE +c.tenant_id = ? AND c.status = 'active'";
  if (only) {
    for (const auto& id : *only) {
      if (auto r = tx.query_one(std::string(kClient) + " AND c.id = ?", {tenant, id})) add(*r);
    }
  } else {
    tx.each(std::string(kClient) + " AND c.id > ? ORDER BY c.id LIMIT ?",
            {tenant, after, kClientsPerBatch}, add);
  }
  if (out.empty()) return out;
  std::unordered_map<std::string, ClientWork*> by_id;
  for (auto& w : out) by_id[w.client_id] = &w;
  // A page's facts are read by the id range of its clients (an inactive client inside the range
  // is dropped by by_id); clients asked for one by one, by their own id each.
  std::vector<std::pair<std::string, std::string>> ranges;
  if (only) {
    for (const auto& w : out) ranges.emplace_back(w.client_id, w.client_id);
  } else {
    ranges.emplace_back(out.front().client_id, out.back().client_id);
  }
  const std::string last_day = domain::format_date(period.last_day());
  // By contract id: its client and its place in that client's list (a pointer would not survive
  // the list growing).
  std::unordered_map<std::string, std::pair<ClientWork*, std::size_t>> contracts;
  for (const auto& [lo, hi] : ranges) {
    tx.each(
        "SELECT k.client_id, k.id, k.reference, k.billing_entity, k.currency, k.invoice_interval, "
        "k.bill_timing, k.start_date, k.end_date, p.id, COALESCE(NULLIF(p.description, ''), "
        "d.name, "
        "p.sku, ''), COALESCE(d.unit, ''), p.quantity, p.price, p.discount, p.start_date, "
        "p.end_date, p.trial FROM contracts k JOIN contract_parts p ON p.contract_id = k.id LEFT "
        "JOIN products d ON d.tenant_id = k.tenant_id AND d.sku = p.sku WHERE k.tenant_id = ? AND "
        "k.client_id BETWEEN ? AND ? AND k.status = 'active' ORDER BY k.client_id, k.start_date, "
        "k.id, p.rowid",
        {tenant, lo, hi}, [&](const store::Row& r) {
          const auto w = by_id.find(r.text(0));
          if (w == by_id.end()) return;
          auto [slot, first] = contracts.try_emplace(r.text(1), w->second, 0);
          if (first) {
            domain::ContractFacts c;
            c.id = r.text(1);
            c.reference = r.text(2);
            c.billing_entity = r.text(3);
            c.currency = r.text(4);
            c.invoice_interval = r.text(5);
            c.when_to_bill = r.text(6);
            const auto start = domain::parse_date(r.text(7));
            if (!start) throw store::StoreError("contract " + c.id + " has no valid start date");
            c.start = *start;
            c.end = date_column(r, 8);
            w->second->facts.contracts.push_back(std::move(c));
            slot->second.second = w->second->facts.contracts.size() - 1;
          }
          domain::PartFacts p;
          p.id = r.text(9);
          p.description = r.text(10);
          p.unit = r.text(11);
          p.quantity = r.integer(12);
          if (!r.is_null(13)) p.price = r.integer(13);
          p.discount = r.text(14);
          p.start = date_column(r, 15);
          p.end = date_column(r, 16);
          p.trial = r.integer(17) != 0;
          auto& [client, index] = slot->second;
          client->facts.contracts[index].parts.push_back(std::move(p));
        });
    tx.each(
        "SELECT e.client_id, e.id, e.ticket_id, t.subject, e.technician, e.work_date, "
        "e.billed_minutes, e.rate, e.currency FROM time_entries e JOIN tickets t ON t.id = "
        "e.ticket_id WHERE e.tenant_id = ? AND e.client_id BETWEEN ? AND ? AND e.status = "
        "'approved' AND e.billable = 1 AND e.invoice_id IS NULL AND e.billed_minutes IS NOT NULL "
        "AND e.rate IS NOT NULL AND e.billed_externally IS NULL AND e.work_date <= ? ORDER BY "
        "e.client_id, e.work_date, e.id",
        {tenant, lo, hi, last_day}, [&](const store::Row& r) {
          const auto w = by_id.find(r.text(0));
          if (w == by_id.end()) return;
          w->second->facts.time.push_back({r.text(1), r.text(2), r.text(3), r.text(4), r.text(5),
                                           r.text(8), r.integer(6), r.integer(7)});
        });
    tx.each(
        "SELECT client_id, id, description, currency, item_date, quantity, unit_price FROM "
        "sales_items WHERE tenant_id = ? AND client_id BETWEEN ? AND ? AND status = 'approved' AND "
        "invoice_id IS NULL AND item_date <= ? ORDER BY client_id, item_date, id",
        {tenant, lo, hi, last_day}, [&](const store::Row& r) {
          const auto w = by_id.find(r.text(0));
          if (w == by_id.end()) return;
          w->second->facts.sales.push_back(
              {r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5), r.integer(6)});
        });
    tx.each(
        "SELECT client_id, billing_entity, number FROM invoices WHERE tenant_id = ? AND client_id "
        "BETWEEN ? AND ? AND period = ?",
        {tenant, lo, hi, period.text()}, [&](const store::Row& r) {
          const auto w = by_id.find(r.text(0));
          if (w != by_id.end()) w->second->invoiced[r.text(1)] = r.text(2);
        });
  }
  return out;
}

Json::Value left_off_json(const std::vector<domain::LeftOff>& items) {
  Json::Value list(Json::arrayValue);
  for (const auto& i : items) {
    Json::Value v;
    v["kind"] = i.kind;
    v["id"] = i.id;
    v["reason"] = i.reason;
    v["detail"] = i.detail;
    list.append(std::move(v));
  }
  return list;
}

// The object of a run invoice's invoice.issue review: what is billed to whom, without the lines
// (the reviewers decide on the client and the totals; a run reviews thousands of invoices).
Json::Value review_object(const InvoiceToIssue& inv, const std::string& run_id) {
  Json::Value o;
  o["client_id"] = inv.client_id;
  o["billing_entity"] = inv.draft.billing_entity;
  o["kind"] = "run";
  o["period"] = *inv.period;
  o["billing_run_id"] = run_id;
  o["currency"] = inv.draft.currency;
  o["net_amount"] = static_cast<Json::Int64>(inv.draft.totals.net);
  o["tax_amount"] = static_cast<Json::Int64>(inv.draft.totals.tax);
  o["total_amount"] = static_cast<Json::Int64>(inv.draft.totals.total());
  o["lines"] = static_cast<Json::UInt64>(inv.draft.lines.size());
  return o;
}

class Runner {
 public:
  Runner(const BillingEnv& env, std::string tenant, std::string run_id, domain::Period period,
         bool dry_run, std::string actor)
      : env_(env),
        tenant_(std::move(tenant)),
        run_id_(std::move(run_id)),
        period_(period),
        dry_run_(dry_run),
        actor_(std::move(actor)),
        today_(domain::today_utc()),
        issue_date_(domain::format_date(today_)),
        tally_(std::make_shared<Tally>()) {}

  // The run's status when it ended: completed or interrupted.
  std::string run(std::stop_token stop, const std::function<void(const RunProgress&)>& progress) {
    if (!dry_run_) {
      const auto numbering = find_numbering_plugin(env_.plugins);
      if (!numbering) throw std::runtime_error(numbering.refusal().detail);
      numbering_ = *numbering;
    }
    env_.store.read([&](store::Tx& tx) {
      tally_->progress.clients =
          tx.query_one("SELECT COUNT(*) FROM clients WHERE tenant_id = ? AND status = 'active'",
                       {tenant_})
              ->integer(0);
    });
    store::InFlightWrite writing;
    const auto written = [&] {
      if (!writing.finish()) return;
      if (env_.events_committed && !dry_run_) env_.events_committed();
      if (progress) progress(tally_->progress);
    };
    std::string after;
    bool stopped = false;
    std::vector<std::string> retry;
    for (;;) {
      if (stop.stop_requested()) {
        stopped = true;
        break;
      }
      std::vector<ClientWork> page;
      env_.store.read(
          [&](store::Tx& tx) { page = read_clients(tx, tenant_, period_, after, nullptr); });
      if (page.empty()) break;
      after = page.back().client_id;
      auto batch = std::make_shared<std::vector<Outcome>>(decide(page));
      // The previous batch's outcomes tell which clients to draft again.
      written();
      collect_retries(retry);
      start_write(writing, batch, static_cast<int64_t>(page.size()));
      pending_ = batch;
    }
    written();
    collect_retries(retry);
    if (!stopped && !retry.empty()) {
      // Drafted again from what is stored now; a second change in between fails the client.
      retrying_ = true;
      std::vector<ClientWork> again;
      env_.store.read(
          [&](store::Tx& tx) { again = read_clients(tx, tenant_, period_, "", &retry); });
      auto batch = std::make_shared<std::vector<Outcome>>(decide(again));
      start_write(writing, batch, 0);
      written();
    }
    return stopped ? "interrupted" : "completed";
  }

  const Tally& tally() const { return *tally_; }

 private:
  // Drafts and reviews a page of clients; nothing is written here.
  std::vector<Outcome> decide(std::vector<ClientWork>& page) {
    std::vector<Outcome> out;
    // The page's invoices are reviewed together once drafted: out[under_review[i]] by reviews[i].
    std::vector<admission::Review> reviews;
    std::vector<std::size_t> under_review;
    for (auto& w : page) {
      if (!w.billing || !w.billing->is_complete()) {
        // Drafted again after a change, a client keeps what the run already did for it.
        if (done_.count({w.client_id, ""})) continue;
        Outcome o;
        o.client_id = w.client_id;
        o.outcome = "skipped";
        o.reason = "billing_info_incomplete";
        o.detail =
            "the client's billing information is incomplete; add it and run this period again";
        o.report["prompt"]["action"] = "add_billing_info";
        o.report["prompt"]["client_id"] = w.client_id;
        Json::Value& missing = o.report["prompt"]["missing"] = Json::Value(Json::arrayValue);
        if (!w.billing) {
          missing.append("billing_info");
        } else {
          for (const auto& m : w.billing->missing()) missing.append(m);
        }
        out.push_back(std::move(o));
        continue;
      }
      w.facts.billing = *w.billing;
      const Json::Value snapshot = client_snapshot({w.client_id, w.name, "", "", w.billing});
      for (auto& entity : domain::draft_invoices(w.facts, period_, today_)) {
        if (done_.count({w.client_id, entity.billing_entity})) continue;
        Outcome o;
        o.client_id = w.client_id;
        o.billing_entity = entity.billing_entity;
        if (!entity.left_off.empty()) o.report["left_off"] = left_off_json(entity.left_off);
        if (const auto it = w.invoiced.find(entity.billing_entity); it != w.invoiced.end()) {
          o.outcome = "skipped";
          o.reason = "already_invoiced";
          o.detail = "invoice " + it->second + " already bills " + period_.text();
          o.report["number"] = it->second;
        } else if (!entity.draft) {
          // Nothing due, or due once the interval has ended, is no fault; the rest needs the
          // partner's hand before the client can be billed.
          const bool waits =
              entity.reason == "nothing_due" || entity.reason == "interval_not_ended";
          o.outcome = waits ? "skipped" : "failed";
          o.reason = entity.reason;
          o.detail = entity.detail;
        } else {
          InvoiceToIssue inv{w.client_id, snapshot, std::move(*entity.draft), "run", period_.text(),
                             run_id_,     actor_};
          admission::Review review{auth::new_id("adm"),         tenant_,         "invoice.issue",
                                   review_object(inv, run_id_), Json::nullValue, Json::nullValue};
          review.user["token_id"] = actor_;
          reviews.push_back(std::move(review));
          under_review.push_back(out.size());
          o.to_issue = std::move(inv);
        }
        out.push_back(std::move(o));
      }
    }
    const auto verdicts = env_.admission.review_all(reviews);
    for (std::size_t i = 0; i < verdicts.size(); ++i) judge(out[under_review[i]], verdicts[i]);
    return out;
  }

  // A drafted invoice once its reviewers have spoken: refused, or to be issued (in a dry run,
  // reported as it would be issued and counted in the totals, never issued).
  void judge(Outcome& o, const admission::Verdict& verdict) {
    if (!verdict.allowed) {
      o.outcome = "skipped";
      o.reason = "refused";
      o.detail = verdict.reason;
      o.report["type"] = verdict.to_json("")["type"];  // the problem type a client knows
      o.report["decided_by"] = verdict.decided_by;
      if (!verdict.prompt.isNull()) o.report["prompt"] = verdict.prompt;
      o.to_issue.reset();
    } else if (dry_run_) {
      const auto& inv = *o.to_issue;
      o.outcome = "would_issue";
      o.report["invoice"] = draft_json(inv.draft, o.client_id, issue_date_);
      o.report["currency"] = inv.draft.currency;
      o.report["total_amount"] = static_cast<Json::Int64>(inv.draft.totals.total());
    }
  }

  // After the previous batch's write: the clients whose invoice met a change made while it was
  // drafted (apply marked them on the writer's thread) are drafted again at the end, so they
  // are not done yet.
  void collect_retries(std::vector<std::string>& retry) {
    if (!pending_) return;
    for (const auto& o : *pending_) {
      if (!o.retry) continue;
      // A client with two entities to draft again is read once.
      if (std::find(retry.begin(), retry.end(), o.client_id) == retry.end()) {
        retry.push_back(o.client_id);
      }
      done_.erase({o.client_id, o.billing_entity});
    }
    pending_.reset();
  }

  // Issues the batch's invoices and records every outcome and the run's counts in one write.
  void start_write(store::InFlightWrite& writing, std::shared_ptr<std::vector<Outcome>> batch,
                   int64_t clients) {
    for (const auto& o : *batch) done_.insert({o.client_id, o.billing_entity});
    writing.start(env_.store, [this, batch, clients](store::Tx& tx) {
      Tally tally = *tally_;  // applied only once the whole job went through
      tally.progress.processed += clients;
      // The batch's numbers asked for at once, one run of them per series.
      NumberingAhead ahead;
      if (!dry_run_) {
        std::map<std::string, std::size_t> count_by_entity;
        for (const auto& o : *batch) {
          if (o.to_issue) ++count_by_entity[o.to_issue->draft.billing_entity];
        }
        ahead.ask(tx, *numbering_, tenant_, count_by_entity, issue_date_);
      }
      for (auto& o : *batch) apply(tx, o, tally, ahead);
      tx.exec(
          "UPDATE billing_runs SET clients = ?, processed = ?, issued = ?, skipped = ?, failed = "
          "?, totals = ?, updated_at = ? WHERE id = ?",
          {tally.progress.clients, tally.progress.processed, tally.progress.issued,
           tally.progress.skipped, tally.progress.failed, store::to_text(tally.totals),
           now_rfc3339(), run_id_});
      *tally_ = std::move(tally);
    });
  }

  void apply(store::Tx& tx, Outcome& o, Tally& tally, const NumberingAhead& ahead) {
    if (o.to_issue && !dry_run_) {
      IssueRefusal refusal;
      const auto issued =
          issue_invoice(tx, *numbering_, tenant_, *o.to_issue, issue_date_, &refusal, &ahead);
      if (issued) {
        o.outcome = "issued";
        o.invoice_id = issued->id;
        o.report["number"] = issued->number;
        o.report["currency"] = o.to_issue->draft.currency;
        o.report["total_amount"] = static_cast<Json::Int64>(o.to_issue->draft.totals.total());
      } else if (refusal.reason == "changed_meanwhile" && !retrying_) {
        o.retry = true;
        return;
      } else {
        o.outcome = refusal.reason == "already_invoiced" ? "skipped" : "failed";
        o.reason = refusal.reason;
        o.detail = refusal.detail;
      }
    }
    if (o.outcome == "issued" || o.outcome == "would_issue") {
      const auto& d = o.to_issue->draft;
      Json::Value& t = tally.totals[d.currency];
      t["invoices"] = t.get("invoices", 0).asInt64() + 1;
      t["net_amount"] = t.get("net_amount", 0).asInt64() + d.totals.net;
      t["tax_amount"] = t.get("tax_amount", 0).asInt64() + d.totals.tax;
      t["total_amount"] = t.get("total_amount", 0).asInt64() + d.totals.total();
      ++tally.progress.issued;
    } else if (o.outcome == "skipped") {
      ++tally.progress.skipped;
    } else {
      ++tally.progress.failed;
    }
    tx.exec(
        "INSERT INTO billing_run_clients (run_id, client_id, billing_entity, tenant_id, outcome, "
        "reason, detail, invoice_id, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
        "(run_id, client_id, billing_entity) DO UPDATE SET outcome = excluded.outcome, reason = "
        "excluded.reason, detail = excluded.detail, invoice_id = excluded.invoice_id, report = "
        "excluded.report",
        {run_id_, o.client_id, o.billing_entity, tenant_, o.outcome,
         o.reason.empty() ? store::Value(nullptr) : store::Value(o.reason),
         o.detail.empty() ? store::Value(nullptr) : store::Value(o.detail),
         o.invoice_id.empty() ? store::Value(nullptr) : store::Value(o.invoice_id),
         store::to_text(o.report)});
  }

  const BillingEnv& env_;
  const std::string tenant_;
  const std::string run_id_;
  const domain::Period period_;
  const bool dry_run_;
  const std::string actor_;
  const domain::Date today_;
  const std::string issue_date_;
  std::shared_ptr<plugins::Plugin> numbering_;
  std::shared_ptr<Tally> tally_;
  std::shared_ptr<std::vector<Outcome>> pending_;       // the batch in the write in flight
  std::set<std::pair<std::string, std::string>> done_;  // (client, entity) with an outcome
  bool retrying_ = false;
};

void finish_run(store::Store& store, const std::string& tenant, const std::string& run_id,
                const std::string& period, const std::string& status, const std::string& error,
                const Tally* tally, bool dry_run) {
  store.write([&](store::Tx& tx) {
    const std::string now = now_rfc3339();
    tx.exec(
        "UPDATE billing_runs SET status = ?, error = ?, finished_at = ?, updated_at = ? WHERE id "
        "= ? AND tenant_id = ?",
        {status, error.empty() ? store::Value(nullptr) : store::Value(error), now, now, run_id,
         tenant});
    if (status != "completed" || dry_run || !tally) return;
    Json::Value payload;
    payload["id"] = run_id;
    payload["period"] = period;
    payload["dry_run"] = false;
    payload["clients"] = static_cast<Json::Int64>(tally->progress.clients);
    payload["issued"] = static_cast<Json::Int64>(tally->progress.issued);
    payload["skipped"] = static_cast<Json::Int64>(tally->progress.skipped);
    payload["failed"] = static_cast<Json::Int64>(tally->progress.failed);
    payload["totals"] = tally->totals;
    events::append(tx,
                   {tenant, "billing_run.completed", "billing_run", run_id, payload, "system", ""});
  });
}

}  // namespace

std::optional<std::string> period_problem(std::string_view text, domain::Date today) {
  const auto period = domain::Period::parse(text);
  if (!period) return "expected a month as YYYY-MM, like 2026-11";
  const domain::Period latest = domain::Period::of(today).plus_months(1);
  if (*period > latest) {
    return "must be " + latest.text() +
           " or earlier: a run bills what is due at the start of its month, and may run one "
           "month ahead for upfront billing";
  }
  return std::nullopt;
}

domain::Result<QueuedRun> start_billing_run(const BillingEnv& env, const auth::Principal& who,
                                            const RunRequest& request) {
  if (const auto problem = period_problem(request.period, domain::today_utc())) {
    return domain::Refusal::invalid({{"period", *problem}});
  }
  if (!request.dry_run) {
    const auto numbering = find_numbering_plugin(env.plugins);
    if (!numbering) return numbering.refusal();
  }
  Json::Value object;
  object["period"] = request.period;
  object["dry_run"] = request.dry_run;
  admission::Review review{auth::new_id("adm"), who.tenant_id,  "billing_run.start", object,
                           Json::nullValue,     Json::nullValue};
  review.user["token_id"] = who.token_id;
  const auto verdict = env.admission.review(review);
  if (!verdict.allowed) return verdict.to_refusal();
  QueuedRun out{ordered_id("run")};
  env.store.write([&](store::Tx& tx) {
    const std::string now = now_rfc3339();
    tx.exec(
        "INSERT INTO billing_runs (id, tenant_id, period, dry_run, status, requested_by, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
        {out.id, who.tenant_id, request.period, int64_t{request.dry_run ? 1 : 0}, who.token_id, now,
         now});
  });
  return out;
}

void execute_billing_run(const BillingEnv& env, const std::string& tenant_id,
                         const std::string& run_id, std::stop_token stop,
                         const std::function<void(const RunProgress&)>& on_progress) {
  std::optional<domain::Period> period;
  std::string period_text;
  bool dry_run = false;
  std::string actor;
  bool claimed = false;
  env.store.write([&](store::Tx& tx) {
    const auto r = tx.query_one(
        "SELECT period, dry_run, requested_by FROM billing_runs WHERE id = ? AND tenant_id = ? "
        "AND status = 'queued'",
        {run_id, tenant_id});
    if (!r) return;
    period_text = r->text(0);
    period = domain::Period::parse(period_text);
    dry_run = r->integer(1) != 0;
    actor = r->text(2);
    const std::string now = now_rfc3339();
    tx.exec(
        "UPDATE billing_runs SET status = 'running', runner_pid = ?, started_at = ?, updated_at "
        "= ? WHERE id = ?",
        {int64_t{getpid()}, now, now, run_id});
    claimed = true;
  });
  if (!claimed) return;  // not queued (any more): another runner has it, or it ended
  if (!period) {
    finish_run(env.store, tenant_id, run_id, period_text, "failed", "the run's period is malformed",
               nullptr, dry_run);
    return;
  }
  Runner runner(env, tenant_id, run_id, *period, dry_run, actor);
  std::string status;
  std::string error;
  try {
    status = runner.run(stop, on_progress);
  } catch (const std::exception& e) {
    status = "failed";
    error = e.what();
  }
  try {
    finish_run(env.store, tenant_id, run_id, period_text, status, error, &runner.tally(), dry_run);
  } catch (const std::exception&) {
    // The store is gone (shutting down); the run stays running until the next start marks it
    // interrupted, and running its period again completes it.
  }
}

Json::Value billing_run_json(store::Tx& tx, const std::string& tenant_id, const std::string& run_id,
                             const RunItemsPage& page) {
  const auto r = tx.query_one(
      "SELECT id, period, dry_run, status, requested_by, clients, processed, issued, skipped, "
      "failed, totals, error, created_at, started_at, finished_at, updated_at FROM billing_runs "
      "WHERE id = ? AND tenant_id = ?",
      {run_id, tenant_id});
  if (!r) return Json::Value();
  Json::Value v;
  v["id"] = r->text(0);
  v["period"] = r->text(1);
  v["dry_run"] = r->integer(2) != 0;
  v["status"] = r->text(3);
  v["requested_by"] = r->text(4);
  v["clients"] = static_cast<Json::Int64>(r->integer(5));
  v["processed"] = static_cast<Json::Int64>(r->integer(6));
  v["issued"] = static_cast<Json::Int64>(r->integer(7));
  v["skipped"] = static_cast<Json::Int64>(r->integer(8));
  v["failed"] = static_cast<Json::Int64>(r->integer(9));
  v["totals"] = store::from_text(r->text(10));
  v["error"] = r->is_null(11) ? Json::Value() : Json::Value(r->text(11));
  v["created_at"] = r->text(12);
  v["started_at"] = r->is_null(13) ? Json::Value() : Json::Value(r->text(13));
  v["finished_at"] = r->is_null(14) ? Json::Value() : Json::Value(r->text(14));
  v["updated_at"] = r->text(15);
  Json::Value& reasons = v["reasons"] = Json::Value(Json::objectValue);
  tx.each(
      "SELECT reason, COUNT(*) FROM billing_run_clients WHERE run_id = ? AND reason IS NOT NULL "
      "GROUP BY reason ORDER BY reason",
      {run_id}, [&](const store::Row& row) {
        reasons[row.text(0)] = static_cast<Json::Int64>(row.integer(1));
      });
  std::string sql =
      "SELECT client_id, billing_entity, outcome, reason, detail, invoice_id, report FROM "
      "billing_run_clients WHERE run_id = ? AND client_id > ?";
  std::vector<store::Value> params{run_id, page.after};
  if (page.outcome) {
    sql += " AND outcome = ?";
    params.emplace_back(*page.outcome);
  }
  sql += " ORDER BY client_id, billing_entity LIMIT ?";
  params.emplace_back(page.limit);
  Json::Value& items = v["items"] = Json::Value(Json::arrayValue);
  tx.each(sql, params, [&](const store::Row& row) {
    Json::Value item = store::from_text(row.text(6));
    item["client_id"] = row.text(0);
    item["billing_entity"] = row.text(1);
    item["outcome"] = row.text(2);
    item["reason"] = row.is_null(3) ? Json::Value() : Json::Value(row.text(3));
    item["detail"] = row.is_null(4) ? Json::Value() : Json::Value(row.text(4));
    item["invoice_id"] = row.is_null(5) ? Json::Value() : Json::Value(row.text(5));
    items.append(std::move(item));
  });
  if (static_cast<int64_t>(items.size()) == page.limit) {
    v["next_after"] = items[items.size() - 1]["client_id"];
  }
  return v;
}

int64_t interrupt_abandoned_runs(store::Store& store) {
  int64_t interrupted = 0;
  store.write([&](store::Tx& tx) {
    const std::string now = now_rfc3339();
    for (const auto& r : tx.query(
             "SELECT id, runner_pid FROM billing_runs WHERE status IN ('queued', 'running')")) {
      // Queued runs live in the memory of the process that took the request; a running one
      // whose process still exists (a CLI run beside the server) is left to finish.
      if (!r.is_null(1) && r.integer(1) != getpid() &&
          (kill(static_cast<pid_t>(r.integer(1)), 0) == 0 || errno == EPERM)) {
        continue;
      }
      tx.exec(
          "UPDATE billing_runs SET status = 'interrupted', error = ?, finished_at = ?, updated_at "
          "= ? WHERE id = ?",
          {std::string("the process running it stopped before it ended; run the period again to "
                       "complete it"),
           now, now, r.text(0)});
      ++interrupted;
    }
  });
  return interrupted;
}

}  // namespace psahost::billing
