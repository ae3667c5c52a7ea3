#pragma once
// The per-origin health state machine, kept free of threads and clocks so it can be
// tested on its own. Rules:
//   unknown  -> healthy    on the first good probe
//   any      -> degraded   on a failure while consecutive failures < unhealthy threshold
//   any      -> unhealthy  when consecutive failures reach the unhealthy threshold
//   degraded/unhealthy -> healthy only after `healthy` consecutive good probes
//                         (an unhealthy origin with fewer is "degraded": recovering),
//   so a flapping origin does not bounce traffic back and forth.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/health_status.h"

namespace musicfs {

struct HealthThresholds {
  uint32_t unhealthy = 3;  // consecutive failures that make an origin unhealthy
  uint32_t healthy = 2;    // consecutive good probes that bring it back
};

struct HealthTransition {
  HealthStatus from;
  HealthStatus to;
};

// A good probe. Returns the transition when the status changed.
std::optional<HealthTransition> record_success(HealthState& s, const HealthThresholds& t, int64_t now);
// A failed probe or a failed read (passive detection).
std::optional<HealthTransition> record_failure(HealthState& s, const HealthThresholds& t, int64_t now,
                                               std::string error);

}  // namespace musicfs
