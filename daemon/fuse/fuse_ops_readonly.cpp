// The tree is read-only: every operation that would change it answers EROFS, so no
// code path can ever write to an origin.
#include "fuse/fuse_ops.h"

namespace musicfs {

namespace {
void rofs(fuse_req_t req) { fuse_reply_err(req, EROFS); }
void rofs_setattr(fuse_req_t req, fuse_ino_t, struct stat*, int, struct fuse_file_info*) { rofs(req); }
void rofs_mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { rofs(req); }
void rofs_mkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { rofs(req); }
void rofs_unlink(fuse_req_t req, fuse_ino_t, const char*) { rofs(req); }
void rofs_rmdir(fuse_req_t req, fuse_ino_t, const char*) { rofs(req); }
void rofs_symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { rofs(req); }
void rofs_rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned int) { rofs(req); }
void rofs_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { rofs(req); }
void rofs_write(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, struct fuse_file_info*) { rofs(req); }
void rofs_setxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { rofs(req); }
void rofs_removexattr(fuse_req_t req, fuse_ino_t, const char*) { rofs(req); }
void rofs_create(fuse_req_t req, fuse_ino_t, const char*, mode_t, struct fuse_file_info*) { rofs(req); }
void rofs_fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, struct fuse_file_info*) { rofs(req); }
}  // namespace

void install_readonly_ops(struct fuse_lowlevel_ops& ops) {
  ops.setattr = rofs_setattr;
  ops.mknod = rofs_mknod;
  ops.mkdir = rofs_mkdir;
  ops.unlink = rofs_unlink;
  ops.rmdir = rofs_rmdir;
  ops.symlink = rofs_symlink;
  ops.rename = rofs_rename;
  ops.link = rofs_link;
  ops.write = rofs_write;
  ops.setxattr = rofs_setxattr;
  ops.removexattr = rofs_removexattr;
  ops.create = rofs_create;
  ops.fallocate = rofs_fallocate;
}

}  // namespace musicfs
