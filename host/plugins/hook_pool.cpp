#include "plugins/hook_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace psahost::plugins {

namespace {

enum class State { queued, running, done, dropped, abandoned_queued, abandoned_running };

struct Waiter {
  State state = State::queued;
  std::condition_variable changed;
  std::function<void()> on_late;
};

struct Task {
  std::function<void()> job;
  std::shared_ptr<Waiter> waiter;  // null for post()
};

// This thread's open bursts, and the pools its posts have left to wake.
struct BurstState {
  int depth = 0;
  // Each pool's work signal, sharing ownership of its pool so that it outlives the burst.
  std::vector<std::shared_ptr<std::condition_variable>> to_wake;
};
thread_local BurstState burst;

}  // namespace

// How long jobs may wait while no job ends before the pool takes a thread beyond its core: the
// threads are then taken to be blocked (a remote call, a stuck plugin) rather than busy. Jobs
// that keep the CPU busy end all the time, however loaded the machine is.
constexpr auto kStalledAfter = std::chrono::milliseconds(5);

// Shared with the threads, which may outlive the pool when a job never returns.
struct HookPool::Shared : std::enable_shared_from_this<HookPool::Shared> {
  std::mutex mutex;
  std::condition_variable work;
  std::condition_variable idle;  // a job ended (stop() waits on it)
  std::deque<Task> queue;
  std::size_t max_threads = 0;
  // As many threads as cores are started on demand; past them one more is started only while
  // jobs wait and none has ended for a while. More threads than cores for calls that keep the
  // CPU busy would only switch between them.
  std::size_t core_threads = 0;
  std::size_t threads = 0;
  Clock::time_point last_progress;  // when a job last ended or a thread was started
  bool growth_check_set = false;
  std::size_t waiting = 0;  // threads waiting for a job
  std::size_t running = 0;
  bool stopping = false;
  std::vector<std::thread> handles;

  // The timers, under their own lock so that setting one never waits on the job queue.
  std::mutex timer_mutex;
  std::condition_variable timers_changed;
  std::map<std::pair<Clock::time_point, uint64_t>, std::function<void()>> timers;
  uint64_t next_timer = 0;
  bool timers_stopping = false;
  std::thread timer_thread;  // started by the first timer

  Timer at(Clock::time_point when, std::function<void()> fn) {
    std::unique_lock lock(timer_mutex);
    const Timer timer{when, ++next_timer};
    if (timers_stopping) {
      lock.unlock();
      fn();  // the pool has stopped: the deadline is now
      return timer;
    }
    const bool earliest = timers.empty() || when < timers.begin()->first.first;
    timers.emplace(std::make_pair(when, timer.id), std::move(fn));
    if (!timer_thread.joinable()) {
      timer_thread = std::thread([self = shared_from_this()] { self->timer_loop(); });
    } else if (earliest) {
      // Only a timer due before every other one wakes the thread; the usual one, due a timeout
      // from now, comes after those already set and costs no wake-up.
      lock.unlock();
      timers_changed.notify_one();
    }
    return timer;
  }

  void timer_loop() {
    std::unique_lock lock(timer_mutex);
    for (;;) {
      if (timers.empty()) {
        if (timers_stopping) return;
        timers_changed.wait(lock);
        continue;
      }
      const auto first = timers.begin();
      // A copy: the wait releases the lock, and a cancel may free the timer meanwhile.
      const Clock::time_point due = first->first.first;
      if (!timers_stopping && due > Clock::now()) {
        timers_changed.wait_until(lock, due);
        continue;
      }
      auto fn = std::move(first->second);
      timers.erase(first);
      lock.unlock();
      fn();
      fn = nullptr;  // what it holds is released outside the lock too
      lock.lock();
    }
  }

  void work_loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      ++waiting;
      work.wait(lock, [&] { return stopping || !queue.empty(); });
      --waiting;
      if (queue.empty()) break;  // stopping
      Task task = std::move(queue.front());
      queue.pop_front();
      if (task.waiter) {
        if (task.waiter->state == State::abandoned_queued) continue;
        task.waiter->state = State::running;
      }
      ++running;
      lock.unlock();
      task.job();
      task.job = nullptr;  // whatever the job holds (a plugin) is released before waiting
      lock.lock();
      --running;
      last_progress = Clock::now();
      if (task.waiter) {
        if (task.waiter->state == State::abandoned_running) {
          auto on_late = std::move(task.waiter->on_late);
          lock.unlock();
          if (on_late) on_late();
          lock.lock();
        } else {
          task.waiter->state = State::done;
          // Woken after the unlock, so the caller does not wake only to wait for this mutex;
          // task holds the waiter, so it outlives a caller that has already gone.
          lock.unlock();
          task.waiter->changed.notify_one();
          lock.lock();
        }
      }
      if (stopping) idle.notify_all();
    }
    --threads;
    idle.notify_all();
  }

  bool stalled() const { return Clock::now() - last_progress >= kStalledAfter; }

  void start_thread() {
    ++threads;
    last_progress = Clock::now();
    handles.emplace_back([self = shared_from_this()] { self->work_loop(); });
  }

  // Called with the lock held, after queueing: a thread for the job when none is free and the
  // pool may grow. True when a waiting thread is to be woken, which the caller does once it has
  // unlocked.
  bool grow() {
    if (waiting >= queue.size()) return true;
    if (threads < core_threads || (threads < max_threads && stalled())) {
      start_thread();
      return false;
    }
    // Every thread is busy: looked at again shortly, in case they are all blocked by then.
    if (threads < max_threads && !growth_check_set) {
      growth_check_set = true;
      at(Clock::now() + kStalledAfter, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->check_growth();
      });
    }
    return false;
  }

  void check_growth() {
    std::lock_guard lock(mutex);
    growth_check_set = false;
    if (stopping || queue.empty() || waiting >= queue.size()) return;
    grow();
  }
};

