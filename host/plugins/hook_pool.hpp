// The threads in-process plugin hooks run on, so that no HTTPS I/O thread ever runs plugin code.
// A caller waits for its call until a deadline; a call still running then is left to finish.
// Calls nobody waits for (post) meet their deadline through the pool's timer thread (at).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
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

  // While one lives, jobs this thread posts wake no pool thread until the last one ends: a
  // caller that posts many calls at once wakes each pool once for all of them, rather than
  // once per call (a thread woken for every call is a context switch for every call).
  class Burst {
   public:
    Burst();
    ~Burst();
    Burst(const Burst&) = delete;
    Burst& operator=(const Burst&) = delete;
  };

  // Runs fn on the pool's timer thread at when, unless cancelled first. A timer must not block:
  // the next ones wait for it. Timers still pending when the pool stops run then, early, so that
  // nobody waits for an answer that can no longer come.
  struct Timer {
    Clock::time_point when;
    uint64_t id = 0;
  };
  Timer at(Clock::time_point when, std::function<void()> fn);
  // True when the timer had not run yet (and now never will).
  bool cancel(const Timer& timer);

  // Takes no more jobs, drops the queued ones, and waits up to grace for running ones. Returns
  // how many still run (their threads are left behind, detached).
  std::size_t stop(std::chrono::milliseconds grace);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace psahost::plugins
