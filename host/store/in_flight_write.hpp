// One write job in flight beside the caller's work, so that the next batch is prepared while this
// one is written (bulk approval, billing runs). At most one: start() after finish().
#pragma once

#include "store/store.hpp"

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

namespace psahost::store {

// Waited for through a mutex rather than a std::promise, for the reason Store::write gives.
class InFlightWrite {
 public:
  InFlightWrite() = default;
  InFlightWrite(const InFlightWrite&) = delete;
  InFlightWrite& operator=(const InFlightWrite&) = delete;
  // A write that is still running refers to the caller's frame: never leave before it ends.
  ~InFlightWrite() {
    if (state_) wait();
  }

  void start(Store& store, std::function<void(Tx&)> fn) {
    state_ = std::make_shared<State>();
    store.write_async(std::move(fn), [state = state_](std::exception_ptr error) {
      std::lock_guard lock(state->mutex);
      state->error = std::move(error);
      state->done = true;
      state->ready.notify_one();
    });
  }

  // Waits for the write started last, if any; rethrows what it threw. True if there was one.
  bool finish() {
    if (!state_) return false;
    std::exception_ptr error = wait();
    state_.reset();
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable ready;
    bool done = false;
    std::exception_ptr error;
  };
  std::exception_ptr wait() {
    std::unique_lock lock(state_->mutex);
    state_->ready.wait(lock, [&] { return state_->done; });
    return std::move(state_->error);
  }
  std::shared_ptr<State> state_;
};

}  // namespace psahost::store
