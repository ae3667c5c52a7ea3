#include "fuse/fuse_ops.h"

namespace musicfs {

struct fuse_operations make_fuse_operations() {
  struct fuse_operations ops {};
  ops.init = op_init;
  ops.getattr = op_getattr;
  ops.readlink = op_readlink;
  ops.statfs = op_statfs;
  ops.access = op_access;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.open = op_open;
  ops.read = op_read;
  ops.release = op_release;
  ops.getxattr = op_getxattr;
  ops.listxattr = op_listxattr;
  install_readonly_ops(ops);
  return ops;
}

}  // namespace musicfs
