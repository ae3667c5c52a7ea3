// The twelve tests of the week-6 plan (shared/seed/week-06-origin-federation.md,
// "Tests" table), named exactly as there, run against the real parts: OriginRegistry,
// the router, Federation with its health monitor and read path, LocalOrigin over
// temporary directories, and FaultInjectingOrigin to make an origin fail.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <span>
#include <string>

#include "federation/federation.h"
#include "unit/federation/federation_support.h"
#include "unit/unit_support.h"

using namespace musicfs;
using Catch::Contains;

using test::FedFixture;

namespace {

double ms(double seconds) { return seconds * 1000.0; }

}  // namespace

// FR-13.1: origins can be registered and found again by id.
TEST_CASE("test_register_and_get", "[plan][registry]") {
  test::TempDir dir("plan");
  OriginRegistry registry;
  OriginConfig cfg;
  cfg.id = "test";
  cfg.type = "local";
  cfg.priority = 1;
  auto origin = std::make_shared<LocalOrigin>("test", "local", dir.path());
  auto rt = registry.register_origin(cfg, origin, HealthThresholds{1, 2});
  REQUIRE(rt.ok());

  auto got = registry.get("test");
  REQUIRE(got != nullptr);
  CHECK(got == *rt);
  CHECK(got->origin == origin);
  CHECK(got->config.priority == 1);
  CHECK(got->status.load() == HealthStatus::kUnknown);
  CHECK(registry.by_slot(got->slot) == got);
  CHECK(registry.snapshot()->size() == 1);
  CHECK(registry.get("missing") == nullptr);

  // A second origin gets its own slot; a duplicate id is refused.
  OriginConfig cfg2 = cfg;
  cfg2.id = "other";
  auto rt2 = registry.register_origin(cfg2, std::make_shared<LocalOrigin>("other", "local", dir.path()),
                                      HealthThresholds{3, 2});
  REQUIRE(rt2.ok());
  CHECK((*rt2)->slot != got->slot);
  auto dup = registry.register_origin(cfg, origin, HealthThresholds{1, 2});
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == ErrorCode::kExists);
  CHECK(registry.snapshot()->size() == 2);

  // Unregistering returns the runtime; its slot is reused only once released (after
  // the caller has cleared the origin's index entries).
  OriginSlot freed = got->slot;
  CHECK(registry.unregister("test") == got);
  CHECK(registry.get("test") == nullptr);
  CHECK(registry.unregister("test") == nullptr);
  registry.release_slot(freed);
  cfg.id = "again";
  auto rt3 = registry.register_origin(cfg, origin, HealthThresholds{1, 2});
  REQUIRE(rt3.ok());
  CHECK((*rt3)->slot == freed);
}

// FR-13.3: with both healthy, the priority-1 origin serves the path.
TEST_CASE("test_route_by_priority", "[plan][router]") {
  FedFixture f;
  f.add("rp-primary", 1, {{"/test.flac", "from primary"}});
  f.add("rp-backup", 2, {{"/test.flac", "from backup"}});
  f.fed->check_now();
  REQUIRE(f.status("rp-primary") == HealthStatus::kHealthy);
  REQUIRE(f.status("rp-backup") == HealthStatus::kHealthy);

  RouteDecision d = f.fed->explain("/test.flac");
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "rp-primary");
  CHECK(d.rule == RouteRule::kHighestPriority);
  CHECK(d.order.size() == 2);

  auto bytes = f.read("/test.flac");
  REQUIRE(bytes.ok());
  CHECK(*bytes == "from primary");
  CHECK(f.events.count("failover") == 0);
}

// Health-aware routing: an unhealthy higher-priority origin is passed over.
TEST_CASE("test_select_skips_unhealthy", "[plan][router]") {
  test::TempDir dir("plan");
  VirtualTree tree;
  auto high = test::make_runtime("high", 1, 0, dir.mkdir("high"));
  auto low = test::make_runtime("low", 2, 1, dir.mkdir("low"));
  tree.upsert(high->slot, "/test.flac", test::file_attr(10));
  tree.upsert(low->slot, "/test.flac", test::file_attr(10));
  OriginList origins{high, low};
  low->apply_success(1);
  high->apply_failure(1, "probe failed");  // "high" is unhealthy (local threshold 1)
  REQUIRE(high->status.load() == HealthStatus::kUnhealthy);

  RouteDecision d = decide(tree, origins, "/test.flac");
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "low");
  CHECK(d.rule == RouteRule::kHighestPriority);
}

