#include "federation/indexer.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "origins/origin_types.h"
#include "util/virtual_path.h"

namespace musicfs {

namespace {
// Listing a large remote tree can take minutes; it runs on this thread only.
constexpr auto kListDeadline = std::chrono::minutes(30);
// Entries applied to the tree per exclusive lock: long enough to amortise the lock,
// short enough that readers never notice a listing going on.
constexpr size_t kBatch = 4096;
// glibc keeps freed memory of a big listing or load in its arenas unless asked to
// give it back; past this many entries, ask.
constexpr size_t kTrimAfter = 50'000;
constexpr int64_t kDefaultRefreshSecs = 300;

IndexDelta to_delta(const TreeChange& c) {
  IndexDelta d;
  d.path = c.path;
  if (c.kind == TreeChange::Kind::kRemoved) {
    d.removed = true;
  } else {
    d.attr = c.attr;
  }
  return d;
}

// Whether content cached for the path may no longer be what the origin holds.
bool stales_content(const TreeChange& c) {
  switch (c.kind) {
    case TreeChange::Kind::kAdded: return false;
    case TreeChange::Kind::kChanged: return c.content_changed;
    case TreeChange::Kind::kRemoved: return c.attr.type != EntryType::kDirectory;
  }
  return false;
}

bool needs_polling(const OriginRuntime& rt, bool watched) {
  const OriginTypeInfo* info = find_origin_type(rt.config.type);
  return !watched || (info != nullptr && info->remote);
}

struct Counts {
  size_t added = 0, changed = 0, removed = 0;
  void add(const TreeChanges& changes) {
    for (const auto& c : changes) {
      switch (c.kind) {
        case TreeChange::Kind::kAdded: ++added; break;
        case TreeChange::Kind::kChanged: ++changed; break;
        case TreeChange::Kind::kRemoved: ++removed; break;
      }
    }
  }
};
}  // namespace

Indexer::Indexer(OriginRegistry& registry, VirtualTree& tree, std::mutex& membership_mu, IndexerHooks hooks,
                 std::chrono::milliseconds stat_timeout)
    : registry_(registry),
      tree_(tree),
      membership_mu_(membership_mu),
      hooks_(std::move(hooks)),
      stat_timeout_(stat_timeout) {}

Indexer::~Indexer() { stop(); }

void Indexer::stop() {
  std::vector<std::unique_ptr<Worker>> all;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [id, w] : workers_) {
      w->cv.notify_all();
      all.push_back(std::move(w));
    }
    workers_.clear();
    for (auto& w : retired_) all.push_back(std::move(w));
    retired_.clear();
  }
  idle_cv_.notify_all();
  // Each worker is at most in one bounded call (the federation shuts its origins down
  // first, which ends those at once), so these joins are short.
  for (auto& w : all) {
    if (w->thread.joinable()) w->thread.join();
  }
}

// --- queues ---

Indexer::Worker& Indexer::worker_locked(const std::string& id) {
  auto& slot = workers_[id];
  if (!slot) {
    slot = std::make_unique<Worker>();
    slot->origin = id;
    Worker* w = slot.get();
    w->thread = std::thread([this, w] { loop(*w); });
  }
  return *slot;
}

void Indexer::push_locked(Worker& w, Job job) {
  if (job.kind == JobKind::kLoad) {
    // Loads go before any listing: the last known tree is served while the (possibly
    // slow) listing runs.
    auto it = std::find_if(w.jobs.begin(), w.jobs.end(), [](const Job& j) { return j.kind != JobKind::kLoad; });
    w.jobs.insert(it, std::move(job));
  } else if (job.kind == JobKind::kFull) {
    // One queued listing per origin is enough; it sees whatever the others would.
    auto it = std::find_if(w.jobs.begin(), w.jobs.end(), [](const Job& j) {
      return j.kind == JobKind::kFull || j.kind == JobKind::kInitial;
    });
    if (it == w.jobs.end()) {
      w.jobs.push_back(std::move(job));
    } else {
      it->rewatch = it->rewatch || job.rewatch;
    }
  } else {
    w.jobs.push_back(std::move(job));
  }
  w.cv.notify_one();
}

void Indexer::push(Job job) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  auto it = workers_.find(job.origin);
  Worker* w = nullptr;
  if (it != workers_.end()) {
    w = it->second.get();
  } else if (job.kind == JobKind::kLoad || job.kind == JobKind::kInitial) {
    w = &worker_locked(job.origin);
  } else {
    return;  // a late notice for an origin that left
  }
  push_locked(*w, std::move(job));
}

