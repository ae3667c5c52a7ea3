#include <catch2/catch.hpp>

#include "federation/latency_stats.h"

using namespace musicfs;

TEST_CASE("LatencyStats: empty stats read zero", "[latency]") {
  LatencyStats s;
  CHECK(s.samples() == 0);
  CHECK(s.p50_us() == 0);
  CHECK(s.p99_us() == 0);
}

TEST_CASE("LatencyStats: one sample is both p50 and p99", "[latency]") {
  LatencyStats s;
  s.record(1234);
  CHECK(s.samples() == 1);
  CHECK(s.p50_us() == 1234);
  CHECK(s.p99_us() == 1234);
}

TEST_CASE("LatencyStats: percentiles of 1..100", "[latency]") {
  LatencyStats s;
  // Recorded out of order: percentiles come from the sorted window.
  for (uint32_t i = 100; i >= 1; --i) s.record(i);
  CHECK(s.samples() == 100);
  CHECK(s.p50_us() == 51);  // sorted[n/2]
  CHECK(s.p99_us() == 100);  // sorted[n*99/100]
}

TEST_CASE("LatencyStats: only the last 100 samples count", "[latency]") {
  LatencyStats s;
  for (int i = 0; i < 100; ++i) s.record(1'000'000);  // an old slow period
  CHECK(s.p50_us() == 1'000'000);
  for (int i = 0; i < 99; ++i) s.record(10);
  // One slow sample is still inside the window.
  CHECK(s.p50_us() == 10);
  CHECK(s.p99_us() == 1'000'000);
  s.record(10);
  // Now every slow sample has left the window.
  CHECK(s.samples() == 100);
  CHECK(s.p50_us() == 10);
  CHECK(s.p99_us() == 10);
}

TEST_CASE("LatencyStats: window slides over 1..150", "[latency]") {
  LatencyStats s;
  for (uint32_t i = 1; i <= 150; ++i) s.record(i);
  // Window holds 51..150.
  CHECK(s.samples() == LatencyStats::kWindow);
  CHECK(s.p50_us() == 101);
  CHECK(s.p99_us() == 150);
}
