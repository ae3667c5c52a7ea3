#pragma once
// The daemon's mounts, by mount point. Each mount owns its configuration, its
// federation and its FUSE session; they are created together and torn down together.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "federation/federation.h"
#include "fuse/fuse_host.h"
#include "notifier_runner.h"
#include "state/state_store.h"

namespace musicfs {

struct Mount {
  Config config;
  // Every origin of this mount as defined now (config file merged with run-time
  // changes), enabled or not. Guarded by catalog_mu.
  std::mutex catalog_mu;
  std::vector<OriginConfig> catalog;
  int64_t mounted_at = 0;
  std::shared_ptr<KernelInvalidator> invalidator;
  std::shared_ptr<ContentCache> cache;  // null in passthrough mode; may be shared
  // Its [[notify]] tables at work; fed by the federation's path events, so it
  // outlives the federation (declared before it).
  std::shared_ptr<NotifierSet> notifiers;
  std::unique_ptr<Federation> federation;
  std::unique_ptr<FuseHost> fuse;  // destroyed before federation (it points into it)

  ~Mount();
};

using MountPtr = std::shared_ptr<Mount>;

class MountTable {
 public:
  MountTable(EventLog& events, StateStore* store, std::function<OriginPtr(OriginPtr)> decorate)
      : events_(events), store_(store), decorate_(std::move(decorate)) {}

  // Mounts a parsed config; returns once the mount answers requests.
  Result<MountPtr> mount(Config config);
  // Reads `path` and mounts it (a `daemon -c FILE` at start).
  Result<MountPtr> mount_file(const std::string& path);
  // Applies a config file read again (SIGHUP) to the mount made from it: origins
  // added, removed or changed in the file are added, removed or rebuilt live (run-time
  // changes made with `origins` still win, as at mount); a new mount_point moves the
  // mount; changed [[notify]] tables replace the notifiers; a file not mounted yet
  // is mounted. Other keys ([health], [cache]) take effect at the next mount. Returns what changed, for the log.
  Result<std::string> reload(Config config);
  Status unmount(const std::string& mount_point, const std::string& why = "unmounted");
  void unmount_all();
  // Ends every wait on every mount's origins (Federation::cancel): the daemon is
  // stopping, and neither its control commands nor its unmounts may wait on a hung one.
  void cancel_all();
  // Mounts again what a crashed daemon had mounted (the mounts table survives kill -9).
  void restore_after_crash();
  StateStore* store() const { return store_; }
  // Drops mounts whose FUSE loop ended by itself (fusermount3 -u from outside).
  void reap();

  MountPtr find(const std::string& mount_point) const;
  // The mount a request means: by mount point, or the only one when none is named.
  Result<MountPtr> resolve(const std::string& mount_point) const;
  std::vector<MountPtr> list() const;

 private:
  EventLog& events_;
  StateStore* store_;  // may be null (no persistence)
  std::function<OriginPtr(OriginPtr)> decorate_;
  std::mutex op_mu_;  // serialises mount and unmount
  mutable std::mutex mu_;  // guards mounts_
  std::map<std::string, MountPtr> mounts_;
  // Open content caches by directory: mounts that name the same cache_dir share one.
  std::map<std::string, std::weak_ptr<ContentCache>> caches_;  // guarded by op_mu_

  Result<std::shared_ptr<ContentCache>> cache_for(const Config& config);
};

// The effective origin list of a mount: the config file's origins, then run-time
// changes on top (a run-time definition replaces the file's, a tombstone removes an
// origin, an enable override applies to either). Documented in musicfs.toml(5).
std::vector<OriginConfig> merge_origins(const std::vector<OriginConfig>& from_config,
                                        const std::vector<RuntimeOriginRow>& runtime);

// `-o allow_other` (musicfsctl mount, fstab) on top of a parsed config: this mount
// only, the file is never rewritten; remembered with the mount for a crash restore.
void apply_allow_other_option(Config& config);

// Canonical form of a mount point (realpath), so "/mnt/x/" and "/mnt/x" are one.
std::string canonical_mount_point(const std::string& path);

}  // namespace musicfs
