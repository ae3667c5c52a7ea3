#include "federation/router.h"

#include <algorithm>
#include <tuple>

namespace musicfs {

std::string route_rule_text(RouteRule rule, int priority) {
  switch (rule) {
    case RouteRule::kNoOrigin: return "no origin holds this path";
    case RouteRule::kHighestPriority: return "highest priority healthy";
    case RouteRule::kLatencyTiebreak: return "latency tiebreak at priority " + std::to_string(priority);
    case RouteRule::kFallbackDegraded: return "fallback: degraded";
    case RouteRule::kFallbackLeastBad: return "fallback: least-bad";
  }
  return "unknown";
}

namespace {
int tier(HealthStatus s) {
  switch (s) {
    case HealthStatus::kHealthy: return 0;
    case HealthStatus::kDegraded:
    case HealthStatus::kUnknown: return 1;
    case HealthStatus::kUnhealthy: return 2;
  }
  return 2;
}
}  // namespace

std::vector<size_t> order_candidates(const std::vector<RouteCandidate>& c, RouteRule* rule) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i].has_file) idx.push_back(i);
  }
  auto key = [&](size_t i) {
    const RouteCandidate& x = c[i];
    int t = tier(x.status);
    // Within the unhealthy tier the least-bad comes first: fewest failures, then priority.
    if (t == 2) return std::make_tuple(t, static_cast<int64_t>(x.consecutive_failures), x.priority, 0u);
    return std::make_tuple(t, static_cast<int64_t>(x.priority), 0, x.latency_p50_us);
  };
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key(a) < key(b); });

  if (rule != nullptr) {
    if (idx.empty()) {
      *rule = RouteRule::kNoOrigin;
    } else {
      const RouteCandidate& best = c[idx.front()];
      switch (tier(best.status)) {
        case 0: {
          bool tie = std::any_of(idx.begin() + 1, idx.end(), [&](size_t i) {
            return tier(c[i].status) == 0 && c[i].priority == best.priority;
          });
          *rule = tie ? RouteRule::kLatencyTiebreak : RouteRule::kHighestPriority;
          break;
        }
        case 1: *rule = RouteRule::kFallbackDegraded; break;
        default: *rule = RouteRule::kFallbackLeastBad; break;
      }
    }
  }
  return idx;
}

namespace {
RouteCandidate candidate_of(const OriginRuntime& o) {
  RouteCandidate c;
  c.origin = o.config.id;
  c.slot = o.slot;
  c.priority = o.config.priority;
  c.cacheable = o.config.caches_content();
  c.status = o.status.load();
  c.consecutive_failures = o.consecutive_failures.load();
  c.latency_p50_us = o.latency.p50_us();
  c.latency_p99_us = o.latency.p99_us();
  return c;
}
}  // namespace

std::vector<OriginSlot> rank_origins(const OriginList& origins) {
  std::vector<RouteCandidate> all;
  all.reserve(origins.size());
  for (const auto& o : origins) {
    all.push_back(candidate_of(*o));
    all.back().has_file = true;
  }
  std::vector<OriginSlot> ranked;
  for (size_t i : order_candidates(all, nullptr)) ranked.push_back(all[i].slot);
  return ranked;
}

RouteDecision decide(const VirtualTree& tree, const OriginList& origins, const std::string& path) {
  RouteDecision d;
  d.path = path;
  d.origin_path = path;
  std::vector<Replica> reps = tree.replicas(path);
  d.exists = !reps.empty();
  d.candidates.reserve(origins.size());
  for (const auto& o : origins) {
    RouteCandidate c = candidate_of(*o);
    for (const auto& r : reps) {
      if (r.slot == o->slot) {
        c.has_file = true;
        c.attr = r.attr;
        c.path = path;
        break;
      }
    }
    d.candidates.push_back(std::move(c));
  }
  d.order = order_candidates(d.candidates, &d.rule);
  // Present every candidate best-first: holders in decision order, then the others.
  std::vector<RouteCandidate> sorted;
  sorted.reserve(d.candidates.size());
  for (size_t i : d.order) sorted.push_back(d.candidates[i]);
  for (auto& c : d.candidates) {
    if (!c.has_file) sorted.push_back(c);
  }
  d.candidates = std::move(sorted);
  for (size_t i = 0; i < d.order.size(); ++i) d.order[i] = i;

  if (const RouteCandidate* s = d.selected()) {
    d.is_directory = s->attr && s->attr->type == EntryType::kDirectory;
    d.rule_text = route_rule_text(d.rule, s->priority);
    for (size_t i : d.order) {
      const auto& a = *d.candidates[i].attr;
      if (a.type == EntryType::kFile &&
          (a.size != s->attr->size || a.mtime_sec != s->attr->mtime_sec)) {
        d.divergent = true;
      }
    }
  } else {
    d.rule_text = route_rule_text(RouteRule::kNoOrigin, 0);
  }
  return d;
}

}  // namespace musicfs