// Latency-based selection: equal priority, the lower p50 latency wins.
TEST_CASE("test_latency_affects_tiebreak", "[plan][router]") {
  test::TempDir dir("plan");
  VirtualTree tree;
  auto a = test::make_runtime("a", 1, 0, dir.mkdir("a"));
  auto b = test::make_runtime("b", 1, 1, dir.mkdir("b"));
  tree.upsert(a->slot, "/test.flac", test::file_attr(10));
  tree.upsert(b->slot, "/test.flac", test::file_attr(10));
  OriginList origins{a, b};
  a->apply_success(1);
  b->apply_success(1);
  a->latency.record(100'000);  // 100 ms
  b->latency.record(10'000);   // 10 ms: lower latency

  RouteDecision d = decide(tree, origins, "/test.flac");
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "b");
  CHECK(d.rule == RouteRule::kLatencyTiebreak);
  CHECK(d.rule_text == "latency tiebreak at priority 1");
}

// Health monitoring: a forced check makes a fresh (unknown) origin healthy.
TEST_CASE("test_health_check", "[plan][health]") {
  FedFixture f;
  f.add("hc-test", 1, {{"/a.flac", "a"}});
  CHECK(f.status("hc-test") == HealthStatus::kUnknown);

  f.fed->check_now("hc-test");
  CHECK(f.status("hc-test") == HealthStatus::kHealthy);
  HealthState h = f.rt("hc-test")->health();
  CHECK(h.last_check > 0);
  CHECK(h.consecutive_successes == 1);
  CHECK(f.rt("hc-test")->latency.samples() == 1);
  CHECK(f.events.count("origin_healthy") == 1);

  SECTION("a failing probe is recorded too") {
    FedFixture::set_fault("hc-test", "fail");
    f.fed->check_now("hc-test");
    CHECK(f.status("hc-test") == HealthStatus::kUnhealthy);
    CHECK_THAT(f.rt("hc-test")->health().last_error, Contains("injected failure"));
  }
  SECTION("start() runs the first round at once, without waiting an interval") {
    f.add("hc-bg", 2, {{"/b.flac", "b"}});
    REQUIRE(f.status("hc-bg") == HealthStatus::kUnknown);
    f.fed->start();  // check_interval_secs is 30: only the immediate round can do this
    CHECK(test::poll_until([&] { return f.status("hc-bg") == HealthStatus::kHealthy; }));
    f.fed->stop();
  }
}

// Automatic failover: the primary fails, the read returns the backup's bytes, and the
// primary is marked unhealthy at once (local threshold 1).
TEST_CASE("test_failover_to_backup", "[plan][failover]") {
  FedFixture f;
  f.add("fo-primary", 1, {{"/Artist/song.flac", "PRIMARY BYTES"}});
  f.add("fo-backup", 2, {{"/Artist/song.flac", "BACKUP BYTES"}});
  f.fed->check_now();
  REQUIRE(f.status("fo-primary") == HealthStatus::kHealthy);
  REQUIRE(f.status("fo-backup") == HealthStatus::kHealthy);
  const RouteDecision before = f.fed->explain("/Artist/song.flac");
  REQUIRE(before.selected()->origin == "fo-primary");

  FedFixture::set_fault("fo-primary", "fail");
  auto bytes = f.read("/Artist/song.flac");
  INFO((bytes.ok() ? std::string() : bytes.error().message));
  REQUIRE(bytes.ok());
  CHECK(*bytes == "BACKUP BYTES");
  CHECK(FedFixture::fault("fo-primary")->data_call_times().size() == 1);  // tried once, no retries

  CHECK(f.status("fo-primary") == HealthStatus::kUnhealthy);
  CHECK(f.rt("fo-primary")->consecutive_failures.load() == 1);
  CHECK(f.rt("fo-primary")->read_errors.load() == 1);
  CHECK(f.status("fo-backup") == HealthStatus::kHealthy);
  CHECK(f.events.count("failover") == 1);
  CHECK(f.events.count("origin_unhealthy") == 1);
  CHECK(f.events.count("all_origins_unhealthy") == 0);

  // The next read goes straight to the backup: the primary is not tried again.
  RouteDecision d = f.fed->explain("/Artist/song.flac");
  CHECK(d.selected()->origin == "fo-backup");
  auto again = f.read("/Artist/song.flac");
  REQUIRE(again.ok());
  CHECK(*again == "BACKUP BYTES");
  CHECK(FedFixture::fault("fo-primary")->data_call_times().size() == 1);
}

// NFR-7.3: a single origin that fails twice is retried after ~100 ms, then ~500 ms.
TEST_CASE("test_retry_with_backoff", "[plan][retry]") {
  FedFixture f;
  f.add("rb-solo", 1, {{"/song.flac", "SOLO"}});
  FedFixture::set_fault("rb-solo", "fail-times", 2);

  auto bytes = f.read("/song.flac");
  INFO((bytes.ok() ? std::string() : bytes.error().message));
  REQUIRE(bytes.ok());
  CHECK(*bytes == "SOLO");

  auto t = FedFixture::fault("rb-solo")->data_call_times();
  REQUIRE(t.size() == 3);
  double gap1 = ms(t[1] - t[0]);
  double gap2 = ms(t[2] - t[1]);
  INFO("gaps: " << gap1 << " ms, " << gap2 << " ms");
  CHECK(gap1 >= 90);
  CHECK(gap1 < 400);
  CHECK(gap2 >= 480);
  CHECK(gap2 < 1200);
  CHECK(f.events.count("failover") == 0);
}

// NFR-7.1: read a file once while its only origin is healthy (filling the content
// cache), make the origin fail until it is unhealthy, and read it again: the same
// bytes come back from the cache, with no read error.
TEST_CASE("test_serve_cached_offline", "[plan][cache]") {
  HealthConfig h;
  h.retry_delays_ms = {5};  // the retry schedule has its own test
  FedFixture f(h, 64 << 20);
  const std::string song(300000, 'S');
  f.add("co-a", 1, {{"/song.flac", song}, {"/other.flac", "never read"}});
  auto session = f.fed->open("/song.flac");
  REQUIRE(session.ok());
  std::string buf(song.size(), '\0');
  auto n = f.fed->read(**session, 0, std::span<char>(buf.data(), buf.size()));
  REQUIRE(n.ok());
  REQUIRE(buf == song);
  f.fed->cache()->flush();

  FedFixture::set_fault("co-a", "fail");
  CHECK_FALSE(f.read("/other.flac").ok());  // passive detection: the origin is now unhealthy
  REQUIRE(f.status("co-a") == HealthStatus::kUnhealthy);

  auto again = f.fed->open("/song.flac");
  REQUIRE(again.ok());
  std::string back(song.size(), '\0');
  auto m = f.fed->read(**again, 0, std::span<char>(back.data(), back.size()));
  REQUIRE(m.ok());
  CHECK(*m == song.size());
  CHECK(back == song);
  CHECK(f.fed->cache()->stats().hits >= 1);
}

// Oracle fix: with every origin unhealthy, reads try the least-bad origin (fewest
// consecutive failures, then priority) and one all_origins_unhealthy event is emitted
// per episode, not one per read.
TEST_CASE("test_all_origins_unhealthy", "[plan][failover]") {
  HealthConfig h;
  h.retry_delays_ms = {5, 5};  // short retries keep this test fast; the schedule has its own test
  FedFixture f(h);
  f.add("au-a", 1, {{"/song.flac", "AAAA"}});
  f.add("au-b", 2, {{"/song.flac", "BBBB"}});
  FedFixture::set_fault("au-a", "fail");
  FedFixture::set_fault("au-b", "fail");

  SECTION("reads alone: both fail, one event however many reads") {
    for (int i = 0; i < 4; ++i) {
      auto r = f.read("/song.flac");
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == ErrorCode::kUnavailable);
    }
    CHECK(f.status("au-a") == HealthStatus::kUnhealthy);
    CHECK(f.status("au-b") == HealthStatus::kUnhealthy);
    CHECK(f.events.count("all_origins_unhealthy") == 1);
  }

  SECTION("the least-bad origin is tried first") {
    // a: 3 failed probes, b: 1. Both unhealthy (local threshold 1); b is least bad
    // even though a has the better priority.
    for (int i = 0; i < 3; ++i) f.fed->check_now("au-a");
    f.fed->check_now("au-b");
    REQUIRE(f.rt("au-a")->consecutive_failures.load() == 3);
    REQUIRE(f.rt("au-b")->consecutive_failures.load() == 1);
    CHECK(f.events.count("all_origins_unhealthy") == 1);

    RouteDecision d = f.fed->explain("/song.flac");
    REQUIRE(d.selected() != nullptr);
    CHECK(d.selected()->origin == "au-b");
    CHECK(d.rule_text == "fallback: least-bad");

    FedFixture::set_fault("au-a", "fail");  // clears the call logs
    FedFixture::set_fault("au-b", "fail");
    auto r = f.read("/song.flac");
    REQUIRE_FALSE(r.ok());
    auto ta = FedFixture::fault("au-a")->data_call_times();
    auto tb = FedFixture::fault("au-b")->data_call_times();
    REQUIRE_FALSE(ta.empty());
    REQUIRE_FALSE(tb.empty());
    CHECK(tb.front() < ta.front());

    for (int i = 0; i < 3; ++i) CHECK_FALSE(f.read("/song.flac").ok());
    CHECK(f.events.count("all_origins_unhealthy") == 1);

    SECTION("an unhealthy origin that answers again serves the read") {
      FedFixture::set_fault("au-b", "none");
      auto ok = f.read("/song.flac");
      INFO((ok.ok() ? std::string() : ok.error().message));
      REQUIRE(ok.ok());
      CHECK(*ok == "BBBB");
      CHECK(f.events.count("all_origins_unhealthy") == 1);
    }
    SECTION("a new episode after a recovery emits a new event") {
      FedFixture::set_fault("au-b", "none");
      f.fed->check_now("au-b");  // unhealthy -> degraded (recovering): episode over
      REQUIRE(f.status("au-b") == HealthStatus::kDegraded);
      FedFixture::set_fault("au-b", "fail");
      f.fed->check_now("au-b");
      REQUIRE(f.status("au-b") == HealthStatus::kUnhealthy);
      CHECK(f.events.count("all_origins_unhealthy") == 2);
    }
  }
}

