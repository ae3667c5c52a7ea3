#include <fcntl.h>

#include "fuse/fuse_ops.h"

namespace musicfs {

// The file handle is a heap FileSession owned through fi->fh from open to release.
static FileSession* session_of(struct fuse_file_info* fi) {
  return reinterpret_cast<std::shared_ptr<FileSession>*>(fi->fh)->get();
}

int op_open(const char* path, struct fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT)) != 0) return -EROFS;
  auto s = fuse_ctx().federation->open(path);
  if (!s) return -to_errno(s.error());
  auto* handle = new std::shared_ptr<FileSession>(std::move(*s));
  {
    auto& ctx = fuse_ctx();
    std::lock_guard lock(ctx.open_mu);
    ctx.open_handles.insert(handle);
  }
  fi->fh = reinterpret_cast<uint64_t>(handle);
  // The kernel's page cache stays valid across opens: when the file changes at an
  // origin, the index update invalidates the inode (and its pages) explicitly.
  fi->keep_cache = 1;
  return 0;
}

int op_read(const char*, char* buf, size_t size, off_t offset, struct fuse_file_info* fi) {
  if (offset < 0) return -EINVAL;
  auto r = fuse_ctx().federation->read(*session_of(fi), static_cast<uint64_t>(offset), std::span<char>(buf, size));
  if (!r) return -to_errno(r.error());
  return static_cast<int>(*r);
}

int op_release(const char*, struct fuse_file_info* fi) {
  auto* handle = reinterpret_cast<std::shared_ptr<FileSession>*>(fi->fh);
  {
    auto& ctx = fuse_ctx();
    std::lock_guard lock(ctx.open_mu);
    ctx.open_handles.erase(handle);
  }
  // A background prefetch may still hold the session; it stops at its next chunk.
  (*handle)->closed.store(true);
  delete handle;
  fi->fh = 0;
  return 0;
}

void FuseContext::release_all() {
  std::unordered_set<std::shared_ptr<FileSession>*> left;
  {
    std::lock_guard lock(open_mu);
    left.swap(open_handles);
  }
  for (auto* handle : left) {
    (*handle)->closed.store(true);
    delete handle;
  }
}

}  // namespace musicfs
