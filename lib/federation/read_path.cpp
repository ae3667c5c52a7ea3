// Federation::read: the read path with failover and retries.
//
//   1. decide() orders the origins that hold the file (the same call route-explain makes);
//   2. each is tried once, best first; when another holder remains, an attempt is cut
//      off at timeout_ms so a hung primary cannot eat the whole budget (prompt failover);
//   3. a failed attempt counts against its origin at once (passive detection);
//   4. when every holder failed, the best one is retried after 100, 500 and 2000 ms
//      (NFR-7.3), re-deciding each time, all within read_timeout_ms.
#include <spdlog/spdlog.h>

#include <thread>

#include "federation/federation.h"

namespace musicfs {

namespace {
// The most meaningful error wins when every origin fails: not-found < permission < I/O.
int error_rank(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound: return 0;
    case ErrorCode::kPermission: return 1;
    default: return 2;
  }
}

// Backoff is for transient failures. A timeout has already spent its wait on a hung
// origin; retrying it would only hold the reader longer.
bool retryable(const Error& e) { return error_rank(e) == 2 && e.code != ErrorCode::kTimedOut; }

OriginRuntimePtr find_slot(const OriginList& list, OriginSlot slot) {
  for (const auto& o : list) {
    if (o->slot == slot) return o;
  }
  return nullptr;
}
}  // namespace

Result<size_t> Federation::read(FileSession& session, uint64_t offset, std::span<char> buf) {
  const auto started = SteadyClock::now();
  const Deadline deadline = started + std::chrono::milliseconds(health_.read_timeout_ms);
  std::optional<Error> worst;
  auto keep_worst = [&](const Error& e) {
    if (!worst || error_rank(e) > error_rank(*worst)) worst = e;
  };

  auto attempt = [&](const OriginRuntimePtr& rt, Deadline until) -> Result<size_t> {
    const std::string& id = rt->config.id;
    std::shared_ptr<OriginFile> file;
    {
      std::lock_guard lock(session.mu);
      if (auto it = session.files.find(id); it != session.files.end()) file = it->second;
    }
    if (!file) {
      auto opened = rt->origin->open(session.path, until);
      if (!opened) {
        Error e = opened.take_error();
        if (e.code == ErrorCode::kNotFound) {
          // The index said this origin had the file; it no longer does. Fix the index.
          enqueue_index_job(id, session.path, false);
        } else {
          report_read_failure(rt, e);
        }
        return e;
      }
      file = std::shared_ptr<OriginFile>(std::move(*opened));
      std::lock_guard lock(session.mu);
      session.files.emplace(id, file);
    }
    auto t0 = SteadyClock::now();
    auto r = file->read(offset, buf, until);
    if (!r) {
      report_read_failure(rt, r.error());
      std::lock_guard lock(session.mu);
      session.files.erase(id);  // reopen afresh if this origin serves the file again
      return r;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0).count();
    rt->latency.record(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
    rt->bytes_read.fetch_add(*r, std::memory_order_relaxed);
    return r;
  };

  auto origins = registry_.snapshot();
  RouteDecision d = decide(tree_, *origins, session.path);
  if (d.order.empty()) return make_error(ErrorCode::kNotFound, session.path + ": no origin holds this file");
  if (d.rule == RouteRule::kFallbackLeastBad) check_all_unhealthy();
  const std::string first_choice = d.selected()->origin;

  auto succeeded = [&](const std::string& served_by, size_t n) -> Result<size_t> {
    if (served_by != first_choice) {
      events_.record({0, 0, "failover", mount_point_, served_by, session.path,
                      "read moved from " + first_choice + " to " + served_by}, true);
    }
    return n;
  };

  for (size_t k = 0; k < d.order.size(); ++k) {
    const RouteCandidate& c = d.candidates[d.order[k]];
    OriginRuntimePtr rt = find_slot(*origins, c.slot);
    if (!rt) continue;
    bool alternative_left = k + 1 < d.order.size();
    Deadline until = deadline;
    // Cut an attempt at timeout_ms when another holder remains (prompt failover), and
    // when this origin is already unhealthy: the kernel re-sends a failed read, and a
    // hung origin must not get a full read_timeout_ms again for every re-send.
    if (alternative_left || c.status == HealthStatus::kUnhealthy) {
      until = std::min(deadline, SteadyClock::now() + std::chrono::milliseconds(health_.timeout_ms));
    }
    auto r = attempt(rt, until);
    if (r) return succeeded(c.origin, *r);
    keep_worst(r.error());
  }

  // Every holder failed once. Back off on the best one, per the spec's schedule.
  for (size_t retry = 0; retry < retry_.delays.size() && worst && retryable(*worst); ++retry) {
    auto delay = retry_.delays[retry];
    if (SteadyClock::now() + delay >= deadline) break;
    std::this_thread::sleep_for(delay);
    origins = registry_.snapshot();
    RouteDecision again = decide(tree_, *origins, session.path);
    if (again.order.empty()) break;
    OriginRuntimePtr rt = find_slot(*origins, again.selected()->slot);
    if (!rt) break;
    spdlog::debug("retry {} of {} on origin {} after {} ms", retry + 1, session.path, rt->config.id, delay.count());
    auto r = attempt(rt, deadline);
    if (r) return succeeded(rt->config.id, *r);
    keep_worst(r.error());
  }
  if (!worst) return make_error(ErrorCode::kUnavailable, session.path + ": its origins were removed");
  return *worst;
}

}  // namespace musicfs
