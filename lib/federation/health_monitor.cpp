#include "federation/health_monitor.h"

#include <vector>

namespace musicfs {

HealthMonitor::HealthMonitor(std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                             OriginsFn origins, ResultFn on_result)
    : interval_(interval), timeout_(timeout), origins_(std::move(origins)), on_result_(std::move(on_result)) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void HealthMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t HealthMonitor::rounds() const {
  std::lock_guard lock(mu_);
  return rounds_;
}

void HealthMonitor::run() {
  // The first round runs at once, so origins leave "unknown" within milliseconds of
  // being mounted rather than after a full interval.
  for (;;) {
    probe_all({});
    std::unique_lock lock(mu_);
    ++rounds_;
    if (cv_.wait_for(lock, interval_, [&] { return stopping_; })) return;
  }
}

void HealthMonitor::check_now(const std::string& id) { probe_all(id); }

void HealthMonitor::probe_all(const std::string& only) {
  OriginListPtr list = origins_();
  std::vector<std::thread> probes;
  for (const auto& rt : *list) {
    if (!only.empty() && rt->config.id != only) continue;
    probes.emplace_back([this, rt] {
      auto start = SteadyClock::now();
      // BoundedOrigin guarantees the call returns by the deadline even if the origin hangs.
      Status s = rt->origin->probe(start + timeout_);
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
      on_result_(rt, s, static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
    });
  }
  for (auto& t : probes) t.join();
}

}  // namespace musicfs
