#include "federation/event_log.h"

#include <spdlog/spdlog.h>

#include "util/time_util.h"

namespace musicfs {

int64_t EventLog::record(Event e, bool warn) {
  Sink sink;
  {
    std::lock_guard lock(mu_);
    e.id = next_id_++;
    if (e.time == 0) e.time = unix_now();
    events_.push_back(e);
    while (events_.size() > limit_) events_.pop_front();
    sink = sink_;
  }
  cv_.notify_all();
  std::string where = e.origin.empty() ? "" : " origin=" + e.origin;
  if (!e.path.empty()) where += " path=" + e.path;
  if (warn) {
    spdlog::warn("event {}{}: {}", e.kind, where, e.message);
  } else {
    spdlog::info("event {}{}: {}", e.kind, where, e.message);
  }
  if (sink) sink(e);
  return e.id;
}

void EventLog::set_sink(Sink sink) {
  std::lock_guard lock(mu_);
  sink_ = std::move(sink);
}

void EventLog::set_next_id(int64_t next) {
  std::lock_guard lock(mu_);
  if (next > next_id_) next_id_ = next;
}

std::vector<Event> EventLog::since(int64_t after_id) const {
  std::lock_guard lock(mu_);
  std::vector<Event> out;
  for (const auto& e : events_) {
    if (e.id > after_id) out.push_back(e);
  }
  return out;
}

size_t EventLog::count(const std::string& kind) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& e : events_) n += e.kind == kind ? 1 : 0;
  return n;
}

bool EventLog::wait_for(int64_t after_id, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return !events_.empty() && events_.back().id > after_id; });
}

}  // namespace musicfs