HookPool::HookPool(std::size_t max_threads) : shared_(std::make_shared<Shared>()) {
  shared_->max_threads = max_threads ? max_threads : 1;
  shared_->core_threads = std::min<std::size_t>(shared_->max_threads,
                                                std::max(2U, std::thread::hardware_concurrency()));
}

HookPool::~HookPool() {
  stop(std::chrono::milliseconds(0));
}

HookPool::Outcome HookPool::run(const std::function<void()>& job, Clock::time_point deadline,
                                std::function<void()> on_late) {
  auto waiter = std::make_shared<Waiter>();
  waiter->on_late = std::move(on_late);
  std::unique_lock lock(shared_->mutex);
  if (shared_->stopping) return Outcome::not_run;
  shared_->queue.push_back(Task{job, waiter});
  if (shared_->grow()) {
    lock.unlock();
    shared_->work.notify_one();
    lock.lock();
  }
  waiter->changed.wait_until(lock, deadline, [&] {
    return waiter->state == State::done || waiter->state == State::dropped;
  });
  if (waiter->state == State::done) return Outcome::done;
  if (waiter->state == State::queued || waiter->state == State::dropped) {
    waiter->state = State::abandoned_queued;
    return Outcome::not_run;
  }
  waiter->state = State::abandoned_running;
  return Outcome::late;
}

bool HookPool::post(std::function<void()> job) {
  std::unique_lock lock(shared_->mutex);
  if (shared_->stopping) return false;
  shared_->queue.push_back(Task{std::move(job), nullptr});
  if (shared_->grow()) {
    lock.unlock();
    if (burst.depth == 0) {
      shared_->work.notify_one();
    } else if (std::none_of(burst.to_wake.begin(), burst.to_wake.end(),
                            [&](const auto& w) { return w.get() == &shared_->work; })) {
      burst.to_wake.emplace_back(shared_, &shared_->work);
    }
  }
  return true;
}

HookPool::Burst::Burst() {
  ++burst.depth;
}

HookPool::Burst::~Burst() {
  if (--burst.depth > 0) return;
  for (const auto& work : burst.to_wake) work->notify_all();
  burst.to_wake.clear();
}

HookPool::Timer HookPool::at(Clock::time_point when, std::function<void()> fn) {
  return shared_->at(when, std::move(fn));
}

bool HookPool::cancel(const Timer& timer) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard lock(shared_->timer_mutex);
  const auto it = shared_->timers.find({timer.when, timer.id});
  if (it == shared_->timers.end()) return false;
  dropped = std::move(it->second);
  shared_->timers.erase(it);
  return true;
}

std::size_t HookPool::stop(std::chrono::milliseconds grace) {
  {
    // Timers first: each answers at once a call nobody will run any more.
    std::unique_lock lock(shared_->timer_mutex);
    shared_->timers_stopping = true;
    lock.unlock();
    shared_->timers_changed.notify_all();
    if (shared_->timer_thread.joinable()) {
      if (shared_->timer_thread.get_id() == std::this_thread::get_id()) {
        shared_->timer_thread.detach();  // stopped by one of its own timers
      } else {
        shared_->timer_thread.join();
      }
    }
  }
  std::vector<std::thread> handles;
  std::size_t still_running = 0;
  {
    std::unique_lock lock(shared_->mutex);
    shared_->stopping = true;
    for (auto& task : shared_->queue) {
      if (task.waiter) {
        task.waiter->state = State::dropped;
        task.waiter->changed.notify_all();
      }
    }
    shared_->queue.clear();
    shared_->work.notify_all();
    shared_->idle.wait_for(lock, grace, [&] { return shared_->running == 0; });
    still_running = shared_->running;
    handles.swap(shared_->handles);
  }
  // A thread stuck in a plugin keeps the shared state alive through its own copy of the
  // pointer below; the others have ended or are about to.
  for (auto& t : handles) {
    if (still_running == 0) {
      t.join();
    } else {
      t.detach();
    }
  }
  return still_running;
}

}  // namespace psahost::plugins
