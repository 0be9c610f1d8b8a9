// The hook pool: a call is answered by its deadline whatever the job does, a late job's end is
// reported, and stopping does not wait on a job stuck past the grace.
#include "plugins/hook_pool.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

using psahost::plugins::HookPool;

namespace {

// A job that runs until released.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  void wait() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return open; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

}  // namespace

TEST_CASE("a hook job that returns in time is done on a pool thread", "[hook-pool]") {
  HookPool pool(2);
  std::thread::id ran_on;
  const auto outcome = pool.run([&] { ran_on = std::this_thread::get_id(); },
                                HookPool::Clock::now() + std::chrono::seconds(30));
  CHECK(outcome == HookPool::Outcome::done);
  CHECK(ran_on != std::this_thread::get_id());
}

TEST_CASE("a hook job past its deadline is left running and reports its late end", "[hook-pool]") {
  HookPool pool(2);
  auto gate = std::make_shared<Gate>();
  std::atomic<bool> late_end{false};
  // A job not yet started at its deadline is not run at all, which a loaded machine can make
  // happen to any deadline: asked again until the pool has started one in time.
  auto outcome = HookPool::Outcome::not_run;
  for (int attempt = 0; attempt < 50 && outcome == HookPool::Outcome::not_run; ++attempt) {
    outcome =
        pool.run([gate] { gate->wait(); }, HookPool::Clock::now() + std::chrono::milliseconds(20),
                 [&] { late_end = true; });
  }
  CHECK(outcome == HookPool::Outcome::late);
  // The pool still answers other calls meanwhile, on another thread.
  CHECK(pool.run([] {}, HookPool::Clock::now() + std::chrono::seconds(30)) ==
        HookPool::Outcome::done);
  gate->release();
  CHECK(pool.stop(std::chrono::seconds(30)) == 0);
  CHECK(late_end);
}

TEST_CASE("a queued hook job whose deadline passes never runs", "[hook-pool]") {
  HookPool pool(1);
  auto gate = std::make_shared<Gate>();
  auto started = std::make_shared<std::atomic<bool>>(false);
  REQUIRE(pool.post([gate, started] {
    *started = true;
    gate->wait();
  }));
  while (!*started) std::this_thread::yield();
  std::atomic<bool> ran{false};
  // The only thread is busy: this one waits in the queue past its deadline.
  CHECK(pool.run([&ran] { ran = true; }, HookPool::Clock::now() + std::chrono::milliseconds(20)) ==
        HookPool::Outcome::not_run);
  gate->release();
  CHECK(pool.stop(std::chrono::seconds(30)) == 0);
  CHECK_FALSE(ran);
}

TEST_CASE("stopping the pool does not wait on a stuck hook past the grace", "[hook-pool]") {
  auto gate = std::make_shared<Gate>();
  {
    HookPool pool(2);
    // Stuck once it runs; a call with a deadline might give up before a busy machine starts it.
    auto started = std::make_shared<std::atomic<bool>>(false);
    REQUIRE(pool.post([gate, started] {
      *started = true;
      gate->wait();
    }));
    while (!*started) std::this_thread::yield();
    CHECK(pool.stop(std::chrono::milliseconds(10)) == 1);
    CHECK(pool.run([] {}, HookPool::Clock::now() + std::chrono::seconds(1)) ==
          HookPool::Outcome::not_run);
    CHECK_FALSE(pool.post([] {}));
  }
  gate->release();  // the detached thread ends by itself
}

TEST_CASE("a timer runs at its time, once, unless it is cancelled first", "[hook-pool]") {
  HookPool pool(2);
  std::mutex mutex;
  std::condition_variable fired_changed;
  int fired = 0;
  const auto set_at = HookPool::Clock::now();
  auto first = pool.at(set_at + std::chrono::milliseconds(20), [&] {
    std::lock_guard lock(mutex);
    ++fired;
    fired_changed.notify_all();
  });
  auto never = pool.at(set_at + std::chrono::hours(1), [&] {
    std::lock_guard lock(mutex);
    fired += 100;
  });
  CHECK(pool.cancel(never));
  CHECK_FALSE(pool.cancel(never));  // a timer is cancelled once
  {
    std::unique_lock lock(mutex);
    REQUIRE(fired_changed.wait_for(lock, std::chrono::seconds(30), [&] { return fired > 0; }));
  }
  CHECK(HookPool::Clock::now() >= set_at + std::chrono::milliseconds(20));
  CHECK_FALSE(pool.cancel(first));  // it has run
  pool.stop(std::chrono::seconds(30));
  CHECK(fired == 1);
}

TEST_CASE("timers still set when the pool stops run then, and later ones at once", "[hook-pool]") {
  HookPool pool(2);
  std::atomic<int> fired{0};
  pool.at(HookPool::Clock::now() + std::chrono::hours(1), [&] { ++fired; });
  CHECK(fired == 0);
  pool.stop(std::chrono::seconds(30));
  CHECK(fired == 1);  // answered now: nobody would ever be there to answer it later
  pool.at(HookPool::Clock::now() + std::chrono::hours(1), [&] { ++fired; });
  CHECK(fired == 2);
}

TEST_CASE("a job queued behind threads blocked in their jobs gets a thread of its own",
          "[hook-pool]") {
  HookPool pool(8);
  auto gate = std::make_shared<Gate>();
  auto started = std::make_shared<std::atomic<int>>(0);
  // More blocked jobs than this machine has cores, so the pool must grow past its core threads.
  const int blocked = static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  const int posted = std::min(blocked, 6);
  for (int i = 0; i < posted; ++i) {
    REQUIRE(pool.post([gate, started] {
      ++*started;
      gate->wait();
    }));
  }
  CHECK(pool.run([] {}, HookPool::Clock::now() + std::chrono::seconds(30)) ==
        HookPool::Outcome::done);
  gate->release();
  CHECK(pool.stop(std::chrono::seconds(30)) == 0);
  CHECK(*started == posted);
}
