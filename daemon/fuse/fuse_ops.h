#pragma once
// The FUSE operations, one file per family, all wired in make_fuse_operations().
// Each operation reads the Federation from the FUSE context; none touches an origin
// except read (and open only checks the index).
#define FUSE_USE_VERSION 312
#include <fuse3/fuse.h>

#include <memory>
#include <mutex>
#include <unordered_set>

#include "federation/federation.h"

namespace musicfs {

struct FuseContext {
  Federation* federation = nullptr;
  uid_t uid = 0;
  gid_t gid = 0;
  // File handles between open and release. A mount torn down while a program holds a
  // file open never gets that release; the host frees what is left (release_all).
  std::mutex open_mu;
  std::unordered_set<std::shared_ptr<FileSession>*> open_handles;
  void release_all();
};

inline FuseContext& fuse_ctx() { return *static_cast<FuseContext*>(fuse_get_context()->private_data); }

struct fuse_operations make_fuse_operations();

// fuse_ops_attr.cpp
void* op_init(struct fuse_conn_info* conn, struct fuse_config* cfg);
int op_getattr(const char* path, struct stat* st, struct fuse_file_info* fi);
int op_readlink(const char* path, char* buf, size_t size);
int op_statfs(const char* path, struct statvfs* st);
int op_access(const char* path, int mask);
// fuse_ops_dir.cpp
int op_opendir(const char* path, struct fuse_file_info* fi);
int op_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t offset, struct fuse_file_info* fi,
               enum fuse_readdir_flags flags);
// fuse_ops_file.cpp
int op_open(const char* path, struct fuse_file_info* fi);
int op_read(const char* path, char* buf, size_t size, off_t offset, struct fuse_file_info* fi);
int op_release(const char* path, struct fuse_file_info* fi);
// fuse_ops_xattr.cpp
int op_getxattr(const char* path, const char* name, char* value, size_t size);
int op_listxattr(const char* path, char* list, size_t size);
// fuse_ops_readonly.cpp: every write-type operation
void install_readonly_ops(struct fuse_operations& ops);

// Fills a struct stat from an index entry.
void fill_stat(const EntryAttr& a, const FuseContext& ctx, struct stat* st);

}  // namespace musicfs
