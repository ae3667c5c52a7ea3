#pragma once
// One entry of the event log (federation/event_log.h), as the federation records it
// and the state store persists it: kept below both, so the state store needs nothing
// of the federation.
#include <cstdint>
#include <string>
#include <vector>

namespace musicfs {

struct Event {
  int64_t id = 0;
  int64_t time = 0;  // unix seconds
  std::string kind;  // e.g. "origin_unhealthy", "failover", "all_origins_unhealthy"
  std::string mount;
  std::string origin;
  std::string path;
  std::string message;
  // Coalesced events (path_added, path_changed, path_removed) stand for `count`
  // entries of one directory; `names` holds up to kMaxEventNames of their names.
  // 0 and empty for every other kind. See musicfsctl(1), EVENTS.
  int64_t count = 0;
  std::vector<std::string> names;
};

constexpr size_t kMaxEventNames = 20;

}  // namespace musicfs