// Oracle fix: unregistering an origin drops its watch handles, which closes the
// inotify descriptor and frees its kernel watches.
TEST_CASE("test_watch_cleanup_on_unregister", "[plan][registry]") {
  FedFixture f;
  const size_t before = test::count_inotify_fds();
  f.add("wc-local", 1, {{"/A/one/01.flac", "1"}, {"/B/02.flac", "2"}});

  CHECK(test::count_inotify_fds() == before + 1);
  CHECK(f.fed->registry().watch_handle_count("wc-local") == 1);
  // Root, /A, /A/one and /B.
  CHECK(f.fed->registry().kernel_watch_count("wc-local") == 4);

  // The watcher is live: a new file shows up in the tree without a rescan.
  f.dir.write("origins/wc-local/B/03.flac", "3");
  CHECK(test::poll_until([&] { return f.fed->getattr("/B/03.flac").ok(); }));

  REQUIRE(f.fed->remove_origin("wc-local").ok());
  CHECK(test::count_inotify_fds() == before);
  CHECK(f.fed->registry().watch_handle_count("wc-local") == 0);
  CHECK(f.fed->registry().kernel_watch_count("wc-local") == 0);
  CHECK(f.fed->registry().get("wc-local") == nullptr);
  CHECK_FALSE(f.fed->getattr("/B/02.flac").ok());
  CHECK(f.events.count("origin_removed") == 1);
  CHECK(f.fed->remove_origin("wc-local").error().code == ErrorCode::kNotFound);
}

