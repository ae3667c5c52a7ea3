#include "fuse/fuse_ops.h"

namespace musicfs {

struct fuse_lowlevel_ops make_lowlevel_ops() {
  struct fuse_lowlevel_ops ops {};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.forget = op_forget;
  ops.forget_multi = op_forget_multi;
  ops.getattr = op_getattr;
  ops.readlink = op_readlink;
  ops.statfs = op_statfs;
  ops.access = op_access;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.readdirplus = op_readdirplus;
  ops.releasedir = op_releasedir;
  ops.open = op_open;
  ops.read = op_read;
  ops.release = op_release;
  ops.getxattr = op_getxattr;
  ops.listxattr = op_listxattr;
  install_readonly_ops(ops);
  return ops;
}

}  // namespace musicfs
