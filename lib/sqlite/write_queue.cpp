#include "sqlite/write_queue.h"

#include <spdlog/spdlog.h>

namespace musicfs {

WriteQueue::WriteQueue(SqliteDb& db, std::string what) : db_(db), what_(std::move(what)) {
  thread_ = std::thread([this] { loop(); });
}

WriteQueue::~WriteQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WriteQueue::enqueue(Write write) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(write));
  }
  cv_.notify_one();
}

void WriteQueue::flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void WriteQueue::loop() {
  for (;;) {
    std::deque<Write> batch;
    {
      std::unique_lock lock(mu_);
      busy_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      batch.swap(queue_);
      busy_ = true;
    }
    // One transaction per batch: many small writes cost one commit of the WAL.
    SqliteTransaction tx(db_);
    for (auto& w : batch) w(db_);
    if (auto s = tx.commit(); !s) spdlog::error("{} write failed: {}", what_, s.error().message);
  }
}

}  // namespace musicfs
