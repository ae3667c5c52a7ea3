#include "fuse/fuse_ops.h"

namespace musicfs {

int op_opendir(const char* path, struct fuse_file_info* fi) {
  auto a = fuse_ctx().federation->getattr(path);
  if (!a) return -to_errno(a.error());
  if (a->type != EntryType::kDirectory) return -ENOTDIR;
  // Listings come from the index, and every change to a directory's names invalidates
  // its inode (KernelInvalidator), which drops the kernel's cached listing with it: so
  // the kernel may keep listings across opens, and a warm `find` or `ls` never asks us.
  fi->cache_readdir = 1;
  fi->keep_cache = 1;
  return 0;
}

int op_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, struct fuse_file_info*,
               enum fuse_readdir_flags) {
  auto entries = fuse_ctx().federation->readdir(path);
  if (!entries) {
    auto a = fuse_ctx().federation->getattr(path);
    return a ? -ENOTDIR : -ENOENT;
  }
  filler(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  filler(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  struct stat st {};
  for (const auto& e : *entries) {
    st.st_mode = e.type == EntryType::kDirectory ? S_IFDIR : e.type == EntryType::kSymlink ? S_IFLNK : S_IFREG;
    if (filler(buf, e.name.c_str(), &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  return 0;
}

}  // namespace musicfs
