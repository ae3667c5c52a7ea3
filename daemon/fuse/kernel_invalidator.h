#pragma once
// Lets the federation drop what the kernel caches for a virtual path whose index entry
// changed: the entry (name → inode), the inode's attributes, its pages and, for a
// directory, its cached listing. Safe to call before the mount exists and after it is
// gone (it does nothing then), and from any thread but a FUSE request's own.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>

namespace musicfs {

class InodeTable;

class KernelInvalidator {
 public:
  void attach(struct fuse_session* se, const InodeTable* inodes);
  void detach();
  void invalidate(const std::string& path);
  // Counts invalidations begun: a reply built from the index while this moved may
  // carry attributes that were already invalidated (see cache_timeout).
  uint64_t changes() const { return changes_.load(std::memory_order_acquire); }

 private:
  // Shared for invalidations, which may wait in the kernel (on a page that a read in
  // flight holds locked) and come from every origin's index worker at once; exclusive
  // only to attach and detach.
  std::shared_mutex mu_;
  struct fuse_session* session_ = nullptr;
  const InodeTable* inodes_ = nullptr;
  std::atomic<uint64_t> changes_{0};
};

}  // namespace musicfs