void Indexer::add_origin(const std::string& id, bool gated) {
  if (gated) gate_.hold(id);
  if (hooks_.store) push({JobKind::kLoad, id, {}, false});
  push({JobKind::kInitial, id, {}, false, !gated});
}

void Indexer::origin_removed(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    if (auto it = workers_.find(id); it != workers_.end()) {
      it->second->retired = true;
      it->second->jobs.clear();
      it->second->cv.notify_all();
      retired_.push_back(std::move(it->second));
      workers_.erase(it);
    }
  }
  idle_cv_.notify_all();
  gate_.release(id);
}

void Indexer::refresh_path(const std::string& id, std::string path) { push({JobKind::kPath, id, std::move(path), false}); }

void Indexer::relist(const std::string& id, bool rewatch) { push({JobKind::kFull, id, {}, rewatch}); }

void Indexer::invalidate_all(const std::string& id) { push({JobKind::kInvalidateAll, id, {}, false}); }

bool Indexer::idle_locked() const {
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const auto& kv) { return kv.second->jobs.empty() && !kv.second->busy; });
}

void Indexer::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return stopping_ || idle_locked(); });
}

bool Indexer::wait_idle(const std::string& id, SteadyClock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [&] {
    if (stopping_) return true;
    auto it = workers_.find(id);
    return it == workers_.end() || (it->second->jobs.empty() && !it->second->busy);
  });
}

void Indexer::schedule_poll_locked(Worker& w, SteadyClock::time_point now) {
  if (!w.poll || w.poll->due > now) return;
  w.poll->due = now + w.poll->interval;
  OriginRuntimePtr rt = registry_.get(w.origin);
  // An unhealthy origin is listed when it recovers (Federation::on_probe), not now.
  if (!rt || rt->status.load() == HealthStatus::kUnhealthy) return;
  push_locked(w, {JobKind::kFull, w.origin, {}, false});
}

bool Indexer::next_job(Worker& w, Job& out) {
  std::unique_lock lock(mu_);
  w.busy = false;
  for (;;) {
    if (stopping_ || w.retired) {
      idle_cv_.notify_all();
      return false;
    }
    schedule_poll_locked(w, SteadyClock::now());
    if (!w.jobs.empty()) break;
    idle_cv_.notify_all();
    if (w.poll) {
      w.cv.wait_until(lock, w.poll->due);
    } else {
      w.cv.wait(lock);
    }
  }
  out = std::move(w.jobs.front());
  w.jobs.pop_front();
  w.busy = true;
  return true;
}

void Indexer::loop(Worker& w) {
  Job job;
  while (next_job(w, job)) run(job);
}

void Indexer::run(const Job& job) {
  OriginRuntimePtr rt = registry_.get(job.origin);
  if (!rt) {
    gate_.release(job.origin);
    return;
  }
  switch (job.kind) {
    case JobKind::kLoad:
      load(rt);
      break;
    case JobKind::kInitial:
      start_watch(rt);
      list_all(rt, job.report_first_listing);
      // Listed or failed: either way readers stop waiting for this origin.
      gate_.release(job.origin);
      break;
    case JobKind::kFull:
      if (job.rewatch) {
        registry_.drop_watches(job.origin);
        start_watch(rt);
      }
      list_all(rt);
      break;
    case JobKind::kPath:
      refresh(rt, job.path);
      break;
    case JobKind::kInvalidateAll: {
      std::vector<std::string> paths;
      tree_.for_each(rt->slot, [&](const std::string& p, const EntryAttr&) { paths.push_back(p); });
      if (hooks_.invalidate) {
        for (const auto& p : paths) hooks_.invalidate(p);
      }
      break;
    }
  }
}

// --- jobs ---

bool Indexer::still_registered(const OriginRuntimePtr& rt) const { return registry_.get(rt->config.id) == rt; }

