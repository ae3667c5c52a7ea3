#pragma once
// The set of registered origins of one mount. Readers (the router, on every FUSE
// request) take an immutable snapshot with one atomic load; writers (add, remove)
// build a new list under a mutex and publish it. Watch handles are tracked per origin
// so that unregistering an origin stops its watcher and frees its inotify watches.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "federation/origin_runtime.h"

namespace musicfs {

class OriginRegistry {
 public:
  OriginRegistry();

  // Registers an origin and gives it a slot in the index. Fails on a duplicate id.
  Result<OriginRuntimePtr> register_origin(OriginConfig config, OriginPtr origin, HealthThresholds thresholds);
  // Removes the origin and drops its watch handles. Returns the runtime, or nullptr.
  // Its slot stays reserved until release_slot(), so the caller can clear the index
  // first without a new origin landing in the same slot meanwhile.
  OriginRuntimePtr unregister(const std::string& id);
  void release_slot(OriginSlot slot);

  void register_watch(const std::string& id, std::unique_ptr<WatchHandle> handle);
  void drop_watches(const std::string& id);
  size_t watch_handle_count(const std::string& id) const;
  // inotify watches currently held for the origin (0 when it has no watcher).
  size_t kernel_watch_count(const std::string& id) const;

  OriginRuntimePtr get(const std::string& id) const;
  OriginListPtr snapshot() const { return list_.load(); }
  OriginRuntimePtr by_slot(OriginSlot slot) const;

 private:
  mutable std::mutex mu_;  // serialises writers; readers use the atomic snapshot
  std::atomic<OriginListPtr> list_;
  std::vector<bool> slots_used_;
  std::map<std::string, std::vector<std::unique_ptr<WatchHandle>>> watch_handles_;
};

}  // namespace musicfs
