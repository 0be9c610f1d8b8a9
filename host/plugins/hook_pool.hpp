// The threads in-process plugin hooks run on, so that no HTTPS I/O thread ever runs plugin code.
// A caller waits for its call until a deadline; a call still running then is left to finish.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace psahost::plugins {

class HookPool {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts threads on demand, up to max_threads; a queued call waits for a free one.
  explicit HookPool(std::size_t max_threads = 16);
  ~HookPool();  // stop(0)
  HookPool(const HookPool&) = delete;
  HookPool& operator=(const HookPool&) = delete;

  enum class Outcome {
    done,     // the job ran and returned before the deadline
    late,     // the deadline passed while the job ran; it goes on, its end calls on_late
    not_run,  // the deadline passed (or the pool stopped) before a thread took the job
  };
  // Runs job on a pool thread and waits for it until deadline. on_late runs on the pool thread
  // when a job that came back late finally returns.
  Outcome run(const std::function<void()>& job, Clock::time_point deadline,
              std::function<void()> on_late = {});
  // Queues job with no one waiting for it; false once stopping.
  bool post(std::function<void()> job);

  // Takes no more jobs, drops the queued ones, and waits up to grace for running ones. Returns
  // how many still run (their threads are left behind, detached).
  std::size_t stop(std::chrono::milliseconds grace);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace psahost::plugins
