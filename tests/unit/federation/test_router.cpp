#include <catch2/catch.hpp>

#include <map>

#include "federation/router.h"
#include "unit/federation/federation_support.h"
#include "unit/unit_support.h"

using namespace musicfs;
using test::file_attr;
using test::make_runtime;
using test::set_health;

namespace {

// Origin ids of the holders in decision order.
std::vector<std::string> holder_order(const RouteDecision& d) {
  std::vector<std::string> out;
  for (size_t i : d.order) out.push_back(d.candidates[i].origin);
  return out;
}

using Ids = std::vector<std::string>;

struct Fixture {
  test::TempDir dir{"router"};
  VirtualTree tree;
  OriginList origins;

  OriginRuntimePtr add(const std::string& id, int priority, bool holds = true, uint64_t size = 100) {
    auto slot = static_cast<OriginSlot>(origins.size());
    auto rt = make_runtime(id, priority, slot, dir.mkdir(id));
    if (holds) tree.upsert(slot, "/Artist/song.flac", file_attr(size));
    origins.push_back(rt);
    return rt;
  }
  RouteDecision decide_song() const { return decide(tree, origins, "/Artist/song.flac"); }
};

}  // namespace

TEST_CASE("router: priority dominates latency: (1, 1000ms) beats (2, 10ms)", "[router]") {
  Fixture f;
  auto slow = f.add("slow-primary", 1);
  auto fast = f.add("fast-backup", 2);
  slow->apply_success(1);
  fast->apply_success(1);
  slow->latency.record(1'000'000);
  fast->latency.record(10'000);

  RouteDecision d = f.decide_song();
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "slow-primary");
  CHECK(d.rule == RouteRule::kHighestPriority);
  CHECK(d.rule_text == "highest priority healthy");
  CHECK(holder_order(d) == Ids{"slow-primary", "fast-backup"});
  CHECK(d.exists);
  CHECK_FALSE(d.is_directory);
  CHECK(d.selected()->latency_p50_us == 1'000'000);
}

TEST_CASE("router: latency breaks ties at equal priority", "[router]") {
  Fixture f;
  auto a = f.add("a", 3);
  auto b = f.add("b", 3);
  auto c = f.add("c", 4);
  for (auto& rt : {a, b, c}) rt->apply_success(1);
  a->latency.record(100'000);
  b->latency.record(10'000);
  c->latency.record(1);

  RouteDecision d = f.decide_song();
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "b");
  CHECK(d.rule == RouteRule::kLatencyTiebreak);
  CHECK(d.rule_text == "latency tiebreak at priority 3");
  CHECK(holder_order(d) == Ids{"b", "a", "c"});
}

TEST_CASE("router: unhealthy origins are skipped while a healthy one holds the file", "[router]") {
  Fixture f;
  auto high = f.add("high", 1);
  auto low = f.add("low", 2);
  low->apply_success(1);
  high->apply_failure(1, "down");  // local threshold 1
  REQUIRE(high->status.load() == HealthStatus::kUnhealthy);

  RouteDecision d = f.decide_song();
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "low");
  CHECK(d.rule == RouteRule::kHighestPriority);
  // The unhealthy one stays last in line, as a last resort for the read path.
  CHECK(holder_order(d) == Ids{"low", "high"});
}

TEST_CASE("router: no healthy holder falls back to degraded / unknown ones", "[router]") {
  Fixture f;
  auto a = f.add("a", 1);
  auto b = f.add("b", 2);
  auto c = f.add("c", 3);
  auto healthy_non_holder = f.add("elsewhere", 0, /*holds=*/false);
  healthy_non_holder->apply_success(1);
  set_health(a, HealthStatus::kUnhealthy, 1);
  set_health(b, HealthStatus::kDegraded, 1);
  // c never probed: unknown, same tier as degraded.

  RouteDecision d = f.decide_song();
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "b");
  CHECK(d.rule == RouteRule::kFallbackDegraded);
  CHECK(d.rule_text == "fallback: degraded");
  CHECK(holder_order(d) == Ids{"b", "c", "a"});

  SECTION("unknown and degraded are ordered together by priority") {
    set_health(b, HealthStatus::kDegraded, 1);
    set_health(a, HealthStatus::kUnknown, 0);
    RouteDecision d2 = f.decide_song();
    CHECK(holder_order(d2) == Ids{"a", "b", "c"});
    CHECK(d2.rule_text == "fallback: degraded");
  }
}

TEST_CASE("router: all holders unhealthy picks the least-bad by (failures, priority)", "[router]") {
  Fixture f;
  auto a = f.add("a", 1);
  auto b = f.add("b", 3);
  auto c = f.add("c", 2);
  set_health(a, HealthStatus::kUnhealthy, 5);
  set_health(b, HealthStatus::kUnhealthy, 2);
  set_health(c, HealthStatus::kUnhealthy, 2);

  RouteDecision d = f.decide_song();
  REQUIRE(d.selected() != nullptr);
  CHECK(d.selected()->origin == "c");  // 2 failures, priority 2 beats priority 3
  CHECK(d.rule == RouteRule::kFallbackLeastBad);
  CHECK(d.rule_text == "fallback: least-bad");
  CHECK(holder_order(d) == Ids{"c", "b", "a"});
  CHECK(d.selected()->consecutive_failures == 2);
}

