#pragma once
// One entry of the event log (federation/event_log.h), as the federation records it
// and the state store persists it: kept below both, so the state store needs nothing
// of the federation.
#include <cstdint>
#include <string>

namespace musicfs {

struct Event {
  int64_t id = 0;
  int64_t time = 0;  // unix seconds
  std::string kind;  // e.g. "origin_unhealthy", "failover", "all_origins_unhealthy"
  std::string mount;
  std::string origin;
  std::string path;
  std::string message;
};

}  // namespace musicfs
