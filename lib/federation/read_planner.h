#pragma once
// The one read planner: which sources serve a range of a file, in which order. The
// read path (read_path.cpp) tries the sources in this order; route-explain
// (serving.cpp) prints the first one that can serve now. Neither has its own copy of
// the rule, which is:
//
//   1. the content cache, for the version of the origin decide() selected, when it
//      holds the whole range;
//   2. when every holder is unhealthy (RouteRule::kFallbackLeastBad): the cached
//      version of any other holder that holds the whole range, holders in decision
//      order, before any origin is tried — an unhealthy origin would most likely only
//      time out, and the cache keeps the music playing;
//   3. the origins that hold the file, in decision order (failover, and the retry
//      schedule, are the read path's business);
//   4. when every origin attempt failed: the cached version of any other holder that
//      holds the whole range, holders in decision order (offline playback).
//
// So a complete-enough cached version of any holder serves whenever no origin can,
// whether the origins were known to be down (2) or only found to be (4). An origin
// whose cache policy is off (`cache = false`, RouteCandidate::cacheable) is never a
// cache source, whatever the cache holds of it. Directories, and paths no origin
// holds, have no sources.
#include <cstdint>
#include <functional>
#include <vector>

#include "federation/router.h"

namespace musicfs {

struct ReadSource {
  enum class Kind { kCache, kOrigin };
  Kind kind = Kind::kOrigin;
  size_t candidate = 0;  // index into RouteDecision::candidates

  bool operator==(const ReadSource&) const = default;
};

struct ReadRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Whether the content cache holds all of `range` of candidate's version of the file
// (its origin, path and attributes). Empty when there is no content cache.
using CacheHolds = std::function<bool(const RouteCandidate& candidate, ReadRange range)>;

std::vector<ReadSource> plan_read(const RouteDecision& d, const CacheHolds& holds, ReadRange range);

// The holders to read from, in order: the origin sources of a plan.
std::vector<size_t> origin_sources(const std::vector<ReadSource>& plan);

}  // namespace musicfs
