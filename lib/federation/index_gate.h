#pragma once
// The "index ready" gate of a mount. Mounting returns before any origin is indexed;
// until every origin present at mount has loaded its persisted index or finished (or
// failed) its first listing, readers wait here rather than see an empty tree. The
// wait is bounded twice: each reader waits at most its own timeout, and once the
// mount's give-up time has passed the gate stays open for good, so an origin whose
// listing hangs cannot slow every request down.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "util/time_util.h"

namespace musicfs {

class IndexGate {
 public:
  // Readers wait for `origin` too. Ignored once sealed (origins added to a running
  // mount are waited for by their command, not by readers).
  void hold(const std::string& origin);
  // `origin` is indexed (or gone, or failed its listing).
  void release(const std::string& origin);
  // The mount is up: no more origins join, and from `give_up_at` on nobody waits.
  void seal(SteadyClock::time_point give_up_at);

  // Opens the gate for good at once (the mount is stopping): nobody waits any more.
  void abandon();

  // Waits until the gate is open or `timeout` has passed; true when open.
  bool wait(std::chrono::milliseconds timeout) const;
  bool is_open() const { return open_.load(std::memory_order_acquire); }

 private:
  void update_locked();

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::set<std::string> held_;
  bool sealed_ = false;
  std::optional<SteadyClock::time_point> give_up_at_;
  mutable bool gave_up_ = false;
  // Read without the mutex on every FUSE request: the fast path is one atomic load.
  mutable std::atomic<bool> open_{true};
};

}  // namespace musicfs
