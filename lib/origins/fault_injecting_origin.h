#pragma once
// TEST-ONLY. A decorator that makes an origin fail, hang, slow down, or fail N times
// and then succeed, switched at run time. It is never reachable from a config file:
// the daemon wraps origins in it only when built with MUSICFS_FAULT_INJECTION (the
// test build), and the only switch is the test-only `debug-fault` control command.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "origins/origin.h"

namespace musicfs {

enum class FaultMode { kNone, kFail, kHang, kSlow, kFailTimes };

struct FaultSpec {
  FaultMode mode = FaultMode::kNone;
  int64_t delay_ms = 0;       // kSlow
  int64_t failures = 0;       // kFailTimes: how many data calls fail before success
  bool affect_probe = true;   // kFail/kHang/kSlow also hit health probes
};

Result<FaultSpec> parse_fault_mode(const std::string& mode, int64_t arg, bool affect_probe);

class FaultInjectingOrigin : public Origin, public std::enable_shared_from_this<FaultInjectingOrigin> {
 public:
  explicit FaultInjectingOrigin(OriginPtr inner) : inner_(std::move(inner)) {}

  const std::string& id() const override { return inner_->id(); }
  const std::string& type() const override { return inner_->type(); }
  std::string location() const override { return inner_->location(); }
  Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
              Deadline deadline) override;
  Result<EntryAttr> stat(std::string_view path, Deadline deadline) override;
  Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) override;
  Status probe(Deadline deadline) override;
  std::unique_ptr<WatchHandle> watch(ChangeCallback callback) override { return inner_->watch(std::move(callback)); }
  void note_indexed_files() override { inner_->note_indexed_files(); }

  void set_fault(const FaultSpec& spec);
  // Steady-clock seconds of every read since the last set_fault. Opens are neither
  // counted nor failed: a failing origin shows up on the read path, where the retry
  // schedule is measured, one call per attempt.
  std::vector<double> data_call_times() const;

  // Applies the current fault to one call; returns an error when the call must fail.
  Status inject(bool is_probe, const std::string& what);

 private:
  OriginPtr inner_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  FaultSpec spec_;
  uint64_t generation_ = 0;
  std::vector<double> calls_;
};

// Origins wrapped for fault injection, by id, so the control command can find them.
class FaultRegistry {
 public:
  static FaultRegistry& instance();
  void add(const std::string& mount, const std::shared_ptr<FaultInjectingOrigin>& o);
  std::shared_ptr<FaultInjectingOrigin> find(const std::string& origin_id);

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<FaultInjectingOrigin>> by_id_;
};

}  // namespace musicfs
