#include <sys/statvfs.h>

#include <cstring>

#include "fuse/fuse_ops.h"

namespace musicfs {

void fill_stat(const EntryAttr& a, const FuseContext& ctx, struct stat* st) {
  std::memset(st, 0, sizeof *st);
  // The tree is read-only: write bits are dropped so tools do not offer to edit.
  mode_t perm = a.mode & 07555;
  switch (a.type) {
    case EntryType::kDirectory:
      st->st_mode = S_IFDIR | perm;
      st->st_nlink = 2;
      st->st_size = 4096;
      break;
    case EntryType::kSymlink:
      st->st_mode = S_IFLNK | 0777;
      st->st_nlink = 1;
      st->st_size = static_cast<off_t>(a.symlink_target.size());
      break;
    case EntryType::kFile:
      st->st_mode = S_IFREG | perm;
      st->st_nlink = 1;
      st->st_size = static_cast<off_t>(a.size);
      break;
  }
  st->st_uid = ctx.uid;
  st->st_gid = ctx.gid;
  st->st_blksize = 1 << 20;
  st->st_blocks = (st->st_size + 511) / 512;
  st->st_mtim.tv_sec = a.mtime_sec;
  st->st_mtim.tv_nsec = a.mtime_nsec;
  st->st_atim = st->st_mtim;
  st->st_ctim = st->st_mtim;
}

void* op_init(struct fuse_conn_info* conn, struct fuse_config* cfg) {
  // Entries come from the index and change only when the index does; the federation
  // then invalidates them explicitly, so the kernel may cache them for long.
  cfg->entry_timeout = 60;
  cfg->attr_timeout = 60;
  cfg->negative_timeout = 0;  // a file that appears must be visible at once
  cfg->use_ino = 0;
  cfg->nullpath_ok = 0;  // readdir and getattr need the path
  cfg->kernel_cache = 0;  // keep_cache is decided per open
  conn->max_readahead = 1 << 20;
  if (conn->capable & FUSE_CAP_ASYNC_READ) conn->want |= FUSE_CAP_ASYNC_READ;
  return fuse_get_context()->private_data;
}

int op_getattr(const char* path, struct stat* st, struct fuse_file_info*) {
  auto& ctx = fuse_ctx();
  auto a = ctx.federation->getattr(path);
  if (!a) return -to_errno(a.error());
  fill_stat(*a, ctx, st);
  return 0;
}

int op_readlink(const char* path, char* buf, size_t size) {
  auto a = fuse_ctx().federation->getattr(path);
  if (!a) return -to_errno(a.error());
  if (a->type != EntryType::kSymlink) return -EINVAL;
  if (size == 0) return -EINVAL;
  // The link is returned as it is; the daemon never follows it (no escape from a root).
  size_t n = std::min(size - 1, a->symlink_target.size());
  std::memcpy(buf, a->symlink_target.data(), n);
  buf[n] = '\0';
  return 0;
}

int op_statfs(const char*, struct statvfs* st) {
  std::memset(st, 0, sizeof *st);
  st->f_bsize = 1 << 20;
  st->f_frsize = 4096;
  st->f_namemax = 255;
  st->f_flag = ST_RDONLY;
  return 0;
}

int op_access(const char* path, int mask) {
  auto a = fuse_ctx().federation->getattr(path);
  if (!a) return -to_errno(a.error());
  if (mask & W_OK) return -EROFS;
  return 0;
}

}  // namespace musicfs
