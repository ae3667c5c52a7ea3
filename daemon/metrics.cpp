// The metric families: one per figure, labelled by mount point and origin id. Base
// units throughout (seconds, bytes), counters end in _total; see musicfsctl(1), METRICS.
#include "metrics.h"

#include <map>

#include "daemon.h"

namespace musicfs {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

double secs(uint32_t us) { return static_cast<double>(us) / 1e6; }

// Families by name, kept in the order they are first asked for, so the output groups
// one figure of every mount and origin together (the format requires a family's
// samples to be contiguous).
class Families {
 public:
  MetricFamily& gauge(const std::string& name, const std::string& help) { return get(name, help, MetricType::kGauge); }
  MetricFamily& counter(const std::string& name, const std::string& help) {
    return get(name, help, MetricType::kCounter);
  }
  std::vector<MetricFamily> take() { return std::move(list_); }

 private:
  MetricFamily& get(const std::string& name, const std::string& help, MetricType type) {
    auto [it, fresh] = index_.emplace(name, list_.size());
    if (fresh) list_.push_back({name, help, type, {}});
    return list_[it->second];
  }
  std::vector<MetricFamily> list_;
  std::map<std::string, size_t> index_;
};

void add_origin(Families& f, const Labels& l, const OriginRuntime& rt, const VirtualTree& tree) {
  const HealthState h = rt.health();
  f.gauge("musicfs_origin_healthy", "1 when the origin's health state is healthy, else 0")
      .add(l, h.status == HealthStatus::kHealthy ? 1 : 0);
  auto& state = f.gauge("musicfs_origin_state", "The origin's health state: 1 for the state it is in, 0 for the others");
  for (auto s : {HealthStatus::kUnknown, HealthStatus::kHealthy, HealthStatus::kDegraded, HealthStatus::kUnhealthy}) {
    Labels with_state = l;
    with_state.emplace_back("state", std::string(health_status_name(s)));
    state.add(std::move(with_state), h.status == s ? 1 : 0);
  }
  f.gauge("musicfs_origin_priority", "The origin's priority (lower wins)").add(l, rt.config.priority);
  f.gauge("musicfs_origin_consecutive_failures", "Failed probes and reads since the origin last succeeded")
      .add(l, h.consecutive_failures);
  f.gauge("musicfs_origin_last_check_timestamp_seconds", "Unix time of the origin's last health probe (0: none yet)")
      .add(l, static_cast<double>(h.last_check));
  f.gauge("musicfs_origin_probe_latency_seconds", "Duration of the origin's last health probe")
      .add(l, secs(rt.last_probe_latency_us.load(std::memory_order_relaxed)));
  f.gauge("musicfs_origin_latency_p50_seconds", "Median latency of the origin's last 100 reads and probes")
      .add(l, secs(rt.latency.p50_us()));
  f.gauge("musicfs_origin_latency_p99_seconds", "99th percentile latency of the origin's last 100 reads and probes")
      .add(l, secs(rt.latency.p99_us()));
  f.counter("musicfs_origin_probes_total", "Health probes of the origin").add(l, static_cast<double>(rt.probes.load()));
  f.counter("musicfs_origin_probe_failures_total", "Health probes of the origin that failed")
      .add(l, static_cast<double>(rt.probe_failures.load()));
  f.counter("musicfs_origin_read_bytes_total", "Bytes read from the origin (cache fills and reads past the cache)")
      .add(l, static_cast<double>(rt.bytes_read.load()));
  f.counter("musicfs_origin_read_errors_total", "Reads from the origin that failed")
      .add(l, static_cast<double>(rt.read_errors.load()));
  f.counter("musicfs_origin_failovers_total", "Reads the origin served in place of the mount's first choice for the file")
      .add(l, static_cast<double>(rt.failovers.load()));
  f.counter("musicfs_origin_retries_total", "Reads retried on the origin after every holder failed (backoff)")
      .add(l, static_cast<double>(rt.retries.load()));
  f.gauge("musicfs_origin_index_entries", "Files (and symlinks) of the origin in the index")
      .add(l, static_cast<double>(tree.file_count(rt.slot)));
}

void add_cache(Families& f, const Labels& l, const Mount& m) {
  f.gauge("musicfs_cache_enabled", "1 when the mount has a content cache, 0 in passthrough mode")
      .add(l, m.cache ? 1 : 0);
  if (!m.cache) return;
  // Mounts that share a cache_dir share one cache and report the same figures.
  const CacheStats s = m.cache->stats();
  auto n = [](uint64_t v) { return static_cast<double>(v); };
  f.gauge("musicfs_cache_used_bytes", "Bytes of content the cache holds").add(l, n(s.used_bytes));
  f.gauge("musicfs_cache_capacity_bytes", "The content cache's capacity (lowered if the disk filled up)")
      .add(l, n(s.capacity_bytes));
  f.gauge("musicfs_cache_files", "Files the content cache holds chunks of").add(l, n(s.files));
  f.counter("musicfs_cache_hits_total", "Reads served from the content cache").add(l, n(s.hits));
  f.counter("musicfs_cache_misses_total", "Reads the content cache could not serve").add(l, n(s.misses));
  f.counter("musicfs_cache_hit_bytes_total", "Bytes served from the content cache").add(l, n(s.hit_bytes));
  f.counter("musicfs_cache_miss_bytes_total", "Bytes fetched from origins on a cache miss").add(l, n(s.miss_bytes));
  f.counter("musicfs_cache_evictions_total", "Chunks evicted from the content cache").add(l, n(s.evictions));
  f.counter("musicfs_cache_evicted_bytes_total", "Bytes evicted from the content cache").add(l, n(s.evicted_bytes));
  f.counter("musicfs_cache_corrupt_chunks_total", "Cached chunks that failed their checksum and were dropped")
      .add(l, n(s.corrupt_chunks));
  f.counter("musicfs_cache_dropped_writes_total", "Chunks not cached because the cache writer was too far behind")
      .add(l, n(s.dropped_writes));
}

}  // namespace

