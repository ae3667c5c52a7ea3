#include "federation/latency_stats.h"

#include <algorithm>

namespace musicfs {

void LatencyStats::record(uint32_t latency_us) {
  std::lock_guard lock(mu_);
  ring_[count_ % kWindow] = latency_us;
  ++count_;
  size_t n = std::min(count_, kWindow);
  std::array<uint32_t, kWindow> sorted{};
  std::copy_n(ring_.begin(), n, sorted.begin());
  std::sort(sorted.begin(), sorted.begin() + static_cast<long>(n));
  p50_.store(sorted[n / 2], std::memory_order_relaxed);
  p99_.store(sorted[std::min(n - 1, (n * 99) / 100)], std::memory_order_relaxed);
}

size_t LatencyStats::samples() const {
  std::lock_guard lock(mu_);
  return std::min(count_, kWindow);
}

}  // namespace musicfs
