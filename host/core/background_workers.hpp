// A few threads of the host's own for long jobs (billing runs, asking accounting systems), so
// they never hold an HTTPS I/O thread. stop() asks every job to end through its stop_token and
// waits; jobs still queued then run with the stop already requested, so each can record that it
// did not run.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace psahost {

class BackgroundWorkers {
 public:
  using Job = std::function<void(std::stop_token)>;

  explicit BackgroundWorkers(unsigned threads);
  ~BackgroundWorkers();  // stop()
  BackgroundWorkers(const BackgroundWorkers&) = delete;
  BackgroundWorkers& operator=(const BackgroundWorkers&) = delete;

  // Queues a job; false (and nothing queued) once stop() has begun. A job must not throw.
  bool post(Job job);
  // Requests stop, lets the jobs finish (queued ones included) and joins. Idempotent.
  void stop();

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::stop_source stop_;
  std::mutex join_mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace psahost
