#pragma once
// Runs one notifier of a mount on a thread of its own, so that a slow or failing
// program never stalls the index or the read path, and a notifier that throws or
// fails never takes the daemon down.
//
//   debounce  changed directories are collected until none came for debounce_ms
//             (at most kMaxDebounceFactor times that after the first), then sent
//             as one batch: copying an album in is one update, not hundreds.
//   retry     a failed batch is tried again after each of retry_delays (1 s, 5 s,
//             30 s), taking along what changed meanwhile; then it is dropped, and
//             the next change is delivered as usual.
//   events    notify_sent for a delivered batch, notify_failed for each failed
//             attempt (saying whether it is retried).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "federation/event_log.h"
#include "notify/notifier.h"

namespace musicfs {

class NotifierRunner {
 public:
  struct Options {
    std::chrono::milliseconds debounce{2000};
    std::vector<std::chrono::milliseconds> retry_delays{std::chrono::seconds(1), std::chrono::seconds(5),
                                                        std::chrono::seconds(30)};
    std::chrono::milliseconds attempt_timeout{10000};
  };
  static constexpr int kMaxDebounceFactor = 10;

  // `label` names it in events ("notify[0] exec").
  NotifierRunner(std::string mount_point, std::string label, NotifierPtr notifier, EventLog& events, Options options);
  ~NotifierRunner();  // ends a delivery in flight (it is cancelled) and the thread
  NotifierRunner(const NotifierRunner&) = delete;
  NotifierRunner& operator=(const NotifierRunner&) = delete;

  // Never blocks beyond the runner's own short lock.
  void push(const std::vector<std::string>& dirs);
  // What it was told and has not delivered yet (a batch being retried included):
  // handed on to the notifiers that replace it on a reload.
  std::vector<std::string> undelivered();

 private:
  void loop();
  void attempt(std::unique_lock<std::mutex>& lock);

  const std::string mount_point_;
  const std::string label_;
  const NotifierPtr notifier_;
  EventLog& events_;
  const Options options_;

  std::mutex mu_;  // guards everything below; never held during a delivery
  std::condition_variable cv_;
  std::set<std::string> pending_;  // changed since the batch below was taken
  SteadyClock::time_point first_push_{}, last_push_{};
  std::set<std::string> batch_;  // being retried
  size_t failures_ = 0;           // of batch_
  SteadyClock::time_point retry_at_{};
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

// The notifiers of one mount, built from its [[notify]] tables. The federation's
// path events push into it from their own thread while a reload may replace its
// runners, hence the lock.
class NotifierSet {
 public:
  // Fails (naming the table) when a notifier cannot be built.
  static Result<std::unique_ptr<NotifierSet>> create(const std::string& mount_point, const Config& config,
                                                     EventLog& events);
  void push(const std::vector<std::string>& dirs);
  bool empty() const;
  size_t size() const;
  // Takes over `next`'s runners (a config reloaded): what the old ones had not
  // delivered yet goes to the new ones, so that no change is lost to a reload. The
  // old runners end (a delivery in flight is cancelled) after the swap, outside the
  // lock, so that push never waits for them.
  void replace_with(NotifierSet&& next);

 private:
  using Runners = std::vector<std::unique_ptr<NotifierRunner>>;
  mutable std::mutex mu_;
  Runners runners_;
};

}  // namespace musicfs
