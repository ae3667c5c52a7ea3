#pragma once
// One registered origin with everything the federation knows about it at run time.
#include <atomic>
#include <memory>
#include <mutex>

#include "config/config.h"
#include "federation/health_state.h"
#include "federation/latency_stats.h"
#include "index/virtual_tree.h"
#include "origins/origin.h"

namespace musicfs {

struct OriginRuntime {
  OriginRuntime(OriginConfig cfg, OriginSlot s, OriginPtr o, HealthThresholds t)
      : config(std::move(cfg)), slot(s), origin(std::move(o)), thresholds(t) {}

  const OriginConfig config;
  const OriginSlot slot;
  const OriginPtr origin;  // already wrapped in BoundedOrigin
  const HealthThresholds thresholds;

  LatencyStats latency;
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> read_errors{0};
  // For `musicfsctl metrics`. Relaxed increments: they order nothing, and the read
  // path must not pay for a fence per read.
  std::atomic<uint64_t> failovers{0};  // reads it served in place of the first choice
  std::atomic<uint64_t> retries{0};    // backoff retries made on it (NFR-7.3 schedule)
  std::atomic<uint64_t> probes{0};
  std::atomic<uint64_t> probe_failures{0};
  std::atomic<uint32_t> last_probe_latency_us{0};
  // Entries the last full listing left out for their length (within_path_limits).
  std::atomic<uint64_t> skipped_long_paths{0};
  std::atomic<bool> long_paths_logged{false};  // logged once per origin

  // Lock-free mirrors of the health state for the router (written under health_mu).
  std::atomic<HealthStatus> status{HealthStatus::kUnknown};
  std::atomic<uint32_t> consecutive_failures{0};

  HealthState health() const {
    std::lock_guard lock(health_mu_);
    return health_;
  }
  // Applies a probe or read outcome; returns the transition if the status changed.
  std::optional<HealthTransition> apply_success(int64_t now);
  std::optional<HealthTransition> apply_failure(int64_t now, std::string error);
  // Restores persisted state after a restart.
  void restore(const HealthState& s);

 private:
  void publish();
  mutable std::mutex health_mu_;
  HealthState health_;
};

using OriginRuntimePtr = std::shared_ptr<OriginRuntime>;
// An immutable list of the registered origins; replaced whole on add/remove.
using OriginList = std::vector<OriginRuntimePtr>;
using OriginListPtr = std::shared_ptr<const OriginList>;

}  // namespace musicfs
