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
#include "federation/registry.h"
#include "federation/retry_policy.h"
#include "federation/router.h"
#include "index/virtual_tree.h"

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
};

class Federation {
 public:
  Federation(std::string mount_point, HealthConfig health, EventLog& events, FederationOptions options = {});
  ~Federation();
  Federation(const Federation&) = delete;
  Federation& operator=(const Federation&) = delete;

  // Registers an origin, indexes it and starts watching it. Fails when its type
  // cannot be mounted, its id is taken, or it cannot be created.
  Status add_origin(const OriginConfig& config, const std::optional<HealthState>& restored = std::nullopt);
  // `reason` becomes the event kind: origin_removed or origin_disabled.
  Status remove_origin(const std::string& id, const std::string& reason = "origin_removed");
  void start();  // starts the health monitor
  void stop();

  // --- read side (FUSE) ---
  RouteDecision explain(const std::string& path) const;
  Result<EntryAttr> getattr(const std::string& path) const;
  std::optional<std::vector<DirEntryView>> readdir(const std::string& path) const;
  Result<std::shared_ptr<FileSession>> open(const std::string& path);
  Result<size_t> read(FileSession& session, uint64_t offset, std::span<char> buf);
  // Fetches every chunk of a file that the content cache lacks (cache prefetch);
  // returns the bytes fetched from origins. `progress` is told (done, total) bytes.
  Result<uint64_t> prefetch(const std::string& path, const std::function<void(uint64_t done, uint64_t total)>& progress);
  // How much of each holder's version of a path the content cache holds.
  ContentCache* cache() const { return options_.cache.get(); }

  // --- control side ---
  void check_now(const std::string& id = {});
  const std::string& mount_point() const { return mount_point_; }
  const HealthConfig& health_config() const { return health_; }
  OriginListPtr origins() const { return registry_.snapshot(); }
  const OriginRegistry& registry() const { return registry_; }
  const VirtualTree& tree() const { return tree_; }
  EventLog& events() { return events_; }
  RetryPolicy& retry_policy() { return retry_; }
  // Waits until the background indexer has nothing queued (tests, `origins add`).
  void wait_index_idle();

 private:
  friend class ReadPath;
  void on_probe(const OriginRuntimePtr& rt, const Status& result, uint32_t latency_us);
  void report_read_failure(const OriginRuntimePtr& rt, const Error& err);
  void note_transition(const OriginRuntimePtr& rt, const HealthTransition& t, const std::string& why);
  void check_all_unhealthy();
  void rescan(const OriginRuntimePtr& rt);
  void start_watch(const OriginRuntimePtr& rt);
  void enqueue_index_job(std::string origin_id, std::string path, bool full);
  void indexer_loop();
  void invalidate(const std::string& path) const;
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

  struct IndexJob {
    std::string origin;
    std::string path;
    bool full = false;
    bool invalidate_only = false;  // drop kernel caches for every path the origin holds
  };
  std::mutex index_mu_;
  std::condition_variable index_cv_;
  std::condition_variable index_idle_cv_;
  std::deque<IndexJob> index_jobs_;
  bool index_busy_ = false;
  bool index_stopping_ = false;
  std::thread indexer_;
};

}  // namespace musicfs
