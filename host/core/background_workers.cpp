#include "core/background_workers.hpp"

#include <algorithm>

namespace psahost {

BackgroundWorkers::BackgroundWorkers(unsigned threads) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) threads_.emplace_back([this] { work(); });
}

BackgroundWorkers::~BackgroundWorkers() {
  stop();
}

bool BackgroundWorkers::post(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
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
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to hand a stopped token to
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job(stop_.get_token());
  }
}

}  // namespace psahost