// Oracle fix: thresholds per origin type. Local is unhealthy after 1 failure, NFS
// (remote) after 3; [health.per_origin_thresholds] overrides both.
TEST_CASE("test_per_origin_health_threshold", "[plan][health]") {
  SECTION("defaults: local 1, nfs 3") {
    FedFixture f;
    f.add("pt-local", 1, {{"/a.flac", "a"}});
    f.add("pt-nfs", 2, {{"/b.flac", "b"}}, "nfs");
    CHECK(f.rt("pt-local")->thresholds.unhealthy == 1);
    CHECK(f.rt("pt-nfs")->thresholds.unhealthy == 3);
    FedFixture::set_fault("pt-local", "fail");
    FedFixture::set_fault("pt-nfs", "fail");

    f.fed->check_now("pt-local");
    CHECK(f.status("pt-local") == HealthStatus::kUnhealthy);

    f.fed->check_now("pt-nfs");
    CHECK(f.status("pt-nfs") == HealthStatus::kDegraded);
    f.fed->check_now("pt-nfs");
    CHECK(f.status("pt-nfs") == HealthStatus::kDegraded);
    f.fed->check_now("pt-nfs");
    CHECK(f.status("pt-nfs") == HealthStatus::kUnhealthy);
  }
  SECTION("per_origin_thresholds override: local 2, nfs 1") {
    HealthConfig h;
    h.per_origin_thresholds = {{"local", 2}, {"nfs", 1}};
    FedFixture f(h);
    f.add("pt-local", 1, {{"/a.flac", "a"}});
    f.add("pt-nfs", 2, {{"/b.flac", "b"}}, "nfs");
    CHECK(f.rt("pt-local")->thresholds.unhealthy == 2);
    CHECK(f.rt("pt-nfs")->thresholds.unhealthy == 1);
    FedFixture::set_fault("pt-local", "fail");
    FedFixture::set_fault("pt-nfs", "fail");

    f.fed->check_now("pt-nfs");
    CHECK(f.status("pt-nfs") == HealthStatus::kUnhealthy);
    f.fed->check_now("pt-local");
    CHECK(f.status("pt-local") == HealthStatus::kDegraded);
    f.fed->check_now("pt-local");
    CHECK(f.status("pt-local") == HealthStatus::kUnhealthy);
  }
}

