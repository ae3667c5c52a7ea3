#pragma once
// A tmpfs of a given size (root only), for a disk that fills up: a cache_dir on it
// sees ENOSPC once `size_bytes` are written. Unmounted (lazily) on destruction.
#include <sys/mount.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "support/test_env.h"

namespace musicfs::test {

class SizedTmpfs {
 public:
  SizedTmpfs(const std::string& where, uint64_t size_bytes) : where_(where) {
    require_root();
    mkdirs(where_);
    const std::string opts = "size=" + std::to_string(size_bytes) + ",mode=0700";
    if (::mount("tmpfs", where_.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      throw std::runtime_error("mount tmpfs (" + opts + ") at " + where_ + ": " + std::strerror(errno));
    }
  }
  ~SizedTmpfs() { ::umount2(where_.c_str(), MNT_DETACH); }
  SizedTmpfs(const SizedTmpfs&) = delete;
  SizedTmpfs& operator=(const SizedTmpfs&) = delete;
  const std::string& path() const { return where_; }

 private:
  std::string where_;
};

}  // namespace musicfs::test
