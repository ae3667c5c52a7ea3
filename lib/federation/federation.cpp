#include "federation/federation.h"

#include <spdlog/spdlog.h>

#include "origins/bounded_origin.h"
#include "origins/origin_types.h"
#include "util/time_util.h"
#include "util/virtual_path.h"

namespace musicfs {

namespace {
// Listing a large remote tree can take minutes; it runs on the indexer thread only.
constexpr auto kListDeadline = std::chrono::minutes(30);

}  // namespace

Federation::Federation(std::string mount_point, HealthConfig health, EventLog& events, FederationOptions options)
    : mount_point_(std::move(mount_point)), health_(std::move(health)), events_(events), options_(std::move(options)) {
  retry_.delays.clear();
  for (int64_t ms : health_.retry_delays_ms) retry_.delays.emplace_back(ms);
  monitor_ = std::make_unique<HealthMonitor>(
      std::chrono::seconds(health_.check_interval_secs), std::chrono::milliseconds(health_.timeout_ms),
      [this] { return registry_.snapshot(); },
      [this](const OriginRuntimePtr& rt, const Status& s, uint32_t us) { on_probe(rt, s, us); });
  indexer_ = std::thread([this] { indexer_loop(); });
}

Federation::~Federation() { stop(); }

void Federation::start() {
  monitor_->start();
  started_.store(true);
}

void Federation::stop() {
  monitor_->stop();
  {
    std::lock_guard lock(index_mu_);
    if (index_stopping_) return;
    index_stopping_ = true;
  }
  index_cv_.notify_all();
  if (indexer_.joinable()) indexer_.join();
  for (const auto& rt : *registry_.snapshot()) registry_.drop_watches(rt->config.id);
}

Status Federation::add_origin(const OriginConfig& config, const std::optional<HealthState>& restored) {
  auto made = create_origin(config);
  if (!made) return made.take_error();
  OriginPtr origin = std::move(*made);
  if (options_.decorate) origin = options_.decorate(origin);
  origin = std::make_shared<BoundedOrigin>(origin, options_.io_threads_per_origin);
  HealthThresholds thresholds{static_cast<uint32_t>(health_.threshold_for(config.type)),
                              static_cast<uint32_t>(health_.healthy_threshold)};
  auto rt = registry_.register_origin(config, origin, thresholds);
  if (!rt) return rt.take_error();
  // After a restart the origin starts from its last known state, not from "unknown".
  if (restored) (*rt)->restore(*restored);
  // Watch first, then list: a change between the two is seen by the watcher.
  start_watch(*rt);
  rescan(*rt);
  events_.record({0, 0, "origin_added", mount_point_, config.id, "",
                  config.type + " origin at " + (*rt)->origin->location() + ", priority " +
                      std::to_string(config.priority) + ", " + std::to_string(tree_.file_count((*rt)->slot)) +
                      " files"});
  invalidate("/");
  invalidate_origin_paths(*rt);
  // Added to a running mount: probe now, so it does not wait a whole interval as "unknown".
  if (started_.load()) monitor_->check_now(config.id);
  return {};
}

Status Federation::remove_origin(const std::string& id, const std::string& reason) {
  OriginRuntimePtr rt;
  std::vector<std::string> paths;
  {
    std::lock_guard lock(membership_mu_);
    rt = registry_.unregister(id);
    if (!rt) return make_error(ErrorCode::kNotFound, "no origin '" + id + "' in mount " + mount_point_);
    tree_.for_each(rt->slot, [&](const std::string& p, const EntryAttr&) { paths.push_back(p); });
    tree_.remove_origin(rt->slot);
    registry_.release_slot(rt->slot);
  }
  events_.record({0, 0, reason, mount_point_, id, "", "removed from the tree"});
  check_all_unhealthy();
  for (const auto& p : paths) invalidate(p);
  invalidate("/");
  return {};
}

void Federation::start_watch(const OriginRuntimePtr& rt) {
  std::string id = rt->config.id;
  auto handle = rt->origin->watch([this, id](const ChangeNotice& n) { enqueue_index_job(id, n.path, n.rescan); });
  registry_.register_watch(id, std::move(handle));
}

void Federation::rescan(const OriginRuntimePtr& rt) {
  auto deadline = SteadyClock::now() + kListDeadline;
  std::vector<ListedEntry> entries;
  Status s = rt->origin->list("/", [&](ListedEntry&& e) { entries.push_back(std::move(e)); }, deadline);
  if (!s) {
    // A failed listing never removes files from the tree: keep the last index.
    spdlog::warn("origin {}: listing failed, keeping the last index: {}", rt->config.id, s.error().message);
    return;
  }
  EntryAttr root;
  root.type = EntryType::kDirectory;
  root.mode = 0755;
  if (auto a = rt->origin->stat("/", SteadyClock::now() + std::chrono::milliseconds(health_.timeout_ms))) {
    root = *a;
  }
  size_t n = entries.size();
  {
    std::lock_guard lock(membership_mu_);
    if (registry_.get(rt->config.id) != rt) return;  // removed while we listed
    tree_.replace_origin(rt->slot, root, std::move(entries));
  }
  spdlog::info("origin {}: indexed {} entries", rt->config.id, n);
}

void Federation::enqueue_index_job(std::string origin_id, std::string path, bool full) {
  {
    std::lock_guard lock(index_mu_);
    if (index_stopping_) return;
    index_jobs_.push_back({std::move(origin_id), std::move(path), full});
  }
  index_cv_.notify_one();
}

void Federation::wait_index_idle() {
  std::unique_lock lock(index_mu_);
  index_idle_cv_.wait(lock, [&] { return index_stopping_ || (index_jobs_.empty() && !index_busy_); });
}

void Federation::indexer_loop() {
  for (;;) {
    IndexJob job;
    {
      std::unique_lock lock(index_mu_);
      index_busy_ = false;
      if (index_jobs_.empty()) index_idle_cv_.notify_all();
      index_cv_.wait(lock, [&] { return index_stopping_ || !index_jobs_.empty(); });
      if (index_stopping_) {
        index_idle_cv_.notify_all();
        return;
      }
      job = std::move(index_jobs_.front());
      index_jobs_.pop_front();
      index_busy_ = true;
    }
    OriginRuntimePtr rt = registry_.get(job.origin);
    if (!rt) continue;
    if (job.invalidate_only) {
      std::vector<std::string> paths;
      tree_.for_each(rt->slot, [&](const std::string& p, const EntryAttr&) { paths.push_back(p); });
      for (const auto& p : paths) invalidate(p);
      continue;
    }
    if (job.full) {
      rescan(rt);
      invalidate("/");
      continue;
    }
    auto deadline = SteadyClock::now() + std::chrono::milliseconds(health_.timeout_ms);
    auto attr = rt->origin->stat(job.path, deadline);
    std::vector<ListedEntry> below;
    if (attr && attr->type == EntryType::kDirectory) {
      // Files may have landed in a new directory before its watch was added.
      Status listed = rt->origin->list(job.path, [&](ListedEntry&& e) { below.push_back(std::move(e)); },
                                       SteadyClock::now() + kListDeadline);
      if (!listed) spdlog::debug("origin {}: listing {} failed: {}", job.origin, job.path, listed.error().message);
    }
    if (!attr && attr.error().code != ErrorCode::kNotFound) continue;  // the health monitor deals with that
    {
      std::lock_guard lock(membership_mu_);
      if (registry_.get(rt->config.id) != rt) continue;
      if (attr) {
        tree_.upsert(rt->slot, job.path, *attr);
        for (const auto& e : below) tree_.upsert(rt->slot, e.path, e.attr);
      } else {
        tree_.remove(rt->slot, job.path);
      }
    }
    invalidate(job.path);
    invalidate(std::string(split_parent(job.path).first));
  }
}

void Federation::invalidate(const std::string& path) const {
  if (options_.invalidate) options_.invalidate(path);
}

void Federation::check_now(const std::string& id) { monitor_->check_now(id); }

void Federation::on_probe(const OriginRuntimePtr& rt, const Status& result, uint32_t latency_us) {
  int64_t now = unix_now();
  std::optional<HealthTransition> t;
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
    registry_.drop_watches(rt->config.id);
    start_watch(rt);
    enqueue_index_job(rt->config.id, "/", true);
  }
}

