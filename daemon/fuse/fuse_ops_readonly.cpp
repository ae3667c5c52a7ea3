// The tree is read-only: every operation that would change it answers EROFS, so no
// code path can ever write to an origin.
#include "fuse/fuse_ops.h"

namespace musicfs {

namespace {
int rofs_mknod(const char*, mode_t, dev_t) { return -EROFS; }
int rofs_mkdir(const char*, mode_t) { return -EROFS; }
int rofs_unlink(const char*) { return -EROFS; }
int rofs_rmdir(const char*) { return -EROFS; }
int rofs_symlink(const char*, const char*) { return -EROFS; }
int rofs_rename(const char*, const char*, unsigned int) { return -EROFS; }
int rofs_link(const char*, const char*) { return -EROFS; }
int rofs_chmod(const char*, mode_t, struct fuse_file_info*) { return -EROFS; }
int rofs_chown(const char*, uid_t, gid_t, struct fuse_file_info*) { return -EROFS; }
int rofs_truncate(const char*, off_t, struct fuse_file_info*) { return -EROFS; }
int rofs_write(const char*, const char*, size_t, off_t, struct fuse_file_info*) { return -EROFS; }
int rofs_setxattr(const char*, const char*, const char*, size_t, int) { return -EROFS; }
int rofs_removexattr(const char*, const char*) { return -EROFS; }
int rofs_create(const char*, mode_t, struct fuse_file_info*) { return -EROFS; }
int rofs_utimens(const char*, const struct timespec[2], struct fuse_file_info*) { return -EROFS; }
int rofs_fallocate(const char*, int, off_t, off_t, struct fuse_file_info*) { return -EROFS; }
}  // namespace

void install_readonly_ops(struct fuse_operations& ops) {
  ops.mknod = rofs_mknod;
  ops.mkdir = rofs_mkdir;
  ops.unlink = rofs_unlink;
  ops.rmdir = rofs_rmdir;
  ops.symlink = rofs_symlink;
  ops.rename = rofs_rename;
  ops.link = rofs_link;
  ops.chmod = rofs_chmod;
  ops.chown = rofs_chown;
  ops.truncate = rofs_truncate;
  ops.write = rofs_write;
  ops.setxattr = rofs_setxattr;
  ops.removexattr = rofs_removexattr;
  ops.create = rofs_create;
  ops.utimens = rofs_utimens;
  ops.fallocate = rofs_fallocate;
}

}  // namespace musicfs
