#pragma once
// Where a read of a whole file would get its bytes now: from an origin, from the
// content cache, or from nowhere. route-explain prints it: the first source of the
// read planner's plan (federation/read_planner.h) that can serve, the plan the read
// path follows. Under the least-bad rule (every holder unhealthy) the origins count
// as unable to serve.
#include <cstdint>
#include <string>

#include "cache/content_cache.h"
#include "federation/router.h"

namespace musicfs {

struct ServingPlan {
  std::string served_from = "none";  // "origin", "cache" or "none"
  std::string origin;                // the origin whose version is read (or cached)
  uint64_t cached_bytes = 0;         // of that version
  uint64_t size = 0;
  bool cache_enabled = false;
  // Replaces the routing rule in route-explain when no origin can serve:
  // "served from cache" or "no origin, not cached".
  std::string rule_override;
};

ServingPlan plan_serving(const RouteDecision& d, const ContentCache* cache, const std::string& mount);

}  // namespace musicfs
