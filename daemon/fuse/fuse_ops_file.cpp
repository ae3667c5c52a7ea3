// Files: open makes a FileSession (the read path's per-handle state), read asks the
// federation, release ends the session.
//
// The open path decides, per file, where its bytes will come from; today that is
// always the federation's read path. FUSE passthrough (libfuse >= 3.17) would let a
// local origin's or a cache segment's fd serve the kernel directly: it slots in here,
// as another outcome of open, without touching lookup, read or release.
#include <fcntl.h>

#include <vector>

#include "fuse/fuse_ops.h"

namespace musicfs {

// The file handle is a heap shared_ptr<FileSession> owned through fi->fh from open
// to release.
static std::shared_ptr<FileSession>* handle_of(struct fuse_file_info* fi) {
  return reinterpret_cast<std::shared_ptr<FileSession>*>(fi->fh);
}

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT)) != 0) {
    fuse_reply_err(req, EROFS);
    return;
  }
  auto path = path_or_reply(req, ino);
  if (!path) return;
  auto& ctx = fuse_ctx(req);
  auto s = ctx.federation->open(*path);
  if (!s) {
    fuse_reply_err(req, to_errno(s.error()));
    return;
  }
  auto* handle = new std::shared_ptr<FileSession>(std::move(*s));
  {
    std::lock_guard lock(ctx.open_mu);
    ctx.open_handles.insert(handle);
  }
  fi->fh = reinterpret_cast<uint64_t>(handle);
  if (ctx.inodes.told_differs(ino, (*handle)->opened)) {
    // Another copy serves the path than the kernel's attributes describe (the route
    // changed and its invalidation is still on its way): its cached size would cut or
    // pad this reader's bytes, and its pages are the other copy's. This handle reads
    // past both, and the kernel is told the new attributes.
    fi->direct_io = 1;
    fi->keep_cache = 0;
    ctx.invalidator->invalidate(*path);
  } else {
    // The kernel's page cache stays valid across opens: when the file changes at an
    // origin, the index update invalidates the inode (and its pages) explicitly.
    fi->keep_cache = 1;
  }
  if (fuse_reply_open(req, fi) != 0) {
    // Interrupted: the kernel will never release this handle.
    std::lock_guard lock(ctx.open_mu);
    ctx.open_handles.erase(handle);
    (*handle)->closed.store(true);
    delete handle;
  }
}

void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, struct fuse_file_info* fi) {
  if (off < 0) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  // One buffer per FUSE worker thread, grown to the largest request (1 MiB): the
  // bytes are copied into it once and written to the kernel from it.
  thread_local std::vector<char> buf;
  if (buf.size() < size) buf.resize(size);
  auto r = fuse_ctx(req).federation->read(**handle_of(fi), static_cast<uint64_t>(off), std::span<char>(buf.data(), size));
  if (!r) {
    fuse_reply_err(req, to_errno(r.error()));
    return;
  }
  fuse_reply_buf(req, buf.data(), *r);
}

void op_release(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
  auto* handle = handle_of(fi);
  {
    auto& ctx = fuse_ctx(req);
    std::lock_guard lock(ctx.open_mu);
    ctx.open_handles.erase(handle);
  }
  // A background prefetch may still hold the session; it stops at its next chunk.
  (*handle)->closed.store(true);
  delete handle;
  fi->fh = 0;
  fuse_reply_err(req, 0);
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
