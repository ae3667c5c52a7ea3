#include "fuse/kernel_invalidator.h"

namespace musicfs {

KernelInvalidator::KernelInvalidator() : worker_([this] { run(); }) {}

KernelInvalidator::~KernelInvalidator() {
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  worker_.join();
}

void KernelInvalidator::attach(struct fuse_session* se, const InodeTable* inodes) {
  std::lock_guard lock(session_mu_);
  session_ = se;
  inodes_ = inodes;
}

void KernelInvalidator::detach() {
  {
    std::lock_guard lock(session_mu_);
    session_ = nullptr;
    inodes_ = nullptr;
  }
  std::lock_guard lock(queue_mu_);
  queue_.clear();
}

void KernelInvalidator::invalidate(const std::string& path) {
  changes_.fetch_add(1, std::memory_order_acq_rel);
  InodeTable::Known k;
  {
    std::shared_lock lock(session_mu_);
    if (session_ == nullptr) return;
    k = inodes_->find(path);
  }
  if (k.id == 0) return;  // never looked up, or forgotten: nothing cached
  {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(std::move(k));
  }
  queue_cv_.notify_all();
}

void KernelInvalidator::run() {
  std::unique_lock lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    InodeTable::Known k = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    {
      std::shared_lock session(session_mu_);
      // ENOENT (the kernel dropped it meanwhile) is the common, harmless answer. An id
      // reused since it was queued gets one needless invalidation, never a missed one.
      if (session_ != nullptr) {
        (void)fuse_lowlevel_notify_inval_inode(session_, k.id, 0, 0);
        if (k.parent != 0) (void)fuse_lowlevel_notify_inval_entry(session_, k.parent, k.name.data(), k.name.size());
      }
    }
    lock.lock();
  }
}

}  // namespace musicfs
