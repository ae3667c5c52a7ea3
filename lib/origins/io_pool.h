#pragma once
// Worker threads that run one origin's blocking calls, so that a caller can stop
// waiting at its deadline even when the call itself cannot be interrupted (a read(2)
// on a hung NFS mount). A call that outlives its caller keeps its own state alive
// through shared ownership and finishes, or stays stuck, without harming anyone.
//
// The queue is bounded: when every worker is stuck and the queue is full, new calls
// fail at once instead of piling up behind a dead origin.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "util/time_util.h"

namespace musicfs {

class IoPool {
 public:
  IoPool(std::string name, size_t threads, size_t max_queue);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // Runs fn on a worker; returns false when the pool is saturated or stopping.
  // `done` is called on the worker after fn, and only if the caller is still waiting
  // is its result read; see run_bounded in bounded_origin.cpp.
  bool submit(std::function<void()> fn);

  size_t busy() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace musicfs
