#include "federation/serving.h"

#include "federation/read_planner.h"

namespace musicfs {

ServingPlan plan_serving(const RouteDecision& d, const ContentCache* cache, const std::string& mount) {
  ServingPlan p;
  p.cache_enabled = cache != nullptr;
  const RouteCandidate* sel = d.selected();
  if (sel == nullptr || !sel->attr || d.is_directory) return p;
  auto cached_of = [&](const RouteCandidate& c) -> uint64_t {
    if (cache == nullptr || !c.attr || !c.cacheable) return 0;
    return cache->cached_bytes(FileVersion::of(mount, c.origin, c.path, *c.attr));
  };
  CacheHolds holds;
  // The whole file: a version serves from the cache when all of it is there.
  if (cache != nullptr) {
    holds = [&](const RouteCandidate& c, ReadRange) { return c.attr->size > 0 && cached_of(c) == c.attr->size; };
  }
  const auto plan = plan_read(d, holds, {0, sel->attr->size});
  const bool origins_down = d.rule == RouteRule::kFallbackLeastBad;

  p.origin = sel->origin;
  p.size = sel->attr->size;
  p.cached_bytes = cached_of(*sel);
  if (!plan.empty() && plan.front().kind == ReadSource::Kind::kCache) {
    const RouteCandidate& c = d.candidates[plan.front().candidate];
    p.origin = c.origin;
    p.size = c.attr->size;
    p.cached_bytes = cached_of(c);
    p.served_from = "cache";
    // Otherwise the routing rule stands: the selected origin's version is what is read.
    if (origins_down) p.rule_override = "served from cache";
    return p;
  }
  if (!origins_down) {
    p.served_from = "origin";
    return p;
  }
  p.served_from = "none";
  p.rule_override = p.cached_bytes > 0 ? "no origin, partly cached" : "no origin, not cached";
  return p;
}

}  // namespace musicfs
