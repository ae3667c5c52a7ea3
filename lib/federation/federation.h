#pragma once
// One mount's federation: its origins (registry), their merged index (tree), the
// health monitor, the background indexer and the read path with failover. The FUSE
// layer and the control handlers talk to a mount only through this class.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cache/content_cache.h"
#include "config/config.h"
#include "federation/event_log.h"
#include "federation/file_session.h"
#include "federation/health_monitor.h"
#include "federation/indexer.h"
#include "federation/layout_index.h"
#include "federation/path_events.h"
#include "federation/registry.h"
#include "federation/retry_policy.h"
#include "federation/router.h"
#include "index/index_store.h"
#include "index/virtual_tree.h"
#include "util/worker_pool.h"

namespace musicfs {

struct FederationOptions {
  // Test builds wrap each origin (fault injection); identity otherwise.
  std::function<OriginPtr(OriginPtr)> decorate;
  // Told which virtual paths changed, so the FUSE layer can drop kernel caches.
  std::function<void(const std::string&)> invalidate;
  // Told the outcome of every health probe (the state store keeps the history).
  std::function<void(const OriginRuntime&, const Status&, uint32_t latency_us)> on_health_check;
  // Told after any change of an origin's health state (probe or failed read).
  std::function<void(const OriginRuntime&)> on_state_change;
  size_t io_threads_per_origin = 4;
  // The content cache (shared by the mounts that use its directory); null in
  // passthrough mode (content_cache_gb = 0).
  std::shared_ptr<ContentCache> cache;
  // Where the index is persisted, so that a mount serves its last known tree at once
  // (the daemon's state store); null keeps the index in memory only.
  std::shared_ptr<IndexStore> index_store;
  // Told that content cached for (origin, path) may be stale: an indexed file (or
  // symlink) of that origin changed type, size or mtime, or disappeared. Called from
  // the indexer thread (watcher updates, listings) or the control thread (origin
  // removal), never under a federation lock, and never on the FUSE path. `path` is
  // the virtual path; "/" means every file of the origin (`origins remove`). Not
  // called on `origins disable`, whose index is kept for when it is enabled again,
  // nor for files that are new. Directory changes are not reported.
  std::function<void(const std::string& origin_id, const std::string& path)> on_file_changed;
  // Told the directories that changed (coalesced, outermost only; see PathEventFeed),
  // from the feed's thread: the notifiers.
  std::function<void(const std::vector<std::string>& dirs)> on_dirs_changed;
  PathEventFeed::Options path_events;
  // A layout mount (config key `layout`): the tree shows each file at the path this
  // template renders from its tags (LayoutIndex); unset, the origins' path tree.
  std::optional<LayoutTemplate> layout;
};

class Federation {
 public:
  Federation(std::string mount_point, HealthConfig health, EventLog& events, FederationOptions options = {});
  ~Federation();
  Federation(const Federation&) = delete;
  Federation& operator=(const Federation&) = delete;

  // Registers an origin; loading its persisted index, watching and listing it run on
  // the indexer thread (wait_index_idle waits for them). Origins added before start()
  // hold the read side until they are indexed (see IndexGate). Fails when its type
  // cannot be mounted, its id is taken, or it cannot be created.
  Status add_origin(const OriginConfig& config, const std::optional<HealthState>& restored = std::nullopt);
  // `reason` becomes the event kind: origin_removed (its persisted index is forgotten)
  // or origin_disabled (its persisted index is kept).
  Status remove_origin(const std::string& id, const std::string& reason = "origin_removed");
  // Starts the health monitor; readers wait for the origins added so far at most
  // read_timeout_ms from now.
  void start();
  // The mount is going away: every wait on an origin ends at once (reads in flight
  // fail with EIO), nobody waits at the index gate, and no origin is called again.
  // Irreversible; stop() does it first, and the daemon does it before it unmounts,
  // so that neither waits on a hung origin.
  void cancel();
  void stop();