std::vector<MetricFamily> collect_metrics(Daemon& daemon) {
  Families f;
  const auto mounts = daemon.mounts().list();
  f.gauge("musicfs_up", "1: the daemon answered").add({}, 1);
  f.gauge("musicfs_start_time_seconds", "Unix time the daemon started").add({}, static_cast<double>(daemon.started_at()));
  f.gauge("musicfs_build_info", "The daemon's version, as a label").add({{"version", MUSICFS_VERSION}}, 1);
  f.gauge("musicfs_mounts", "Mounts the daemon serves").add({}, static_cast<double>(mounts.size()));
  for (const auto& m : mounts) {
    const Labels ml = {{"mount", m->config.mount_point}};
    // tree_now: the index as it stands; a scrape must not wait for it to load.
    const VirtualTree& tree = m->federation->tree_now();
    const auto origins = m->federation->origins();
    f.gauge("musicfs_mount_index_ready", "1 once the mount's index is loaded or listed").add(ml, m->federation->index_ready());
    f.gauge("musicfs_mount_origins", "Enabled origins of the mount").add(ml, static_cast<double>(origins->size()));
    f.gauge("musicfs_index_entries", "Distinct files (and symlinks) the mount shows, however many origins hold each")
        .add(ml, static_cast<double>(tree.distinct_file_count()));
    if (m->fuse) {
      f.gauge("musicfs_mount_kernel_inodes",
              "Files and directories the kernel holds a reference to (the FUSE inode table), the root included")
          .add(ml, static_cast<double>(m->fuse->kernel_inodes()));
    }
    add_cache(f, ml, *m);
    for (const auto& rt : *origins) {
      add_origin(f, {{"mount", m->config.mount_point}, {"origin", rt->config.id}}, *rt, tree);
    }
  }
  return f.take();
}

Result<std::string> metrics_exposition(Daemon& daemon) { return render_exposition(collect_metrics(daemon)); }

}  // namespace musicfs
