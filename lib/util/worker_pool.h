#pragma once
// A few worker threads that run queued jobs in the background. Unlike IoPool (which
// may leave a call stuck on a hung origin behind), stop() waits for the running jobs:
// a job here may use its owner's members, and its owner stops the pool before they
// go. Jobs must therefore be bounded (the read path's deadlines bound them) and should
// check stopping() between steps.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace musicfs {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queue);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues job; false when the queue is full or the pool is stopping (the job is
  // then not run, and the caller does the work itself or goes without).
  bool submit(std::function<void()> job);
  // Drops queued jobs and waits for the running ones. Idempotent.
  void stop();
  bool stopping() const;

 private:
  void run();

  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace musicfs
