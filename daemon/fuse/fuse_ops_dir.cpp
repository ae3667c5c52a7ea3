// Directories: a listing is taken from the index once per open directory, at its first
// read, and served from that snapshot by offset, so that a listing the index changes
// under never repeats or skips a name.
#include <mutex>
#include <vector>

#include "fuse/fuse_ops.h"

namespace musicfs {

namespace {
struct DirHandle {
  std::mutex mu;
  std::string path;
  // Taken at the first read from offset 0: names (READDIR) or names with attributes
  // (READDIRPLUS); a rewind takes a new one.
  std::optional<std::vector<DirEntryView>> names;
  std::optional<std::vector<DirEntryAttr>> entries;
  uint64_t changes_before = 0;  // for the entries' cache timeout
};

DirHandle* dir_of(struct fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

mode_t type_bits(EntryType t) {
  return t == EntryType::kDirectory ? S_IFDIR : t == EntryType::kSymlink ? S_IFLNK : S_IFREG;
}

// A directory entry's inode number as readdir(3) shows it. Programs (and glibc) skip
// entries numbered 0, and plain READDIR does not make inodes, so its entries carry
// this placeholder, as libfuse's own high-level API does.
constexpr ino_t kUnknownIno = 0xffffffff;

// Offsets: 0 is the start, 1 after ".", 2 after "..", 2 + i + 1 after entry i.
constexpr off_t kFirstEntry = 2;

// The bytes of a read of `size` bytes from `off`, with entries added by `add`, which
// returns the bytes it would need when they do not fit (then nothing is added).
template <typename Add>
std::vector<char> build_listing(size_t size, off_t off, size_t count, Add&& add) {
  std::vector<char> buf(size);
  size_t used = 0;
  for (off_t at = off; at < kFirstEntry + static_cast<off_t>(count); ++at) {
    size_t n = add(at, buf.data() + used, size - used);
    if (n > size - used) break;
    used += n;
  }
  buf.resize(used);
  return buf;
}

// A reply is sent only after the handle's lock is let go: once the kernel has the
// reply, the program may close the directory and another worker may free the handle
// (RELEASEDIR) while this one would still be unlocking its mutex.
int reply_built(fuse_req_t req, const std::optional<std::vector<char>>& listing) {
  if (!listing) return fuse_reply_err(req, ENOENT);
  return fuse_reply_buf(req, listing->data(), listing->size());
}

std::vector<char> readdir_bytes(fuse_req_t req, const std::vector<DirEntryView>& names, size_t size, off_t off) {
  return build_listing(size, off, names.size(), [&](off_t at, char* out, size_t room) {
    struct stat st {};
    st.st_ino = kUnknownIno;
    if (at < kFirstEntry) {
      st.st_mode = S_IFDIR;
      return fuse_add_direntry(req, out, room, at == 0 ? "." : "..", &st, at + 1);
    }
    const DirEntryView& e = names[at - kFirstEntry];
    st.st_mode = type_bits(e.type);
    return fuse_add_direntry(req, out, room, e.name.c_str(), &st, at + 1);
  });
}

// Entries with attributes. Each entry sent counts a lookup in the inode table, so only
// entries that fit are counted; `given` collects them, to be returned should the
// reply never reach the kernel.
std::vector<char> readdirplus_bytes(fuse_req_t req, fuse_ino_t ino, const std::vector<DirEntryAttr>& entries,
                                    double timeout, size_t size, off_t off, std::vector<uint64_t>& given) {
  auto& ctx = fuse_ctx(req);
  return build_listing(size, off, entries.size(), [&](off_t at, char* out, size_t room) -> size_t {
    struct fuse_entry_param e {};
    if (at < kFirstEntry) {
      // No node id: the kernel makes no dentry for these and counts no lookup.
      e.attr.st_mode = S_IFDIR;
      e.attr.st_ino = at == 0 ? ino : kUnknownIno;
      return fuse_add_direntry_plus(req, out, room, at == 0 ? "." : "..", &e, at + 1);
    }
    const DirEntryAttr& entry = entries[at - kFirstEntry];
    size_t need = fuse_add_direntry_plus(req, nullptr, 0, entry.name.c_str(), nullptr, 0);
    if (need > room) return need;
    auto ref = ctx.inodes.lookup(ino, entry.name, &entry.attr);
    if (!ref) return room + 1;  // the directory itself is gone: end the listing here
    given.push_back(ref->id);
    e.ino = ref->id;
    e.generation = ref->generation;
    fill_stat(entry.attr, ctx, ref->id, &e.attr);
    e.attr_timeout = e.entry_timeout = timeout;
    return fuse_add_direntry_plus(req, out, room, entry.name.c_str(), &e, at + 1);
  });
}
}  // namespace

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  auto a = attr_or_reply(req, ino);
  if (!a) return;
  if (a->attr.type != EntryType::kDirectory) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  auto* d = new DirHandle();
  d->path = std::move(a->path);
  fi->fh = reinterpret_cast<uint64_t>(d);
  // Listings come from the index, and every change to a directory's names invalidates
  // its inode (KernelInvalidator), which drops the kernel's cached listing with it: so
  // the kernel may keep listings across opens, and a warm `find` or `ls` never asks us.
  fi->cache_readdir = 1;
  fi->keep_cache = 1;
  if (fuse_reply_open(req, fi) != 0) delete d;
}

void op_readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, struct fuse_file_info* fi) {
  DirHandle* d = dir_of(fi);
  std::optional<std::vector<char>> listing;
  {
    std::lock_guard lock(d->mu);
    if (off == 0 || !d->names) d->names = fuse_ctx(req).federation->readdir(d->path);
    if (d->names) listing = readdir_bytes(req, *d->names, size, off);
  }
  reply_built(req, listing);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi) {
  auto& ctx = fuse_ctx(req);
  DirHandle* d = dir_of(fi);
  std::optional<std::vector<char>> listing;
  std::vector<uint64_t> given;
  {
    std::lock_guard lock(d->mu);
    if (off == 0 || !d->entries) {
      d->changes_before = ctx.invalidator->changes();
      d->entries = ctx.federation->readdir_attrs(d->path);
    }
    if (d->entries) {
      listing = readdirplus_bytes(req, ino, *d->entries, cache_timeout(ctx, d->changes_before), size, off, given);
    }
  }
  // A reply the kernel refuses (the reader was interrupted) holds no lookups.
  if (reply_built(req, listing) != 0) {
    for (uint64_t id : given) ctx.inodes.forget(id, 1);
  }
}

void op_releasedir(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
  delete dir_of(fi);
  fi->fh = 0;
  fuse_reply_err(req, 0);
}

}  // namespace musicfs
