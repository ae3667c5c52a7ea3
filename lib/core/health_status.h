#pragma once
// An origin's health as it is reported and persisted: the status and the counters of
// the state machine in federation/health_state.h, which owns the rules. Kept below
// the federation so that the state store saves and loads it without depending on it.
#include <cstdint>
#include <string>
#include <string_view>

namespace musicfs {

enum class HealthStatus : uint8_t { kUnknown, kHealthy, kDegraded, kUnhealthy };

std::string_view health_status_name(HealthStatus s);

struct HealthState {
  HealthStatus status = HealthStatus::kUnknown;
  uint32_t consecutive_failures = 0;
  uint32_t consecutive_successes = 0;
  int64_t last_check = 0;   // unix seconds of the last probe
  int64_t last_change = 0;  // unix seconds of the last status change
  std::string last_error;
};

}  // namespace musicfs
