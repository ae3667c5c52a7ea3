#include "federation/serving.h"

namespace musicfs {

ServingPlan plan_serving(const RouteDecision& d, const ContentCache* cache, const std::string& mount) {
  ServingPlan p;
  p.cache_enabled = cache != nullptr;
  const RouteCandidate* sel = d.selected();
  if (sel == nullptr || !sel->attr || d.is_directory) return p;
  p.origin = sel->origin;
  p.size = sel->attr->size;
  auto cached_of = [&](const RouteCandidate& c) -> uint64_t {
    if (cache == nullptr || !c.attr) return 0;
    return cache->cached_bytes(FileVersion::of(mount, c.origin, d.path, *c.attr));
  };
  p.cached_bytes = cached_of(*sel);
  const bool complete = p.cached_bytes == p.size;
  if (d.rule != RouteRule::kFallbackLeastBad) {
    p.served_from = complete && p.size > 0 ? "cache" : "origin";
    return p;
  }
  // Every holder is unhealthy: the cache is what keeps the music playing.
  if (complete) {
    p.served_from = "cache";
    p.rule_override = "served from cache";
    return p;
  }
  for (const auto& c : d.candidates) {
    if (!c.has_file || !c.attr || c.origin == sel->origin) continue;
    uint64_t bytes = cached_of(c);
    if (bytes == c.attr->size) {
      p.origin = c.origin;
      p.size = c.attr->size;
      p.cached_bytes = bytes;
      p.served_from = "cache";
      p.rule_override = "served from cache";
      return p;
    }
  }
  p.served_from = "none";
  p.rule_override = p.cached_bytes > 0 ? "no origin, partly cached" : "no origin, not cached";
  return p;
}

}  // namespace musicfs
