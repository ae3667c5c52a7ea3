#pragma once
// Lets the federation drop what the kernel caches for a virtual path whose index entry
// changed: the entry (name → inode), the inode's attributes, its pages and, for a
// directory, its cached listing. Safe to call before the mount exists and after it is
// gone (it does nothing then), and from any thread.
//
// The kernel's side runs on a thread of its own. Dropping an entry takes its parent
// directory's lock in the kernel, and a lookup in that directory holds the lock while
// it waits in the daemon, for the index to load say; were the indexer to call the
// kernel itself, it would wait for that lookup, which waits for the indexer. Queued,
// the indexer never waits on the kernel.
//
// Only what the kernel knows (an entry of the inode table) can be cached there, and a
// name the kernel learns after the index changed is learnt fresh: so a path is looked
// up in the table when it is queued, and an unknown one costs nothing. The queue is
// thus bounded by the kernel's own inode count.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "fuse/inode_table.h"

namespace musicfs {

class KernelInvalidator {
 public:
  KernelInvalidator();
  ~KernelInvalidator();
  KernelInvalidator(const KernelInvalidator&) = delete;
  KernelInvalidator& operator=(const KernelInvalidator&) = delete;

  void attach(struct fuse_session* se, const InodeTable* inodes);
  // After detach no call reaches the session any more (what is queued is dropped).
  void detach();
  void invalidate(const std::string& path);
  // Counts invalidations begun: a reply built from the index while this moved may
  // carry attributes that were already invalidated (see cache_timeout).
  uint64_t changes() const { return changes_.load(std::memory_order_acquire); }

 private:
  void run();

  // Shared while the worker calls the kernel, exclusive to attach and detach.
  std::shared_mutex session_mu_;
  struct fuse_session* session_ = nullptr;
  const InodeTable* inodes_ = nullptr;
  std::atomic<uint64_t> changes_{0};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<InodeTable::Known> queue_;
  bool stop_ = false;
  std::thread worker_;  // last: started once everything above exists
};

}  // namespace musicfs
