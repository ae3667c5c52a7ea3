#pragma once
// Probes every origin every check_interval (default 30 s), each probe bounded by
// timeout_ms. Probes of one round run side by side, so a hung origin delays nobody
// else's check and a round never takes longer than timeout_ms. check_now() forces a
// round (or one origin's probe) and returns when it is done.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "federation/origin_runtime.h"

namespace musicfs {

class HealthMonitor {
 public:
  using OriginsFn = std::function<OriginListPtr()>;
  using ResultFn = std::function<void(const OriginRuntimePtr&, const Status&, uint32_t latency_us)>;

  HealthMonitor(std::chrono::milliseconds interval, std::chrono::milliseconds timeout, OriginsFn origins,
                ResultFn on_result);
  ~HealthMonitor();

  void start();
  void stop();
  // Probes the named origin (or all when id is empty) now and waits for the results.
  void check_now(const std::string& id = {});
  uint64_t rounds() const;

 private:
  void run();
  void probe_all(const std::string& only);

  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  OriginsFn origins_;
  ResultFn on_result_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t rounds_ = 0;
  std::thread thread_;
};

}  // namespace musicfs