void Indexer::load(const OriginRuntimePtr& rt) {
  const std::string& id = rt->config.id;
  auto started = SteadyClock::now();
  std::vector<ListedEntry> batch;
  batch.reserve(kBatch);
  bool gone = false;
  auto apply = [&] {
    if (batch.empty() || gone) return;
    {
      std::lock_guard lock(membership_mu_);
      if (!still_registered(rt)) {
        gone = true;
      } else {
        tree_.apply_listed(rt->slot, batch, nullptr);
      }
    }
    // An origin loaded into a running mount (re-enabled, added) may take paths over
    // from another: what the kernel caches of them (hour-long attributes, kept pages)
    // must go. At a cold start the kernel knows no path and each call returns at once.
    if (!gone && hooks_.invalidate) {
      for (const auto& e : batch) hooks_.invalidate(e.path);
    }
    batch.clear();
  };
  auto loaded = hooks_.store->load(id, [&](ListedEntry&& e) {
    if (gone) return;
    batch.push_back(std::move(e));
    if (batch.size() >= kBatch) apply();
  });
  apply();
  if (!loaded) {
    spdlog::warn("origin {}: cannot load its persisted index: {}", id, loaded.error().message);
    return;
  }
  if (gone || (loaded->entries == 0 && !loaded->complete)) return;
  {
    std::lock_guard lock(membership_mu_);
    if (!still_registered(rt)) return;
    tree_.set_root(rt->slot, loaded->root);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  spdlog::info("origin {}: loaded {} entries of its persisted index in {} ms{}", id, loaded->entries, ms,
               loaded->complete ? "" : " (an incomplete listing)");
  // An incomplete index is served, but readers keep waiting for the listing.
  if (loaded->complete) gate_.release(id);
  if (hooks_.invalidate) hooks_.invalidate("/");
  if (loaded->entries >= kTrimAfter) ::malloc_trim(0);
}

void Indexer::start_watch(const OriginRuntimePtr& rt) {
  // A local watcher walks the whole tree to place its watches: I/O, so no lock here.
  const std::string id = rt->config.id;
  auto handle = rt->origin->watch([this, id](const ChangeNotice& n) {
    if (n.rescan) {
      relist(id, false);
    } else {
      refresh_path(id, n.path);
    }
  });
  const bool watched = handle != nullptr;
  // Listing starts once the watcher sees every change, so that nothing that changes
  // between the two is missed; a watcher that stops making progress (a hung share)
  // is not waited for.
  if (handle && !handle->wait_ready(stat_timeout_)) {
    spdlog::warn("origin {}: its change watcher is not ready; listing anyway", id);
  }
  {
    std::lock_guard lock(membership_mu_);
    if (!still_registered(rt)) return;  // the handle is dropped: the origin left meanwhile
    registry_.register_watch(id, std::move(handle));
  }
  if (needs_polling(*rt, watched)) {
    Poll p;
    p.interval = std::chrono::seconds(rt->config.int_setting("refresh_interval_secs", kDefaultRefreshSecs));
    p.due = SteadyClock::now() + p.interval;
    std::lock_guard lock(mu_);
    if (auto it = workers_.find(id); it != workers_.end()) it->second->poll = p;
  }
}

void Indexer::persist_locked(const OriginRuntimePtr& rt, const TreeChanges& changes) {
  if (!hooks_.store || changes.empty()) return;
  std::vector<IndexDelta> deltas;
  deltas.reserve(changes.size());
  for (const auto& c : changes) {
    if (c.path.empty() || c.path == "/") continue;
    deltas.push_back(to_delta(c));
  }
  hooks_.store->save_changes(rt->config.id, std::move(deltas));
}

void Indexer::publish(const OriginRuntimePtr& rt, const TreeChanges& changes, bool report) {
  if (report && hooks_.on_tree_changed && !changes.empty()) hooks_.on_tree_changed(rt->config.id, changes);
  std::string last_parent;
  for (const auto& c : changes) {
    if (hooks_.invalidate) {
      hooks_.invalidate(c.path);
      // A name that came or went changes its directory's listing, and any change
      // its mtime (the merged directory shows the newest in it). Listings arrive a
      // directory at a time, so skipping repeats of the last parent is enough.
      std::string parent(split_parent(c.path).first);
      if (parent != last_parent && parent != c.path) {
        hooks_.invalidate(parent);
        last_parent = std::move(parent);
      }
    }
    if (hooks_.on_file_changed && stales_content(c)) hooks_.on_file_changed(rt->config.id, c.path);
  }
}

void Indexer::list_all(const OriginRuntimePtr& rt, bool report_first_listing) {
  const std::string& id = rt->config.id;
  auto started = SteadyClock::now();
  size_t known_files = 0;
  {
    std::lock_guard lock(membership_mu_);
    if (!still_registered(rt)) return;
    known_files = tree_.file_count(rt->slot);
    tree_.begin_listing(rt->slot);
  }
  // The first listing of an origin at a mount's cold start adds the whole library:
  // that is the origin_added event, not a path event for every directory of it.
  const bool report = known_files > 0 || report_first_listing;
  std::vector<ListedEntry> batch;
  batch.reserve(kBatch);
  TreeChanges changes;
  Counts counts;
  size_t listed = 0;
  bool gone = false;
  auto apply = [&] {
    if (batch.empty() || gone) return;
    {
      std::lock_guard lock(membership_mu_);
      if (!still_registered(rt)) {
        gone = true;
      } else {
        tree_.apply_listed(rt->slot, batch, &changes);
        persist_locked(rt, changes);
      }
    }
    if (!gone) publish(rt, changes, report);
    counts.add(changes);
    changes.clear();
    batch.clear();
  };
  uint64_t too_long = 0;
  Status s = rt->origin->list("/", [&](ListedEntry&& e) {
    if (gone) return;
    if (!within_path_limits(e.path)) {
      ++too_long;  // it could be listed but never opened or looked up
      return;
    }
    ++listed;
    batch.push_back(std::move(e));
    if (batch.size() >= kBatch) apply();
  }, SteadyClock::now() + kListDeadline);
  apply();
  if (gone) return;
  rt->skipped_long_paths.store(too_long);
  if (too_long > 0 && !rt->long_paths_logged.exchange(true)) {
    spdlog::warn("origin {}: skipped {} entries with paths of {} bytes or more or names longer than {} bytes", id,
                 too_long, kMaxPathBytes, kMaxEntryNameBytes);
  }
  if (!s) {
    // A failed listing never removes files: what it did show is applied, the rest of
    // the last index stays.
    spdlog::warn("origin {}: listing failed, keeping the last index: {}", id, s.error().message);
    return;
  }
  if (listed == 0 && known_files > 0) {
    // An unmounted share, a detached disk or a server that lost its volume all look
    // like an empty root. Emptying the tree on that evidence would throw away the
    // index that offline serving depends on, so an empty listing of an origin that
    // had files counts as a failed one (removing the origin is how to drop them).
    spdlog::warn("origin {}: listing found no files where the index has {}; keeping the last index", id,
                 known_files);
    return;
  }
  EntryAttr root;
  root.type = EntryType::kDirectory;
  root.mode = 0755;
  if (auto a = rt->origin->stat("/", SteadyClock::now() + stat_timeout_)) root = *a;
  {
    std::lock_guard lock(membership_mu_);
    if (!still_registered(rt)) return;
    tree_.set_root(rt->slot, root);
    tree_.end_listing(rt->slot, &changes);
    persist_locked(rt, changes);
    if (hooks_.store) hooks_.store->mark_complete(id, root);
  }
  publish(rt, changes, report);
  counts.add(changes);
  changes.clear();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  spdlog::info("origin {}: listed {} entries in {} ms: {} added, {} changed, {} removed", id, listed, ms,
               counts.added, counts.changed, counts.removed);
  if (listed >= kTrimAfter) ::malloc_trim(0);
}

void Indexer::refresh(const OriginRuntimePtr& rt, const std::string& path) {
  auto attr = rt->origin->stat(path, SteadyClock::now() + stat_timeout_);
  std::vector<ListedEntry> below;
  if (attr && attr->type == EntryType::kDirectory) {
    // Files may have landed in a new directory before its watch was added.
    Status listed = rt->origin->list(path, [&](ListedEntry&& e) { below.push_back(std::move(e)); },
                                     SteadyClock::now() + kListDeadline);
    if (!listed) spdlog::debug("origin {}: listing {} failed: {}", rt->config.id, path, listed.error().message);
  }
  if (!attr && attr.error().code != ErrorCode::kNotFound) return;  // the health monitor deals with that
  // A name that came or went changed its directory's mtime at the origin: the merged
  // directory shows the newest of its origins' (a scanner that skips folders whose
  // mtime did not move must see this one move).
  const std::string parent(split_parent(path).first);
  std::optional<EntryAttr> parent_attr;
  if (parent != "/" && parent != path) {
    if (auto p = rt->origin->stat(parent, SteadyClock::now() + stat_timeout_); p && p->type == EntryType::kDirectory) {
      parent_attr = *p;
    }
  }
  TreeChanges changes;
  {
    std::lock_guard lock(membership_mu_);
    if (!still_registered(rt)) return;
    if (parent_attr) tree_.upsert(rt->slot, parent, *parent_attr, &changes);
    if (attr) {
      tree_.upsert(rt->slot, path, *attr, &changes);
      for (const auto& e : below) tree_.upsert(rt->slot, e.path, e.attr, &changes);
    } else {
      tree_.remove(rt->slot, path, &changes);
    }
    persist_locked(rt, changes);
  }
  publish(rt, changes, true);
}

}  // namespace musicfs
