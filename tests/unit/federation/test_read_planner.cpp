#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "federation/read_planner.h"
#include "unit/federation/federation_support.h"

using namespace musicfs;
using test::file_attr;
using Kind = ReadSource::Kind;

namespace {

// A decision built by hand: holders in the order given, best first.
RouteDecision decision(const std::vector<std::string>& holders, RouteRule rule = RouteRule::kHighestPriority) {
  RouteDecision d;
  d.path = "/Artist/song.flac";
  d.exists = true;
  d.rule = rule;
  for (size_t i = 0; i < holders.size(); ++i) {
    RouteCandidate c;
    c.origin = holders[i];
    c.slot = static_cast<OriginSlot>(i);
    c.has_file = true;
    c.priority = static_cast<int>(i + 1);
    c.status = rule == RouteRule::kFallbackLeastBad ? HealthStatus::kUnhealthy : HealthStatus::kHealthy;
    c.attr = file_attr(4096);
    d.candidates.push_back(c);
    d.order.push_back(i);
  }
  return d;
}

// A cache holding every range of the named origins' versions.
CacheHolds cached(std::set<std::string> origins) {
  return [origins](const RouteCandidate& c, ReadRange) { return origins.count(c.origin) != 0; };
}

// The plan as text: "cache:a", "origin:b", ...
std::vector<std::string> text(const RouteDecision& d, const std::vector<ReadSource>& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan) {
    out.push_back((s.kind == Kind::kCache ? "cache:" : "origin:") + d.candidates[s.candidate].origin);
  }
  return out;
}

using Plan = std::vector<std::string>;
const ReadRange kWhole{0, 4096};

}  // namespace

TEST_CASE("read planner: without a cache a read tries the origins in decision order", "[planner]") {
  auto d = decision({"a", "b", "c"});
  CHECK(text(d, plan_read(d, {}, kWhole)) == Plan{"origin:a", "origin:b", "origin:c"});
  CHECK(origin_sources(plan_read(d, {}, kWhole)) == std::vector<size_t>{0, 1, 2});
}

TEST_CASE("read planner: the selected version's cached copy comes before the origins", "[planner]") {
  auto d = decision({"a", "b"});
  CHECK(text(d, plan_read(d, cached({"a"}), kWhole)) == Plan{"cache:a", "origin:a", "origin:b"});
}

TEST_CASE("read planner: another holder's cached copy serves after every origin failed", "[planner]") {
  auto d = decision({"a", "b", "c"});
  CHECK(text(d, plan_read(d, cached({"c", "b"}), kWhole)) ==
        Plan{"origin:a", "origin:b", "origin:c", "cache:b", "cache:c"});
}

TEST_CASE("read planner: every holder unhealthy: any cached copy serves before the origins", "[planner]") {
  auto d = decision({"a", "b"}, RouteRule::kFallbackLeastBad);
  SECTION("the selected version cached") {
    CHECK(text(d, plan_read(d, cached({"a", "b"}), kWhole)) == Plan{"cache:a", "cache:b", "origin:a", "origin:b"});
  }
  SECTION("only another holder's version cached") {
    CHECK(text(d, plan_read(d, cached({"b"}), kWhole)) == Plan{"cache:b", "origin:a", "origin:b"});
  }
  SECTION("nothing cached: the unhealthy origins are all that is left") {
    CHECK(text(d, plan_read(d, cached({}), kWhole)) == Plan{"origin:a", "origin:b"});
  }
}

TEST_CASE("read planner: an origin with cache = false is never a cache source", "[planner]") {
  auto d = decision({"a", "b"});
  d.candidates[0].cacheable = false;
  CHECK(text(d, plan_read(d, cached({"a", "b"}), kWhole)) == Plan{"origin:a", "origin:b", "cache:b"});
  d.rule = RouteRule::kFallbackLeastBad;
  d.candidates[1].cacheable = false;
  CHECK(text(d, plan_read(d, cached({"a", "b"}), kWhole)) == Plan{"origin:a", "origin:b"});
}

TEST_CASE("read planner: the cache is asked about the requested range of each version", "[planner]") {
  auto d = decision({"a", "b"});
  std::vector<std::pair<std::string, uint64_t>> asked;
  CacheHolds holds = [&](const RouteCandidate& c, ReadRange r) {
    asked.emplace_back(c.origin, r.offset);
    return r.offset < 1024;  // only the head is cached
  };
  CHECK(text(d, plan_read(d, holds, {2048, 512})) == Plan{"origin:a", "origin:b"});
  CHECK(asked == std::vector<std::pair<std::string, uint64_t>>{{"a", 2048}, {"b", 2048}});
  CHECK(text(d, plan_read(d, holds, {0, 512})) == Plan{"cache:a", "origin:a", "origin:b", "cache:b"});
}

TEST_CASE("read planner: no sources for a directory or a path nobody holds", "[planner]") {
  auto d = decision({"a"});
  d.is_directory = true;
  CHECK(plan_read(d, cached({"a"}), kWhole).empty());
  auto none = decision({}, RouteRule::kNoOrigin);
  CHECK(plan_read(none, cached({"a"}), kWhole).empty());
}

TEST_CASE("read planner: holders without the file are neither origins nor cache sources", "[planner]") {
  auto d = decision({"a", "b"});
  RouteCandidate lacking;
  lacking.origin = "c";
  lacking.slot = 2;
  d.candidates.push_back(lacking);  // a candidate, not in order: it does not hold the path
  CHECK(text(d, plan_read(d, cached({"a", "b", "c"}), kWhole)) == Plan{"cache:a", "origin:a", "origin:b", "cache:b"});
}
