#include "federation/read_planner.h"

namespace musicfs {

std::vector<ReadSource> plan_read(const RouteDecision& d, const CacheHolds& holds, ReadRange range) {
  std::vector<ReadSource> plan;
  const RouteCandidate* selected = d.selected();
  if (selected == nullptr || d.is_directory) return plan;
  const size_t first = d.order.front();

  auto cache_holds = [&](size_t i) {
    const RouteCandidate& c = d.candidates[i];
    return holds && c.cacheable && c.has_file && c.attr && holds(c, range);
  };
  auto add_other_cached = [&] {
    for (size_t i : d.order) {
      if (i != first && cache_holds(i)) plan.push_back({ReadSource::Kind::kCache, i});
    }
  };

  if (cache_holds(first)) plan.push_back({ReadSource::Kind::kCache, first});
  const bool origins_known_down = d.rule == RouteRule::kFallbackLeastBad;
  if (origins_known_down) add_other_cached();
  for (size_t i : d.order) plan.push_back({ReadSource::Kind::kOrigin, i});
  if (!origins_known_down) add_other_cached();
  return plan;
}

std::vector<size_t> origin_sources(const std::vector<ReadSource>& plan) {
  std::vector<size_t> out;
  for (const auto& s : plan) {
    if (s.kind == ReadSource::Kind::kOrigin) out.push_back(s.candidate);
  }
  return out;
}

}  // namespace musicfs