// Oracle fix: the retry schedule is NFR-7.3's 100 ms, 500 ms, 2000 ms. (The plan's
// test_backoff_calculation sketch asserts 100/200/400 ms from a doubling factor; that
// sketch is wrong, as the plan's own preamble notes. The spec wins.)
TEST_CASE("test_retry_delays_match_spec", "[plan][retry]") {
  using std::chrono::milliseconds;
  const std::vector<milliseconds> spec{milliseconds(100), milliseconds(500), milliseconds(2000)};

  RetryPolicy p = RetryPolicy::spec_compliant();
  CHECK(p.delays == spec);
  CHECK(p.max_attempts() == 4);
  CHECK(p.delay_before_retry(0) == milliseconds(100));
  CHECK(p.delay_before_retry(1) == milliseconds(500));
  CHECK(p.delay_before_retry(2) == milliseconds(2000));
  CHECK(p.delay_before_retry(7) == milliseconds(2000));

  CHECK(HealthConfig{}.retry_delays_ms == std::vector<int64_t>{100, 500, 2000});

  // The federation's read path uses the configured schedule: the spec by default.
  EventLog events;
  test::TempDir dir("plan");
  {
    Federation fed(dir / "mnt", HealthConfig{}, events);
    CHECK(fed.retry_policy().delays == spec);
  }
  {
    HealthConfig h;
    h.retry_delays_ms = {10, 20};
    Federation fed(dir / "mnt", h, events);
    CHECK(fed.retry_policy().delays == std::vector<milliseconds>{milliseconds(10), milliseconds(20)});
  }
}
