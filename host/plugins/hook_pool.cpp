#include "plugins/hook_pool.hpp"

#include <condition_variable>
#include <deque>
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

}  // namespace

// Shared with the threads, which may outlive the pool when a job never returns.
struct HookPool::Shared : std::enable_shared_from_this<HookPool::Shared> {
  std::mutex mutex;
  std::condition_variable work;
  std::condition_variable idle;  // a job ended (stop() waits on it)
  std::deque<Task> queue;
  std::size_t max_threads = 0;
  std::size_t threads = 0;
  std::size_t waiting = 0;  // threads waiting for a job
  std::size_t running = 0;
  bool stopping = false;
  std::vector<std::thread> handles;

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

  // Called with the lock held, after queueing: a thread for the job when none is free. True
  // when a waiting thread is to be woken, which the caller does once it has unlocked.
  bool grow() {
    if (waiting >= queue.size() || threads >= max_threads) return true;
    ++threads;
    handles.emplace_back([self = shared_from_this()] { self->work_loop(); });
    return false;
  }
};

HookPool::HookPool(std::size_t max_threads) : shared_(std::make_shared<Shared>()) {
  shared_->max_threads = max_threads ? max_threads : 1;
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
    shared_->work.notify_one();
  }
  return true;
}

std::size_t HookPool::stop(std::chrono::milliseconds grace) {
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