void Federation::report_read_failure(const OriginRuntimePtr& rt, const Error& err) {
  rt->read_errors.fetch_add(1);
  // Passive detection: a failed read counts at once, so the next read skips the origin.
  auto t = rt->apply_failure(unix_now(), err.message);
  if (options_.on_state_change) options_.on_state_change(*rt);
  if (t) note_transition(rt, *t, "read failed: " + err.message);
}

void Federation::invalidate_origin_paths(const OriginRuntimePtr& rt) {
  {
    std::lock_guard lock(index_mu_);
    if (index_stopping_) return;
    IndexJob job;
    job.origin = rt->config.id;
    job.invalidate_only = true;
    index_jobs_.push_back(std::move(job));
  }
  index_cv_.notify_one();
}

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
  auto list = registry_.snapshot();
  return decide(tree_, *list, path);
}

Result<EntryAttr> Federation::getattr(const std::string& path) const {
  RouteDecision d = explain(path);
  if (const RouteCandidate* s = d.selected()) return *s->attr;
  if (path == "/") {
    EntryAttr root;
    root.type = EntryType::kDirectory;
    root.mode = 0755;
    return root;
  }
  return make_error(ErrorCode::kNotFound, path + ": not in the tree");
}

std::optional<std::vector<DirEntryView>> Federation::readdir(const std::string& path) const {
  auto r = tree_.list_dir(path);
  if (!r && path == "/") return std::vector<DirEntryView>{};
  return r;
}

Result<std::shared_ptr<FileSession>> Federation::open(const std::string& path) {
  auto attr = getattr(path);
  if (!attr) return attr.take_error();
  if (attr->type == EntryType::kDirectory) {
    return make_error(ErrorCode::kInvalidArgument, path + ": is a directory", EISDIR);
  }
  return std::make_shared<FileSession>(path);
}

}  // namespace musicfs
