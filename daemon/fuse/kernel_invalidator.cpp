#include "fuse/kernel_invalidator.h"

#include <mutex>

#include "fuse/inode_table.h"

namespace musicfs {

void KernelInvalidator::attach(struct fuse_session* se, const InodeTable* inodes) {
  std::lock_guard lock(mu_);
  session_ = se;
  inodes_ = inodes;
}

void KernelInvalidator::detach() {
  std::lock_guard lock(mu_);
  session_ = nullptr;
  inodes_ = nullptr;
}

void KernelInvalidator::invalidate(const std::string& path) {
  changes_.fetch_add(1, std::memory_order_acq_rel);
  std::shared_lock lock(mu_);
  if (session_ == nullptr) return;
  // Only what the kernel was told about can be cached there; the table's lock is not
  // held across the calls below, which may wait for a request that needs it.
  InodeTable::Known k = inodes_->find(path);
  // ENOENT (the kernel has since dropped it) is the common, harmless answer.
  if (k.id != 0) (void)fuse_lowlevel_notify_inval_inode(session_, k.id, 0, 0);
  if (k.parent != 0) (void)fuse_lowlevel_notify_inval_entry(session_, k.parent, k.name.data(), k.name.size());
}

}  // namespace musicfs
