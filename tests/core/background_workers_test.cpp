// The background workers: long jobs (billing runs) never take the last thread, so a short job
// runs while they go on, and stop() hands queued jobs a token with the stop already requested.
#include "core/background_workers.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

using psahost::BackgroundWorkers;

namespace {

// A gate jobs wait at until the test opens it.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Waits for a flag the jobs set; only ever waits out the limit when the test is about to fail.
bool becomes_true(const std::atomic<bool>& flag) {
  return psahost::test::eventually([&] { return flag.load(); });
}

}  // namespace

TEST_CASE("long jobs never take the last worker, so a short job runs while they go on",
          "[background]") {
  BackgroundWorkers workers(3);
  Gate release;
  std::atomic<int> long_started{0};
  std::atomic<bool> third_started{false}, short_done{false}, both_started{false};
  for (int i = 0; i < 2; ++i) {
    REQUIRE(workers.post_long([&](std::stop_token) {
      if (++long_started == 2) both_started = true;
      release.wait();
    }));
  }
  REQUIRE(becomes_true(both_started));
  REQUIRE(workers.post_long([&](std::stop_token) { third_started = true; }));
  REQUIRE(workers.post([&](std::stop_token) { short_done = true; }));
  REQUIRE(becomes_true(short_done));
  // Two long jobs run, so the third waits although a thread is idle.
  CHECK_FALSE(third_started);
  release.open();
  CHECK(becomes_true(third_started));
}

TEST_CASE("stop asks running jobs to end and hands queued ones a stopped token", "[background]") {
  auto workers = std::make_unique<BackgroundWorkers>(2);
  std::atomic<bool> running{false}, saw_stop{false}, queued_saw_stop{false};
  REQUIRE(workers->post_long([&](std::stop_token stop) {
    running = true;
    while (!stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    saw_stop = true;
  }));
  REQUIRE(becomes_true(running));
  REQUIRE(
      workers->post_long([&](std::stop_token stop) { queued_saw_stop = stop.stop_requested(); }));
  workers->stop();
  CHECK(saw_stop);
  CHECK(queued_saw_stop);
  CHECK_FALSE(workers->post([](std::stop_token) {}));
  workers->stop();  // idempotent
}
