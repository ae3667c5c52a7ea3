#pragma once
// Owns one FUSE mount: the low-level session, the mount itself and the multithreaded
// loop thread. Destroying a FuseHost unmounts and joins; an unmount from outside
// (fusermount3 -u) ends the loop, which the daemon notices through alive().
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "core/error.h"
#include "federation/federation.h"
#include "fuse/kernel_invalidator.h"

namespace musicfs {

class FuseHost {
 public:
  // `allow_other`: let every user in (still under default_permissions); `where` names
  // the config line for the error when fuse.conf does not allow it.
  static Result<std::unique_ptr<FuseHost>> mount(const std::string& mount_point, Federation& federation,
                                                 std::shared_ptr<KernelInvalidator> invalidator,
                                                 bool allow_other = false, const std::string& where = {});
  ~FuseHost();
  FuseHost(const FuseHost&) = delete;
  FuseHost& operator=(const FuseHost&) = delete;

  bool alive() const { return alive_.load(); }
  const std::string& mount_point() const { return mount_point_; }
  // Entries of the inode table: what the kernel holds a lookup of, the root included.
  size_t kernel_inodes() const;

 private:
  FuseHost() = default;
  void unmount_now();

  std::string mount_point_;
  struct fuse_session* session_ = nullptr;
  std::shared_ptr<KernelInvalidator> invalidator_;
  std::unique_ptr<struct FuseContext> context_;
  std::thread loop_;
  std::atomic<bool> alive_{false};
  dev_t dev_ = 0;
};

}  // namespace musicfs
