#include "federation/federation.h"

#include <spdlog/spdlog.h>

#include <tuple>

#include "origins/bounded_origin.h"
#include "origins/origin_types.h"
#include "tags/tag_reader.h"
#include "util/time_util.h"
#include "util/virtual_path.h"

namespace musicfs {

Federation::Federation(std::string mount_point, HealthConfig health, EventLog& events, FederationOptions options)
    : mount_point_(std::move(mount_point)), health_(std::move(health)), events_(events), options_(std::move(options)) {
  retry_.delays.clear();
  for (int64_t ms : health_.retry_delays_ms) retry_.delays.emplace_back(ms);
  monitor_ = std::make_unique<HealthMonitor>(
      std::chrono::seconds(health_.check_interval_secs), std::chrono::milliseconds(health_.timeout_ms),
      [this] { return registry_.snapshot(); },
      [this](const OriginRuntimePtr& rt, const Status& s, uint32_t us) { on_probe(rt, s, us); });
  path_events_ = std::make_unique<PathEventFeed>(mount_point_, events_, options_.on_dirs_changed, options_.path_events);
  IndexerHooks hooks;
  hooks.on_tree_changed = [feed = path_events_.get()](const std::string& origin, const TreeChanges& changes) {
    feed->add(origin, changes);
  };
  hooks.invalidate = [this](const std::string& p) { invalidate(p); };
  hooks.on_file_changed = options_.on_file_changed;
  hooks.store = options_.index_store;
  if (options_.layout) {
    // A layout mount's path events are the layout's (LayoutIndex::publish): the
    // indexer's changes, in path-tree paths, only make it look again.
    hooks.on_tree_changed = [this](const std::string&, const TreeChanges&) {
      if (layout_) layout_->poke();
    };
  }
  indexer_ = std::make_unique<Indexer>(registry_, tree_, membership_mu_, std::move(hooks),
                                       std::chrono::milliseconds(health_.timeout_ms));
  if (options_.layout) {
    LayoutIndexHooks lh;
    lh.invalidate = options_.invalidate;
    lh.feed = path_events_.get();
    lh.store = options_.index_store;
    layout_ = std::make_unique<LayoutIndex>(*options_.layout, tree_, registry_, indexer_->gate(), std::move(lh),
                                            std::chrono::milliseconds(health_.read_timeout_ms));
  }
}

Federation::~Federation() { stop(); }

void Federation::start() {
  monitor_->start();
  started_.store(true);
  indexer_->gate().seal(SteadyClock::now() + std::chrono::milliseconds(health_.read_timeout_ms));
}

namespace {
void shut_down(const OriginRuntimePtr& rt) {
  if (auto b = std::dynamic_pointer_cast<BoundedOrigin>(rt->origin)) b->shutdown();
}
}  // namespace

void Federation::cancel() {
  if (cancelled_.exchange(true)) return;
  const auto origins = registry_.snapshot();  // named: it must outlive the loop
  for (const auto& rt : *origins) shut_down(rt);
  indexer_->gate().abandon();
}

void Federation::stop() {
  cancel();
  prefetch_.stop();
  monitor_->stop();
  // Before the indexer: its rounds read the tree the indexer writes.
  if (layout_) layout_->stop();
  indexer_->stop();
  // After the indexer, its only feeder: what it holds is emitted now.
  path_events_->flush();
  // After the indexer: it may be starting a watcher right now.
  const auto origins = registry_.snapshot();  // named: it must outlive the loop
  for (const auto& rt : *origins) registry_.drop_watches(rt->config.id);
}

Status Federation::add_origin(const OriginConfig& config, const std::optional<HealthState>& restored) {
  auto made = create_origin(config);
  if (!made) return made.take_error();
  OriginPtr origin = std::move(*made);
  if (options_.decorate) origin = options_.decorate(origin);
  BoundedOptions bounded;
  bounded.threads = options_.io_threads_per_origin;
  bounded.list_stall_after = std::chrono::milliseconds(health_.timeout_ms);
  bounded.probe_timeout = std::chrono::milliseconds(health_.timeout_ms);
  origin = std::make_shared<BoundedOrigin>(origin, bounded);
  // Before the first probe: after a restart with a share unmounted, an empty root must
  // read as "gone", and only the persisted index knows the origin had files.
  if (options_.index_store && options_.index_store->has_entries(config.id)) origin->note_indexed_files();
  HealthThresholds thresholds{static_cast<uint32_t>(health_.threshold_for(config.type)),
                              static_cast<uint32_t>(health_.healthy_threshold)};
  auto rt = registry_.register_origin(config, origin, thresholds);
  if (!rt) return rt.take_error();
  // After a restart the origin starts from its last known state, not from "unknown".
  if (restored) (*rt)->restore(*restored);
  // No listing here: mount time must not grow with the library. The indexer loads the
  // persisted index, then watches and lists the origin (watch first, so a change
  // between the two is seen by the watcher).
  indexer_->add_origin(config.id, !started_.load());
  events_.record({0, 0, "origin_added", mount_point_, config.id, "",
                  config.type + " origin at " + (*rt)->origin->location() + ", priority " +
                      std::to_string(config.priority) + "; indexing in the background"});
  invalidate("/");
  // Added to a running mount: probe now, so it does not wait a whole interval as "unknown".
  if (started_.load()) monitor_->check_now(config.id);
  return {};
}

Status Federation::remove_origin(const std::string& id, const std::string& reason) {
  // Removal forgets the persisted index; disabling keeps it for when it comes back.
  const bool forget = reason == "origin_removed";
  OriginRuntimePtr rt;
  std::vector<std::string> paths;
  // Its watchers first, outside the lock: stopping one that is stuck placing watches
  // on a hung share waits a moment before leaving it behind.
  registry_.drop_watches(id);
  {
    std::lock_guard lock(membership_mu_);
    rt = registry_.unregister(id);
    if (!rt) return make_error(ErrorCode::kNotFound, "no origin '" + id + "' in mount " + mount_point_);
    tree_.for_each(rt->slot, [&](const std::string& p, const EntryAttr&) { paths.push_back(p); });
    tree_.remove_origin(rt->slot);
    registry_.release_slot(rt->slot);
    // Under the lock: queued after every index write of this origin, never before one.
    if (forget && options_.index_store) options_.index_store->forget(id);
  }
  // Whatever still waits on it (a listing, a read) ends now rather than at its deadline.
  shut_down(rt);
  indexer_->origin_removed(id);
  if (layout_) layout_->origin_removed(id);
  events_.record({0, 0, reason, mount_point_, id, "", "removed from the tree"});
  check_all_unhealthy();
  if (forget && options_.on_file_changed) options_.on_file_changed(id, "/");
  for (const auto& p : paths) invalidate(p);
  invalidate("/");
  return {};
}

void Federation::enqueue_index_job(std::string origin_id, std::string path, bool full) {
  if (full) {
    indexer_->relist(origin_id, false);
  } else {
    indexer_->refresh_path(origin_id, std::move(path));
  }
}

void Federation::wait_index_idle() { indexer_->wait_idle(); }

bool Federation::wait_index_idle(const std::string& id, SteadyClock::time_point deadline) {
  return indexer_->wait_idle(id, deadline);
}

void Federation::await_index() const { indexer_->gate().wait(std::chrono::milliseconds(health_.read_timeout_ms)); }

void Federation::invalidate(const std::string& path) const {
  if (layout_) {
    layout_->path_changed(path);
  } else if (options_.invalidate) {
    options_.invalidate(path);
  }
}

void Federation::check_now(const std::string& id) { monitor_->check_now(id); }

void Federation::on_probe(const OriginRuntimePtr& rt, const Status& result, uint32_t latency_us) {
  int64_t now = unix_now();
  std::optional<HealthTransition> t;
  rt->probes.fetch_add(1, std::memory_order_relaxed);
  rt->last_probe_latency_us.store(latency_us, std::memory_order_relaxed);
  if (!result) rt->probe_failures.fetch_add(1, std::memory_order_relaxed);
  if (result) {
    rt->latency.record(latency_us);
    t = rt->apply_success(now);
  } else {
    t = rt->apply_failure(now, result.error().message);
  }
  if (options_.on_health_check) options_.on_health_check(*rt, result, latency_us);
  if (options_.on_state_change) options_.on_state_change(*rt);
  if (!t) return;
  note_transition(rt, *t, result ? "probe succeeded" : "probe failed: " + result.error().message);
  // An origin that comes back may be a different filesystem (a share mounted again, a
  // server restored from backup): its watches point at the old one and its files may
  // have changed meanwhile, so re-watch and re-list it.
  if (t->to == HealthStatus::kHealthy && t->from != HealthStatus::kUnknown) {
    indexer_->relist(rt->config.id, /*rewatch=*/true);
  }
}

void Federation::report_read_failure(const OriginRuntimePtr& rt, const Error& err) {
  rt->read_errors.fetch_add(1);
  // Passive detection: a failed read counts at once, so the next read skips the origin.
  auto t = rt->apply_failure(unix_now(), err.message);
  if (options_.on_state_change) options_.on_state_change(*rt);
  if (t) note_transition(rt, *t, "read failed: " + err.message);
}

void Federation::invalidate_origin_paths(const OriginRuntimePtr& rt) { indexer_->invalidate_all(rt->config.id); }

void Federation::note_transition(const OriginRuntimePtr& rt, const HealthTransition& t, const std::string& why) {
  // Which replica serves a path may have changed: the kernel's cached attributes and
  // pages of those paths (keep_cache, 60 s attr timeout) must not outlive the switch.
  invalidate_origin_paths(rt);
  std::string kind = "origin_" + std::string(health_status_name(t.to));
  bool warn = t.to == HealthStatus::kUnhealthy || t.to == HealthStatus::kDegraded;
  events_.record({0, 0, kind, mount_point_, rt->config.id, "",
                  std::string(health_status_name(t.from)) + " -> " + std::string(health_status_name(t.to)) +
                      " (" + why + ")"},
                 warn);
  check_all_unhealthy();
}

void Federation::check_all_unhealthy() {
  auto list = registry_.snapshot();
  bool all = !list->empty();
  for (const auto& o : *list) {
    if (o->status.load() != HealthStatus::kUnhealthy) {
      all = false;
      break;
    }
  }
  if (all) {
    // Oracle fix: one event per episode, not one per read.
    if (!all_unhealthy_episode_.exchange(true)) {
      events_.record({0, 0, "all_origins_unhealthy", mount_point_, "", "",
                      "every origin is unhealthy; reads try the least-bad origin"},
                     true);
    }
  } else {
    all_unhealthy_episode_.store(false);
  }
}

RouteDecision Federation::explain(const std::string& path) const {
  await_index();
  auto list = registry_.snapshot();
  if (!layout_) return decide(tree_, *list, path);
  auto view = layout_view();
  if (const std::string* source = view->source_of(path)) {
    RouteDecision d = decide(tree_, *list, *source);
    d.path = path;
    return d;
  }
  RouteDecision d = decide(tree_, *list, "");
  d.path = path;
  d.origin_path.clear();
  d.exists = view->is_directory(path);
  d.is_directory = d.exists;
  return d;
}

bool Federation::index_ready() const { return indexer_->gate().is_open(); }

std::shared_ptr<const LayoutTree> Federation::layout_view() const {
  await_index();
  // A restart shows the layout of the persisted tags, never an empty tree for a
  // moment (a music server that saw one would drop its whole library).
  layout_->await_first(std::chrono::milliseconds(health_.read_timeout_ms));
  return layout_->view();
}

Result<EntryAttr> Federation::best_attr(const std::string& origin_path) const {
  auto list = registry_.snapshot();
  // The decision owns the candidate that selected() points into: keep it alive.
  const RouteDecision d = decide(tree_, *list, origin_path);
  if (const RouteCandidate* s = d.selected()) return *s->attr;
  return make_error(ErrorCode::kNotFound, origin_path + ": not in the tree");
}

Result<EntryAttr> Federation::getattr(const std::string& path) const {
  // The root exists before any index does. Its getattr does not wait at the gate, so
  // that mounting (which stats the new mount point) never waits for an index to load.
  if (path == "/" && !index_ready()) {
    EntryAttr root;
    root.type = EntryType::kDirectory;
    root.mode = 0755;
    return root;
  }
  if (layout_) {
    auto view = layout_view();
    if (auto dir = view->directory_attr(path)) return *dir;
    if (const std::string* source = view->source_of(path)) return best_attr(*source);
    return make_error(ErrorCode::kNotFound, path + ": not in the layout");
  }
  RouteDecision d = explain(path);
  if (const RouteCandidate* s = d.selected()) {
    EntryAttr attr = *s->attr;
    if (attr.type == EntryType::kDirectory) {
      if (auto m = tree_.merged_directory_mtime(path)) std::tie(attr.mtime_sec, attr.mtime_nsec) = *m;
    }
    return attr;
  }
  if (path == "/") {
    EntryAttr root;
    root.type = EntryType::kDirectory;
    root.mode = 0755;
    return root;
  }
  return make_error(ErrorCode::kNotFound, path + ": not in the tree");
}

std::optional<std::vector<DirEntryView>> Federation::readdir(const std::string& path) const {
  await_index();
  if (layout_) {
    auto listed = layout_view()->list(path);
    if (!listed) return std::nullopt;
    std::vector<DirEntryView> out;
    out.reserve(listed->size());
    for (auto& [name, type] : *listed) out.push_back({std::move(name), type});
    return out;
  }
  auto r = tree_.list_dir(path);
  if (!r && path == "/") return std::vector<DirEntryView>{};
  return r;
}

std::optional<std::vector<DirEntryAttr>> Federation::readdir_attrs(const std::string& path) const {
  await_index();
  auto list = registry_.snapshot();
  if (layout_) {
    auto view = layout_view();
    auto listed = view->list(path);
    if (!listed) return std::nullopt;
    std::vector<DirEntryAttr> out;
    out.reserve(listed->size());
    for (auto& [name, type] : *listed) {
      const std::string child = join_virtual(path, name);
      std::optional<EntryAttr> attr = view->directory_attr(child);
      if (!attr) {
        const std::string* source = view->source_of(child);
        auto a = source != nullptr ? best_attr(*source) : Result<EntryAttr>(make_error(ErrorCode::kNotFound, child));
        if (!a) continue;  // gone between the two looks: the next listing shows it so
        attr = *a;
      }
      out.push_back({std::move(name), std::move(*attr)});
    }
    return out;
  }
  auto r = tree_.list_dir_attrs(path, rank_origins(*list));
  if (!r && path == "/") return std::vector<DirEntryAttr>{};
  return r;
}

Result<PlacedTags> Federation::tags(const std::string& path) const {
  RouteDecision d = explain(path);
  if (!d.exists) return make_error(ErrorCode::kNotFound, path + ": not in the tree");
  if (d.is_directory || path == "/") return make_error(ErrorCode::kInvalidArgument, path + ": is a directory");
  if (layout_) {
    if (auto placed = layout_->tags_of(d.origin_path)) return *placed;
  }
  const std::string name(split_parent(d.origin_path).second);
  if (!has_tag_format(name)) {
    return make_error(ErrorCode::kInvalidArgument,
                      path + ": not a format whose tags musicfs reads (FLAC, MP3, Ogg Vorbis, Opus, M4A)");
  }
  Error last = make_error(ErrorCode::kUnavailable, path + ": no origin holds it");
  for (size_t i : d.order) {
    const RouteCandidate& c = d.candidates[i];
    auto rt = registry_.by_slot(c.slot);
    if (!rt || !c.attr) continue;
    const Deadline deadline = deadline_in(std::chrono::milliseconds(health_.read_timeout_ms));
    auto file = rt->origin->open(c.path, deadline);
    if (!file) {
      last = file.take_error().with_context(c.origin);
      continue;
    }
    auto read = read_tags(**file, c.attr->size, name, deadline);
    if (!read) {
      if (read.error().code == ErrorCode::kInvalidArgument) return read.error().with_context(path);
      last = read.take_error().with_context(c.origin);
      continue;
    }
    PlacedTags out{c.origin, c.path, {}};
    out.record.path = c.path;
    out.record.size = c.attr->size;
    out.record.mtime_sec = c.attr->mtime_sec;
    out.record.mtime_nsec = c.attr->mtime_nsec;
    out.record.tags = std::move(*read);
    return out;
  }
  return last;
}

Result<std::shared_ptr<FileSession>> Federation::open(const std::string& path) {
  auto attr = getattr(path);
  if (!attr) return attr.take_error();
  if (attr->type == EntryType::kDirectory) {
    return make_error(ErrorCode::kInvalidArgument, path + ": is a directory", EISDIR);
  }
  std::string origin_path = path;
  if (layout_) {
    auto view = layout_->view();
    const std::string* source = view->source_of(path);
    if (source == nullptr) return make_error(ErrorCode::kNotFound, path + ": not in the layout");
    origin_path = *source;
  }
  return std::make_shared<FileSession>(origin_path, std::move(*attr));
}

}  // namespace musicfs
