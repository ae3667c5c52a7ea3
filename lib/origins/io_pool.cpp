#include "origins/io_pool.h"

#include <spdlog/spdlog.h>
#include <thread>

namespace musicfs {

struct IoPool::Shared {
  std::string name;
  size_t max_queue = 0;
  std::mutex mu;
  std::condition_variable cv;        // work available or stopping
  std::condition_variable exited_cv;  // a worker exited
  std::deque<std::function<void()>> queue;
  size_t busy = 0;
  size_t alive = 0;
  bool stopping = false;
};

IoPool::IoPool(std::string name, size_t threads, size_t max_queue) : shared_(std::make_shared<Shared>()) {
  shared_->name = std::move(name);
  shared_->max_queue = max_queue;
  shared_->alive = threads;
  for (size_t i = 0; i < threads; ++i) {
    // Detached on purpose: a worker stuck in a syscall on a dead origin must not be
    // able to hang the daemon's shutdown. It holds the shared state until it returns.
    std::thread([s = shared_] {
      std::unique_lock lock(s->mu);
      for (;;) {
        s->cv.wait(lock, [&] { return s->stopping || !s->queue.empty(); });
        if (s->queue.empty()) break;  // stopping and drained
        auto fn = std::move(s->queue.front());
        s->queue.pop_front();
        ++s->busy;
        lock.unlock();
        fn();
        fn = nullptr;
        lock.lock();
        --s->busy;
      }
      --s->alive;
      s->exited_cv.notify_all();
    }).detach();
  }
}

IoPool::~IoPool() {
  std::unique_lock lock(shared_->mu);
  shared_->stopping = true;
  shared_->queue.clear();
  shared_->cv.notify_all();
  // Idle workers leave at once; one still in a call is not waited for (it may be stuck
  // in a hung origin, and an unmount must not wait on it): it leaves when its call
  // returns, holding only the shared state until then.
  (void)shared_->exited_cv.wait_for(lock, std::chrono::seconds(2), [&] { return shared_->alive == shared_->busy; });
  if (shared_->alive > 0) {
    spdlog::info("origin {}: leaving {} I/O worker(s) behind in calls that have not returned", shared_->name,
                 shared_->alive);
  }
}

bool IoPool::submit(std::function<void()> fn) {
  std::lock_guard lock(shared_->mu);
  if (shared_->stopping) return false;
  size_t idle = shared_->alive - shared_->busy;
  if (idle == 0 && shared_->queue.size() >= shared_->max_queue) return false;
  shared_->queue.push_back(std::move(fn));
  shared_->cv.notify_one();
  return true;
}

size_t IoPool::busy() const {
  std::lock_guard lock(shared_->mu);
  return shared_->busy;
}

}  // namespace musicfs
