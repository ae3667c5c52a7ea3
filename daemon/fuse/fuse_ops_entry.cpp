// Names and attributes: init, lookup, forget, getattr, readlink, statfs, access.
#include <sys/statvfs.h>

#include <cstring>

#include "fuse/fuse_ops.h"

namespace musicfs {

void fill_stat(const EntryAttr& a, const FuseContext& ctx, uint64_t ino, struct stat* st) {
  std::memset(st, 0, sizeof *st);
  st->st_ino = ino;
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

double cache_timeout(const FuseContext& ctx, uint64_t changes_before) {
  return ctx.invalidator->changes() == changes_before ? kIndexedTimeout : 0.0;
}

std::optional<std::string> path_or_reply(fuse_req_t req, fuse_ino_t ino) {
  auto p = fuse_ctx(req).inodes.path_of(ino);
  if (!p) fuse_reply_err(req, ESTALE);
  return p;
}

std::optional<NodeAttr> attr_or_reply(fuse_req_t req, fuse_ino_t ino) {
  auto path = path_or_reply(req, ino);
  if (!path) return std::nullopt;
  auto a = fuse_ctx(req).federation->getattr(*path);
  if (!a) {
    fuse_reply_err(req, to_errno(a.error()));
    return std::nullopt;
  }
  return NodeAttr{std::move(*path), std::move(*a)};
}

void op_init(void*, struct fuse_conn_info* conn) {
  conn->max_readahead = 1 << 20;
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  want(FUSE_CAP_ASYNC_READ);
  // One READDIRPLUS carries every entry's attributes, so a scanner's stat after a
  // listing costs no round trip; the kernel chooses plain READDIR when nobody stats.
  want(FUSE_CAP_READDIRPLUS);
  want(FUSE_CAP_READDIRPLUS_AUTO);
  want(FUSE_CAP_PARALLEL_DIROPS);
  want(FUSE_CAP_CACHE_SYMLINKS);
  // Pages are dropped when the index says a file changed (KernelInvalidator), never
  // because an attribute reply differs: that is the index's decision, not the kernel's.
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  want(FUSE_CAP_EXPLICIT_INVAL_DATA);
  // Enough requests in flight for several streaming readers plus a scanner.
  conn->max_background = 64;
  conn->congestion_threshold = 48;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto& ctx = fuse_ctx(req);
  const uint64_t before = ctx.invalidator->changes();
  auto path = ctx.inodes.child_path(parent, name);
  if (!path) {
    fuse_reply_err(req, ESTALE);
    return;
  }
  auto a = ctx.federation->getattr(*path);
  if (!a) {
    // No negative caching: a file that appears at an origin is visible at once.
    fuse_reply_err(req, to_errno(a.error()));
    return;
  }
  auto ref = ctx.inodes.lookup(parent, name, &*a);
  if (!ref) {
    fuse_reply_err(req, ESTALE);
    return;
  }
  struct fuse_entry_param e {};
  e.ino = ref->id;
  e.generation = ref->generation;
  fill_stat(*a, ctx, ref->id, &e.attr);
  e.attr_timeout = e.entry_timeout = cache_timeout(ctx, before);
  // A reply the kernel refuses (the caller was interrupted) holds no lookup.
  if (fuse_reply_entry(req, &e) != 0) ctx.inodes.forget(ref->id, 1);
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  fuse_ctx(req).inodes.forget(ino, nlookup);
  fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets) {
  auto& inodes = fuse_ctx(req).inodes;
  for (size_t i = 0; i < count; ++i) inodes.forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info*) {
  auto& ctx = fuse_ctx(req);
  const uint64_t before = ctx.invalidator->changes();
  auto path = path_or_reply(req, ino);
  if (!path) return;
  auto a = ctx.federation->getattr(*path);
  if (!a) {
    fuse_reply_err(req, to_errno(a.error()));
    return;
  }
  struct stat st;
  fill_stat(*a, ctx, ino, &st);
  ctx.inodes.note_told(ino, *a);
  fuse_reply_attr(req, &st, cache_timeout(ctx, before));
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  auto a = attr_or_reply(req, ino);
  if (!a) return;
  if (a->attr.type != EntryType::kSymlink) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  // The link is returned as it is; the daemon never follows it (no escape from a root).
  fuse_reply_readlink(req, a->attr.symlink_target.c_str());
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs st {};
  st.f_bsize = 1 << 20;
  st.f_frsize = 4096;
  st.f_namemax = 255;
  st.f_flag = ST_RDONLY;
  fuse_reply_statfs(req, &st);
}

void op_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  if (!attr_or_reply(req, ino)) return;
  fuse_reply_err(req, (mask & W_OK) ? EROFS : 0);
}

}  // namespace musicfs