  // --- read side (FUSE) ---
  // On a layout mount every path here is a layout path; a file's decision is made for
  // the path-tree path it shows (RouteDecision::origin_path), and a session reads that.
  RouteDecision explain(const std::string& path) const;
  Result<EntryAttr> getattr(const std::string& path) const;
  std::optional<std::vector<DirEntryView>> readdir(const std::string& path) const;
  // A listing with each entry's attributes as getattr would give them (READDIRPLUS).
  std::optional<std::vector<DirEntryAttr>> readdir_attrs(const std::string& path) const;
  Result<std::shared_ptr<FileSession>> open(const std::string& path);
  Result<size_t> read(FileSession& session, uint64_t offset, std::span<char> buf);
  // Fetches every chunk of a file that the content cache lacks (cache prefetch);
  // returns the bytes fetched from origins. `progress` is told (done, total) bytes.
  Result<uint64_t> prefetch(const std::string& path, const std::function<void(uint64_t done, uint64_t total)>& progress);
  // The tags a file was placed by (a layout mount's, as read in the background), or
  // read now from its best holder that answers (any mount; `musicfsctl tags`).
  // kNotFound, kInvalidArgument for a directory, a format the tag reader does not
  // read, or a file it cannot parse; an origin error when no holder could be read.
  Result<PlacedTags> tags(const std::string& path) const;
  // How much of each holder's version of a path the content cache holds.
  ContentCache* cache() const { return options_.cache.get(); }

  // --- control side ---
  void check_now(const std::string& id = {});
  const std::string& mount_point() const { return mount_point_; }
  const HealthConfig& health_config() const { return health_; }
  OriginListPtr origins() const { return registry_.snapshot(); }
  const OriginRegistry& registry() const { return registry_; }
  // The index, once ready: callers outside the federation (status, origins list)
  // wait at the index gate like the read side does.
  const VirtualTree& tree() const {
    await_index();
    return tree_;
  }
  // The index as it stands, without waiting: for a mount's own reply, which must not
  // wait for a large persisted index to load (mount time must not grow with it).
  const VirtualTree& tree_now() const { return tree_; }
  bool index_ready() const;
  EventLog& events() { return events_; }
  RetryPolicy& retry_policy() { return retry_; }
  // Waits until the background indexer has nothing queued, for every origin (tests).
  void wait_index_idle();
  // Waits until one origin's index work is done (`origins add`), at most until
  // `deadline`; another origin that hangs does not hold it. True when done.
  bool wait_index_idle(const std::string& id, SteadyClock::time_point deadline);
  bool cancelled() const { return cancelled_.load(); }
  // The layout of a layout mount; null on a path-tree mount.
  const LayoutIndex* layout() const { return layout_.get(); }
  LayoutIndex* layout() { return layout_.get(); }

 private:
  friend class ReadPath;
  void on_probe(const OriginRuntimePtr& rt, const Status& result, uint32_t latency_us);
  void report_read_failure(const OriginRuntimePtr& rt, const Error& err);
  void note_transition(const OriginRuntimePtr& rt, const HealthTransition& t, const std::string& why);
  void check_all_unhealthy();
  // Asks the indexer to look at one path again, or (full) to list the origin again.
  void enqueue_index_job(std::string origin_id, std::string path, bool full);
  // The index gate: waits (bounded by read_timeout_ms) until the origins present at
  // mount are indexed.
  void await_index() const;
  // A path-tree path's kernel caches (on a layout mount: of the layout paths it shows).
  void invalidate(const std::string& path) const;
  // A layout mount's read side: the layout as published once the index is ready.
  std::shared_ptr<const LayoutTree> layout_view() const;
  Result<EntryAttr> best_attr(const std::string& origin_path) const;
  void invalidate_origin_paths(const OriginRuntimePtr& rt);

  const std::string mount_point_;
  const HealthConfig health_;
  EventLog& events_;
  FederationOptions options_;
  RetryPolicy retry_;

  VirtualTree tree_;
  OriginRegistry registry_;
  // Held while an origin leaves (unregister + clearing its index entries) and while the
  // indexer writes an origin's entries, so a late index update can never put back
  // entries of an origin that is gone. Never held during origin I/O.
  std::mutex membership_mu_;
  std::unique_ptr<HealthMonitor> monitor_;
  std::atomic<bool> all_unhealthy_episode_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> cancelled_{false};
  // Path events of the index's changes; the indexer's thread feeds it.
  std::unique_ptr<PathEventFeed> path_events_;
  std::unique_ptr<Indexer> indexer_;  // its thread uses everything above
  std::unique_ptr<LayoutIndex> layout_;  // a layout mount's; its thread uses the above
  // Background chunk fetches for sequential readers (read_path.cpp); its jobs use
  // everything above, and stop() waits for them.
  WorkerPool prefetch_{2, 256};
};

}  // namespace musicfs
