#include "core/background_workers.hpp"

#include <algorithm>

namespace psahost {

BackgroundWorkers::BackgroundWorkers(unsigned threads) : long_limit_(std::max(2u, threads) - 1) {
  for (unsigned i = 0; i < std::max(2u, threads); ++i) threads_.emplace_back([this] { work(); });
}

BackgroundWorkers::~BackgroundWorkers() {
  stop();
}

bool BackgroundWorkers::queue(std::deque<Job>& into, Job job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    into.push_back(std::move(job));
  }
  ready_.notify_all();
  return true;
}

bool BackgroundWorkers::post(Job job) {
  return queue(short_, std::move(job));
}

bool BackgroundWorkers::post_long(Job job) {
  return queue(long_, std::move(job));
}

void BackgroundWorkers::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.request_stop();
  ready_.notify_all();
  // A second caller waits here for the first one's joins and then finds nothing to join.
  std::lock_guard lock(join_mutex_);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void BackgroundWorkers::work() {
  for (;;) {
    Job job;
    bool is_long = false;
    {
      std::unique_lock lock(mutex_);
      const auto long_may_start = [this] {
        return !long_.empty() && (long_running_ < long_limit_ || stopping_);
      };
      ready_.wait(lock, [&] {
        return !short_.empty() || long_may_start() || (stopping_ && long_.empty());
      });
      if (!short_.empty()) {
        job = std::move(short_.front());
        short_.pop_front();
      } else if (long_may_start()) {
        job = std::move(long_.front());
        long_.pop_front();
        is_long = true;
        ++long_running_;
      } else {
        return;  // stopping, and nothing left to hand a stopped token to
      }
    }
    job(stop_.get_token());
    if (!is_long) continue;
    {
      std::lock_guard lock(mutex_);
      --long_running_;
    }
    ready_.notify_all();  // a waiting long job may start now
  }
}

}  // namespace psahost
