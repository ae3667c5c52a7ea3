#include "federation/health_state.h"

namespace musicfs {

namespace {
std::optional<HealthTransition> move_to(HealthState& s, HealthStatus to, int64_t now) {
  if (s.status == to) return std::nullopt;
  HealthTransition t{s.status, to};
  s.status = to;
  s.last_change = now;
  return t;
}
}  // namespace

std::optional<HealthTransition> record_success(HealthState& s, const HealthThresholds& t, int64_t now) {
  s.consecutive_failures = 0;
  ++s.consecutive_successes;
  s.last_check = now;
  std::optional<HealthTransition> change;
  switch (s.status) {
    case HealthStatus::kUnknown:
    case HealthStatus::kHealthy:
      change = move_to(s, HealthStatus::kHealthy, now);
      break;
    case HealthStatus::kDegraded:
    case HealthStatus::kUnhealthy:
      change = move_to(s, s.consecutive_successes >= t.healthy ? HealthStatus::kHealthy : HealthStatus::kDegraded, now);
      break;
  }
  // The error belongs to the trouble that is over once the origin is healthy again: a
  // healthy origin shown beside an old error reads as a contradiction. While it is
  // still recovering (degraded) the error that put it there stays.
  if (s.status == HealthStatus::kHealthy) s.last_error.clear();
  return change;
}

std::optional<HealthTransition> record_failure(HealthState& s, const HealthThresholds& t, int64_t now,
                                               std::string error) {
  s.consecutive_successes = 0;
  ++s.consecutive_failures;
  s.last_error = std::move(error);
  s.last_check = now;
  if (s.consecutive_failures >= t.unhealthy) return move_to(s, HealthStatus::kUnhealthy, now);
  if (s.status == HealthStatus::kUnhealthy) return std::nullopt;
  return move_to(s, HealthStatus::kDegraded, now);
}

}  // namespace musicfs
