#pragma once
// Keeps one mount's index in step with its origins, in the background, so that neither
// a mount nor a FUSE request ever waits for a listing. Each origin has a worker thread
// of its own with its own queue, so one hung share delays the index of nobody else
// (its calls are bounded by BoundedOrigin; a listing that stops making progress fails).
// The jobs of one origin run in order:
//
//   load      streams an origin's persisted index into the tree (at mount, these jump
//             ahead of every other job, so the last known tree is up within moments);
//   initial   starts the origin's watcher, then lists it;
//   full      lists an origin again (watcher overflow, recovery, polling);
//   path      a watcher notice, or a read that found a file gone: stats one path;
//   invalidate_all  drops the kernel's caches of every path an origin holds.
//
// A listing is diffed against the tree as it streams: only entries that were added,
// changed (type, mode, size or mtime) or removed are persisted, invalidated in the
// kernel and reported to on_file_changed. A listing that fails removes nothing.
//
// Origins without push notifications (watch() gives nothing) and remote types are
// listed again every refresh_interval_secs (default 300), unless unhealthy: the
// health monitor asks for a listing when they recover.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "federation/index_gate.h"
#include "federation/registry.h"
#include "index/index_store.h"
#include "index/virtual_tree.h"

namespace musicfs {

struct IndexerHooks {
  std::function<void(const std::string& path)> invalidate;
  std::function<void(const std::string& origin_id, const std::string& path)> on_file_changed;
  // Every change a watcher notice or a listing made to the tree (path events, see
  // PathEventFeed); not the load of a persisted index, nor the first listing of an
  // origin that had no index yet when the mount was set up (a mount's cold start:
  // whoever reads the mount scans it whole anyway). An origin added to a running
  // mount is reported like any other change.
  std::function<void(const std::string& origin_id, const TreeChanges& changes)> on_tree_changed;
  std::shared_ptr<IndexStore> store;  // may be null: nothing persisted
};

class Indexer {
 public:
  // `membership_mu` is the federation's: held while an origin leaves, and here while
  // an origin's entries are written, so no late update puts back a removed origin.
  Indexer(OriginRegistry& registry, VirtualTree& tree, std::mutex& membership_mu, IndexerHooks hooks,
          std::chrono::milliseconds stat_timeout);
  ~Indexer();
  Indexer(const Indexer&) = delete;
  Indexer& operator=(const Indexer&) = delete;
  void stop();

  // A newly registered origin: load its persisted index, then watch and list it.
  // `gated`: the gate holds readers until this origin is indexed.
  void add_origin(const std::string& id, bool gated);
  // The origin left: its worker ends after its current job; the gate is released.
  void origin_removed(const std::string& id);
  void refresh_path(const std::string& id, std::string path);
  // `rewatch`: drop and restart the watcher first (the origin came back and may be a
  // different filesystem than the one watched).
  void relist(const std::string& id, bool rewatch);
  void invalidate_all(const std::string& id);
  // Blocks until no job is queued or running, for every origin.
  void wait_idle();
  // Blocks until the origin's worker has nothing queued or running (or the origin is
  // gone), at most until `deadline`; true when idle.
  bool wait_idle(const std::string& id, SteadyClock::time_point deadline);
  const IndexGate& gate() const { return gate_; }
  IndexGate& gate() { return gate_; }

 private:
  enum class JobKind { kLoad, kInitial, kFull, kPath, kInvalidateAll };
  struct Job {
    JobKind kind = JobKind::kPath;
    std::string origin;
    std::string path;
    bool rewatch = false;
    // kInitial of an origin added to a running mount: its files are new to the tree
    // the programs reading the mount have seen, so its first listing is reported.
    bool report_first_listing = false;
  };
  struct Poll {
    std::chrono::seconds interval{300};
    SteadyClock::time_point due;
  };
  // One origin's queue and thread. Its fields are guarded by the Indexer's mu_.
  struct Worker {
    std::string origin;
    std::deque<Job> jobs;
    std::optional<Poll> poll;
    bool busy = false;
    bool retired = false;  // the origin left: run nothing more, end the thread
    std::condition_variable cv;
    std::thread thread;
  };

  void push(Job job);
  void push_locked(Worker& w, Job job);
  Worker& worker_locked(const std::string& id);
  bool next_job(Worker& w, Job& out);  // false when the worker must end
  void schedule_poll_locked(Worker& w, SteadyClock::time_point now);
  void loop(Worker& w);
  void run(const Job& job);

  void load(const OriginRuntimePtr& rt);
  void start_watch(const OriginRuntimePtr& rt);
  void list_all(const OriginRuntimePtr& rt, bool report_first_listing = false);
  void refresh(const OriginRuntimePtr& rt, const std::string& path);
  // Call with membership_mu_ held and the origin still registered: persists changes
  // in the order they were made (ordered before a later forget of the origin).
  void persist_locked(const OriginRuntimePtr& rt, const TreeChanges& changes);
  // Kernel invalidation, on_file_changed and (when `report`) on_tree_changed;
  // outside every lock.
  void publish(const OriginRuntimePtr& rt, const TreeChanges& changes, bool report);
  bool still_registered(const OriginRuntimePtr& rt) const;
  bool idle_locked() const;

  OriginRegistry& registry_;
  VirtualTree& tree_;
  std::mutex& membership_mu_;
  const IndexerHooks hooks_;
  const std::chrono::milliseconds stat_timeout_;
  IndexGate gate_;

  // Lock order: membership_mu_ is never taken while mu_ is held (jobs take it; the
  // queue functions below take only mu_).
  mutable std::mutex mu_;  // guards everything below and every Worker's fields
  std::condition_variable idle_cv_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;  // by origin id
  // Workers of origins that left, still finishing their current job; joined by stop().
  std::vector<std::unique_ptr<Worker>> retired_;
  bool stopping_ = false;
};

}  // namespace musicfs
