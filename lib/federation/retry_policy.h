#pragma once
#include <chrono>
#include <vector>

namespace musicfs {

// NFR-7.3: an origin with no alternative is retried after 100 ms, 500 ms and 2000 ms.
// (The plan's sketch computed 100/200/400 ms with a doubling factor; the spec wins.)
struct RetryPolicy {
  std::vector<std::chrono::milliseconds> delays{std::chrono::milliseconds(100), std::chrono::milliseconds(500),
                                                std::chrono::milliseconds(2000)};

  static RetryPolicy spec_compliant() { return RetryPolicy{}; }
  size_t max_attempts() const { return delays.size() + 1; }
  // Delay before retry number `retry` (0-based); the last delay repeats if asked past the end.
  std::chrono::milliseconds delay_before_retry(size_t retry) const {
    if (delays.empty()) return std::chrono::milliseconds(0);
    return retry < delays.size() ? delays[retry] : delays.back();
  }
};

}  // namespace musicfs
