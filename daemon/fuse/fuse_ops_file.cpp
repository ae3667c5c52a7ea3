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
  fi->fh = reinterpret_cast<uint64_t>(new std::shared_ptr<FileSession>(std::move(*s)));
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
  delete reinterpret_cast<std::shared_ptr<FileSession>*>(fi->fh);
  fi->fh = 0;
  return 0;
}

}  // namespace musicfs
