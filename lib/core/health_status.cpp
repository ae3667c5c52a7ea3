#include "core/health_status.h"

namespace musicfs {

std::string_view health_status_name(HealthStatus s) {
  switch (s) {
    case HealthStatus::kUnknown: return "unknown";
    case HealthStatus::kHealthy: return "healthy";
    case HealthStatus::kDegraded: return "degraded";
    case HealthStatus::kUnhealthy: return "unhealthy";
  }
  return "unknown";
}

}  // namespace musicfs
