// A few threads of the host's own for work that must not hold an HTTPS I/O thread: short jobs
// (asking accounting systems, starting a run) and long ones (billing runs). Long jobs never take
// the last thread, so a short one never waits for a run to end. stop() asks every job to end
// through its stop_token and waits; jobs still queued then run with the stop already requested,
// so each can record that it did not run.
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

  // threads >= 2; at most threads - 1 long jobs run at once.
  explicit BackgroundWorkers(unsigned threads);
  ~BackgroundWorkers();  // stop()
  BackgroundWorkers(const BackgroundWorkers&) = delete;
  BackgroundWorkers& operator=(const BackgroundWorkers&) = delete;

  // Queues a job; false (and nothing queued) once stop() has begun. A job must not throw.
  bool post(Job job);
  // The same for a long job; it waits while threads - 1 long jobs run.
  bool post_long(Job job);
  // Requests stop, lets the jobs finish (queued ones included) and joins. Idempotent.
  void stop();

 private:
  bool queue(std::deque<Job>& into, Job job);
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> short_;
  std::deque<Job> long_;
  unsigned long_limit_;
  unsigned long_running_ = 0;
  bool stopping_ = false;
  std::stop_source stop_;
  std::mutex join_mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace psahost
