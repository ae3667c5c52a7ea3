#pragma once
// The FUSE operations on libfuse's low-level API, one file per family, all wired in
// make_lowlevel_ops(). The kernel names files by node id; the inode table turns ids
// into the virtual paths the federation answers for. No operation touches an origin
// except read (open only checks the index).
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "federation/federation.h"
#include "fuse/inode_table.h"
#include "fuse/kernel_invalidator.h"

namespace musicfs {

struct FuseContext {
  Federation* federation = nullptr;
  uid_t uid = 0;
  gid_t gid = 0;
  InodeTable inodes;
  std::shared_ptr<KernelInvalidator> invalidator;
  // File handles between open and release. A mount torn down while a program holds a
  // file open never gets that release; the host frees what is left (release_all).
  std::mutex open_mu;
  std::unordered_set<std::shared_ptr<FileSession>*> open_handles;
  void release_all();
};

inline FuseContext& fuse_ctx(fuse_req_t req) { return *static_cast<FuseContext*>(fuse_req_userdata(req)); }

struct fuse_lowlevel_ops make_lowlevel_ops();

// How long the kernel may keep an indexed entry's name and attributes: long, because
// every change to the index invalidates them explicitly (KernelInvalidator). A reply
// built while an invalidation ran may already be stale, so it gets no caching at all.
constexpr double kIndexedTimeout = 3600.0;
double cache_timeout(const FuseContext& ctx, uint64_t changes_before);

// The virtual path of a node id, or replies ESTALE (an id the kernel may no longer use).
std::optional<std::string> path_or_reply(fuse_req_t req, fuse_ino_t ino);

// A node id's path and index attributes, or replies with the error (ESTALE, ENOENT, ...).
struct NodeAttr {
  std::string path;
  EntryAttr attr;
};
std::optional<NodeAttr> attr_or_reply(fuse_req_t req, fuse_ino_t ino);

// fuse_ops_entry.cpp
void op_init(void* userdata, struct fuse_conn_info* conn);
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets);
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void op_readlink(fuse_req_t req, fuse_ino_t ino);
void op_statfs(fuse_req_t req, fuse_ino_t ino);
void op_access(fuse_req_t req, fuse_ino_t ino, int mask);
// fuse_ops_dir.cpp
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
// fuse_ops_file.cpp
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
// fuse_ops_xattr.cpp
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
// fuse_ops_readonly.cpp: every write-type operation
void install_readonly_ops(struct fuse_lowlevel_ops& ops);

// Fills a struct stat from an index entry.
void fill_stat(const EntryAttr& a, const FuseContext& ctx, uint64_t ino, struct stat* st);

}  // namespace musicfs
