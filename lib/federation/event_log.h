#pragma once
// Every state change (health transition, failover, all_origins_unhealthy, origin
// added/removed, mount/unmount) becomes an Event: a log line here, and a row in the
// state store through the sink that the daemon installs.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/event.h"

namespace musicfs {

class EventLog {
 public:
  using Sink = std::function<void(const Event&)>;

  explicit EventLog(size_t memory_limit = 2000) : limit_(memory_limit) {}

  // Records an event, logs it at `warn` when `warn` is true (else info), and passes
  // it to the sink. Returns the event's id.
  int64_t record(Event e, bool warn = false);
  void set_sink(Sink sink);
  // Continue numbering after ids already persisted.
  void set_next_id(int64_t next);

  std::vector<Event> since(int64_t after_id) const;
  std::vector<Event> all() const { return since(0); }
  size_t count(const std::string& kind) const;
  // Blocks until an event with id > after_id exists or the timeout passes.
  bool wait_for(int64_t after_id, std::chrono::milliseconds timeout) const;

 private:
  size_t limit_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Event> events_;
  int64_t next_id_ = 1;
  Sink sink_;
};

}  // namespace musicfs
