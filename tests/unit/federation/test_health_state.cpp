#include <catch2/catch.hpp>

#include "federation/health_state.h"

using namespace musicfs;

namespace {
bool is(const std::optional<HealthTransition>& t, HealthStatus from, HealthStatus to) {
  return t.has_value() && t->from == from && t->to == to;
}
}  // namespace

TEST_CASE("health_status_name", "[health]") {
  CHECK(health_status_name(HealthStatus::kUnknown) == "unknown");
  CHECK(health_status_name(HealthStatus::kHealthy) == "healthy");
  CHECK(health_status_name(HealthStatus::kDegraded) == "degraded");
  CHECK(health_status_name(HealthStatus::kUnhealthy) == "unhealthy");
}

TEST_CASE("unknown -> healthy on the first good probe", "[health]") {
  HealthState s;
  HealthThresholds t{3, 2};
  CHECK(s.status == HealthStatus::kUnknown);
  auto tr = record_success(s, t, 100);
  CHECK(is(tr, HealthStatus::kUnknown, HealthStatus::kHealthy));
  CHECK(s.status == HealthStatus::kHealthy);
  CHECK(s.last_check == 100);
  CHECK(s.last_change == 100);
  CHECK(s.consecutive_successes == 1);

  // Further good probes are not transitions and leave last_change alone.
  CHECK_FALSE(record_success(s, t, 130).has_value());
  CHECK(s.last_check == 130);
  CHECK(s.last_change == 100);
  CHECK(s.consecutive_successes == 2);
}

TEST_CASE("failures: degraded below the threshold, unhealthy at it", "[health]") {
  HealthState s;
  HealthThresholds t{3, 2};
  REQUIRE(record_success(s, t, 1));

  CHECK(is(record_failure(s, t, 2, "e1"), HealthStatus::kHealthy, HealthStatus::kDegraded));
  CHECK(s.consecutive_failures == 1);
  CHECK(s.consecutive_successes == 0);
  CHECK(s.last_error == "e1");

  CHECK_FALSE(record_failure(s, t, 3, "e2").has_value());  // still degraded
  CHECK(s.status == HealthStatus::kDegraded);
  CHECK(s.consecutive_failures == 2);

  CHECK(is(record_failure(s, t, 4, "e3"), HealthStatus::kDegraded, HealthStatus::kUnhealthy));
  CHECK(s.consecutive_failures == 3);
  CHECK(s.last_change == 4);
  CHECK(s.last_error == "e3");

  // More failures keep counting but are no transition.
  CHECK_FALSE(record_failure(s, t, 5, "e4").has_value());
  CHECK(s.status == HealthStatus::kUnhealthy);
  CHECK(s.consecutive_failures == 4);
  CHECK(s.last_check == 5);
  CHECK(s.last_change == 4);
}

TEST_CASE("threshold 1 (local): the first failure makes an origin unhealthy", "[health]") {
  HealthThresholds t{1, 2};
  SECTION("from unknown") {
    HealthState s;
    CHECK(is(record_failure(s, t, 1, "gone"), HealthStatus::kUnknown, HealthStatus::kUnhealthy));
  }
  SECTION("from healthy") {
    HealthState s;
    REQUIRE(record_success(s, t, 1));
    CHECK(is(record_failure(s, t, 2, "gone"), HealthStatus::kHealthy, HealthStatus::kUnhealthy));
  }
}

TEST_CASE("unknown -> degraded on a failure below the threshold", "[health]") {
  HealthState s;
  HealthThresholds t{3, 2};
  CHECK(is(record_failure(s, t, 1, "x"), HealthStatus::kUnknown, HealthStatus::kDegraded));
}

TEST_CASE("recovery needs `healthy` consecutive good probes", "[health]") {
  HealthThresholds t{2, 3};
  HealthState s;
  REQUIRE(record_failure(s, t, 1, "a"));
  REQUIRE(record_failure(s, t, 2, "b"));
  REQUIRE(s.status == HealthStatus::kUnhealthy);

  // First good probe: recovering, shown as degraded.
  CHECK(is(record_success(s, t, 3), HealthStatus::kUnhealthy, HealthStatus::kDegraded));
  CHECK(s.consecutive_failures == 0);
  CHECK(s.consecutive_successes == 1);
  CHECK_FALSE(record_success(s, t, 4).has_value());
  CHECK(s.status == HealthStatus::kDegraded);
  CHECK(is(record_success(s, t, 5), HealthStatus::kDegraded, HealthStatus::kHealthy));
  CHECK(s.consecutive_successes == 3);
}

TEST_CASE("a failure while recovering restarts the count (no flapping)", "[health]") {
  HealthThresholds t{1, 2};
  HealthState s;
  REQUIRE(record_failure(s, t, 1, "a"));
  REQUIRE(record_success(s, t, 2));  // recovering
  REQUIRE(s.status == HealthStatus::kDegraded);
  CHECK(is(record_failure(s, t, 3, "again"), HealthStatus::kDegraded, HealthStatus::kUnhealthy));
  CHECK(s.consecutive_successes == 0);
  // One good probe is not enough again.
  CHECK(is(record_success(s, t, 4), HealthStatus::kUnhealthy, HealthStatus::kDegraded));
  CHECK(is(record_success(s, t, 5), HealthStatus::kDegraded, HealthStatus::kHealthy));
}

TEST_CASE("a degraded origin also needs `healthy` good probes", "[health]") {
  HealthThresholds t{3, 2};
  HealthState s;
  REQUIRE(record_success(s, t, 1));
  REQUIRE(record_failure(s, t, 2, "blip"));
  REQUIRE(s.status == HealthStatus::kDegraded);
  CHECK_FALSE(record_success(s, t, 3).has_value());
  CHECK(s.status == HealthStatus::kDegraded);
  CHECK(is(record_success(s, t, 4), HealthStatus::kDegraded, HealthStatus::kHealthy));
}

TEST_CASE("a recovered origin forgets its last error but a recovering one keeps it", "[health]") {
  HealthState s;
  HealthThresholds t{1, 2};
  record_failure(s, t, 100, "ENOENT: the share is gone");
  CHECK(s.status == HealthStatus::kUnhealthy);
  CHECK(s.last_error == "ENOENT: the share is gone");
  record_success(s, t, 110);  // 1 of 2 good probes: degraded, still recovering
  CHECK(s.status == HealthStatus::kDegraded);
  CHECK(s.last_error == "ENOENT: the share is gone");
  record_success(s, t, 120);  // healthy again
  CHECK(s.status == HealthStatus::kHealthy);
  CHECK(s.last_error.empty());
}
