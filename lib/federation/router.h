#pragma once
// The one decision function. A FUSE read, a getattr and `musicfsctl route-explain`
// all call decide(); the read path uses its order, route-explain prints the whole
// record. There is no second copy of these rules anywhere.
//
// Rules, in order:
//   1. among origins that hold the path, healthy ones first, by (priority, latency p50):
//      priority dominates, latency only breaks ties (the plan's tuple ordering);
//   2. none healthy: degraded (and not-yet-probed) ones, by (priority, latency p50);
//   3. none of those: the least-bad unhealthy one, by (consecutive failures, priority).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "federation/origin_runtime.h"
#include "index/virtual_tree.h"

namespace musicfs {

struct RouteCandidate {
  std::string origin;
  OriginSlot slot = 0;
  bool has_file = false;
  int priority = 0;
  HealthStatus status = HealthStatus::kUnknown;
  uint32_t latency_p50_us = 0;
  uint32_t latency_p99_us = 0;
  uint32_t consecutive_failures = 0;
  // The origin's cache policy (`cache = true|false`): whether the content cache keeps
  // and serves its version of the file.
  bool cacheable = true;
  std::optional<EntryAttr> attr;  // the origin's attributes for the path, when it has it
  std::string path;               // where this origin holds it, when it has it
};

enum class RouteRule {
  kNoOrigin,          // nobody holds the path
  kHighestPriority,   // the best healthy holder, alone at its priority
  kLatencyTiebreak,   // the best healthy holder, chosen over equals by latency
  kFallbackDegraded,  // no healthy holder
  kFallbackLeastBad,  // every holder unhealthy
};

std::string route_rule_text(RouteRule rule, int priority);

struct RouteDecision {
  std::string path;
  // Where the origins hold it: on a layout mount, the path-tree path a layout file
  // shows (the same on every holder until copies under other paths are merged);
  // elsewhere, path itself.
  std::string origin_path;
  bool exists = false;
  bool is_directory = false;
  std::vector<RouteCandidate> candidates;  // every registered origin, best first
  std::vector<size_t> order;  // indices into candidates of holders, in the order to try
  RouteRule rule = RouteRule::kNoOrigin;
  std::string rule_text;
  bool divergent = false;  // replicas disagree in size or mtime

  // A pointer into `candidates`: only an lvalue decision may hand it out, so
  // `decide(...).selected()` on a temporary fails to compile instead of dangling.
  const RouteCandidate* selected() const& {
    return order.empty() ? nullptr : &candidates[order.front()];
  }
  const RouteCandidate* selected() const&& = delete;
};

RouteDecision decide(const VirtualTree& tree, const OriginList& origins, const std::string& path);

// Every registered origin in the order decide() would try them for a path they all
// held. The rules depend on the origins' state, never on the path, so a listing ranks
// the origins once and each entry shows the attributes of its first ranked holder:
// what decide(path).selected() would give, without a decision per entry.
std::vector<OriginSlot> rank_origins(const OriginList& origins);

// Orders holders by the rules above; exposed for unit tests of the ordering alone.
std::vector<size_t> order_candidates(const std::vector<RouteCandidate>& c, RouteRule* rule);

}  // namespace musicfs
