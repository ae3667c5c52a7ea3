#include "federation/origin_runtime.h"

namespace musicfs {

void OriginRuntime::publish() {
  status.store(health_.status);
  consecutive_failures.store(health_.consecutive_failures);
}

std::optional<HealthTransition> OriginRuntime::apply_success(int64_t now) {
  std::lock_guard lock(health_mu_);
  auto t = record_success(health_, thresholds, now);
  publish();
  return t;
}

std::optional<HealthTransition> OriginRuntime::apply_failure(int64_t now, std::string error) {
  std::lock_guard lock(health_mu_);
  auto t = record_failure(health_, thresholds, now, std::move(error));
  publish();
  return t;
}

void OriginRuntime::restore(const HealthState& s) {
  std::lock_guard lock(health_mu_);
  health_ = s;
  publish();
}

}  // namespace musicfs
