// The read path follows the read planner (federation/read_planner.h): checked here
// through a Federation with a content cache, where the order shows in which origins
// a read touches.
#include <catch2/catch.hpp>

#include "unit/federation/federation_support.h"

using namespace musicfs;
using test::FedFixture;

// Rule 2 of the planner: with every holder unhealthy, another holder's cached version
// serves before any origin is tried (an unhealthy origin would only time out).
TEST_CASE("read path: every holder unhealthy: another holder's cached copy serves without an origin attempt",
          "[planner][cache]") {
  HealthConfig h;
  h.retry_delays_ms = {5};
  FedFixture f(h, 64 << 20);
  const std::string on_a(300000, 'A'), on_b(300000, 'B');
  f.add("rp-a", 1, {{"/song.flac", on_a}});
  f.add("rp-b", 2, {{"/song.flac", on_b}, {"/other.flac", "never cached"}});

  // a fails: the read moves to b, and b's version is cached.
  FedFixture::set_fault("rp-a", "fail");
  auto first = f.fed->open("/song.flac");
  REQUIRE(first.ok());
  std::string buf(on_b.size(), '\0');
  auto n = f.fed->read(**first, 0, std::span<char>(buf.data(), buf.size()));
  REQUIRE(n.ok());
  REQUIRE(buf == on_b);
  f.fed->cache()->flush();

  // b fails too, on a file it alone holds and that is not cached: both unhealthy (a
  // local origin's threshold is 1).
  FedFixture::set_fault("rp-b", "fail");
  CHECK_FALSE(f.read("/other.flac").ok());
  REQUIRE(f.status("rp-a") == HealthStatus::kUnhealthy);
  REQUIRE(f.status("rp-b") == HealthStatus::kUnhealthy);
  REQUIRE(f.fed->explain("/song.flac").rule == RouteRule::kFallbackLeastBad);

  FedFixture::set_fault("rp-a", "fail");  // restarts the call records
  FedFixture::set_fault("rp-b", "fail");
  auto again = f.fed->open("/song.flac");
  REQUIRE(again.ok());
  std::string back(on_b.size(), '\0');
  auto m = f.fed->read(**again, 0, std::span<char>(back.data(), back.size()));
  REQUIRE(m.ok());
  CHECK(back == on_b);
  CHECK(FedFixture::fault("rp-a")->data_call_times().empty());
  CHECK(FedFixture::fault("rp-b")->data_call_times().empty());
}