TEST_CASE("router: divergent replicas are flagged", "[router]") {
  Fixture f;
  f.add("a", 1, true, 100);
  SECTION("same size and mtime: not divergent") {
    f.add("b", 2, true, 100);
    CHECK_FALSE(f.decide_song().divergent);
  }
  SECTION("different size") {
    f.add("b", 2, true, 4096);
    CHECK(f.decide_song().divergent);
  }
  SECTION("different mtime") {
    auto b = f.add("b", 2, false);
    f.tree.upsert(b->slot, "/Artist/song.flac", file_attr(100, 1'800'000'000));
    CHECK(f.decide_song().divergent);
  }
  SECTION("a single replica is never divergent") { CHECK_FALSE(f.decide_song().divergent); }
}

TEST_CASE("router: a path nobody holds", "[router]") {
  Fixture f;
  f.add("a", 1);
  f.add("b", 2);
  RouteDecision d = decide(f.tree, f.origins, "/nope.flac");
  CHECK_FALSE(d.exists);
  CHECK(d.selected() == nullptr);
  CHECK(d.order.empty());
  CHECK(d.rule == RouteRule::kNoOrigin);
  CHECK(d.rule_text == "no origin holds this path");
  // Every registered origin is still listed, for route-explain.
  CHECK(d.candidates.size() == 2);
}

TEST_CASE("router: candidates list holders best-first, then the others", "[router]") {
  Fixture f;
  f.add("not-holder", 0, false)->apply_success(1);
  f.add("second", 2)->apply_success(1);
  f.add("first", 1)->apply_success(1);
  RouteDecision d = f.decide_song();
  REQUIRE(d.candidates.size() == 3);
  CHECK(d.candidates[0].origin == "first");
  CHECK(d.candidates[1].origin == "second");
  CHECK(d.candidates[2].origin == "not-holder");
  CHECK_FALSE(d.candidates[2].has_file);
  CHECK(d.order == std::vector<size_t>{0, 1});
  REQUIRE(d.candidates[0].attr.has_value());
  CHECK(d.candidates[0].attr->size == 100);
}

TEST_CASE("router: directories are routed too", "[router]") {
  Fixture f;
  f.add("a", 1)->apply_success(1);
  RouteDecision d = decide(f.tree, f.origins, "/Artist");
  REQUIRE(d.selected() != nullptr);
  CHECK(d.is_directory);
  CHECK_FALSE(d.divergent);
}

TEST_CASE("order_candidates on bare candidates", "[router]") {
  auto cand = [](std::string id, bool has, int prio, HealthStatus st, uint32_t p50, uint32_t fails = 0) {
    RouteCandidate c;
    c.origin = std::move(id);
    c.has_file = has;
    c.priority = prio;
    c.status = st;
    c.latency_p50_us = p50;
    c.consecutive_failures = fails;
    return c;
  };
  std::vector<RouteCandidate> c = {
      cand("p2-fast", true, 2, HealthStatus::kHealthy, 10),
      cand("p1-slow", true, 1, HealthStatus::kHealthy, 1'000'000),
      cand("p0-absent", false, 0, HealthStatus::kHealthy, 1),
      cand("p0-down", true, 0, HealthStatus::kUnhealthy, 1, 9),
      cand("p1-deg", true, 1, HealthStatus::kDegraded, 5),
  };
  RouteRule rule = RouteRule::kNoOrigin;
  auto order = order_candidates(c, &rule);
  CHECK(order == std::vector<size_t>{1, 0, 4, 3});
  CHECK(rule == RouteRule::kHighestPriority);
  // The rule pointer is optional.
  CHECK(order_candidates(c, nullptr) == order);

  std::vector<RouteCandidate> none = {cand("x", false, 1, HealthStatus::kHealthy, 1)};
  CHECK(order_candidates(none, &rule).empty());
  CHECK(rule == RouteRule::kNoOrigin);
}

TEST_CASE("route_rule_text", "[router]") {
  CHECK(route_rule_text(RouteRule::kLatencyTiebreak, 7) == "latency tiebreak at priority 7");
  CHECK(route_rule_text(RouteRule::kHighestPriority, 1) == "highest priority healthy");
  CHECK(route_rule_text(RouteRule::kFallbackDegraded, 1) == "fallback: degraded");
  CHECK(route_rule_text(RouteRule::kFallbackLeastBad, 1) == "fallback: least-bad");
}

TEST_CASE("router: a listing's attributes are those of each entry's selected holder", "[router]") {
  Fixture f;
  auto primary = f.add("primary", 1, true, 100);
  auto backup = f.add("backup", 2, true, 200);
  f.tree.upsert(backup->slot, "/Artist/only-backup.flac", file_attr(7));
  primary->apply_success(1);
  backup->apply_success(1);

  auto sizes = [&] {
    std::map<std::string, uint64_t> out;
    auto listing = f.tree.list_dir_attrs("/Artist", rank_origins(f.origins));
    REQUIRE(listing);
    for (const auto& e : *listing) out[e.name] = e.attr.size;
    return out;
  };
  auto expected_song = [&] {
    const RouteDecision d = f.decide_song();
    return d.selected()->attr->size;
  };

  CHECK(sizes() == std::map<std::string, uint64_t>{{"only-backup.flac", 7}, {"song.flac", 100}});
  CHECK(sizes()["song.flac"] == expected_song());
  // The primary goes down: listing and decision both move to the backup's version.
  set_health(primary, HealthStatus::kUnhealthy, 3);
  CHECK(sizes()["song.flac"] == 200);
  CHECK(sizes()["song.flac"] == expected_song());
  CHECK_FALSE(f.tree.list_dir_attrs("/Artist/song.flac/x", rank_origins(f.origins)));
}
