#pragma once
// Latency over the last 100 samples of one origin (real reads and health probes).
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>

namespace musicfs {

class LatencyStats {
 public:
  static constexpr size_t kWindow = 100;

  void record(uint32_t latency_us);
  // Read without locking: the router reads these on every decision.
  uint32_t p50_us() const { return p50_.load(std::memory_order_relaxed); }
  uint32_t p99_us() const { return p99_.load(std::memory_order_relaxed); }
  size_t samples() const;

 private:
  mutable std::mutex mu_;
  std::array<uint32_t, kWindow> ring_{};
  size_t count_ = 0;  // samples ever recorded (ring holds the last min(count, kWindow))
  std::atomic<uint32_t> p50_{0};
  std::atomic<uint32_t> p99_{0};
};

}  // namespace musicfs
