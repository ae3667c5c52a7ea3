#include "origins/fault_injecting_origin.h"

#include <thread>

namespace musicfs {

namespace {

class FaultyFile : public OriginFile {
 public:
  FaultyFile(std::unique_ptr<OriginFile> inner, std::shared_ptr<FaultInjectingOrigin> owner, std::string path)
      : inner_(std::move(inner)), owner_(std::move(owner)), path_(std::move(path)) {}
  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline deadline) override {
    if (auto s = owner_->inject(false, "read " + path_); !s) return s.take_error();
    return inner_->read(offset, buf, deadline);
  }

 private:
  std::unique_ptr<OriginFile> inner_;
  std::shared_ptr<FaultInjectingOrigin> owner_;
  std::string path_;
};

double steady_seconds() {
  return std::chrono::duration<double>(SteadyClock::now().time_since_epoch()).count();
}

}  // namespace

Result<FaultSpec> parse_fault_mode(const std::string& mode, int64_t arg, bool affect_probe) {
  FaultSpec s;
  s.affect_probe = affect_probe;
  if (mode == "none") s.mode = FaultMode::kNone;
  else if (mode == "fail") s.mode = FaultMode::kFail;
  else if (mode == "hang") s.mode = FaultMode::kHang;
  else if (mode == "slow") { s.mode = FaultMode::kSlow; s.delay_ms = arg; }
  else if (mode == "fail-times") { s.mode = FaultMode::kFailTimes; s.failures = arg; s.affect_probe = false; }
  else return make_error(ErrorCode::kInvalidArgument, "unknown fault mode '" + mode + "' (none, fail, hang, slow, fail-times)");
  return s;
}

void FaultInjectingOrigin::set_fault(const FaultSpec& spec) {
  std::lock_guard lock(mu_);
  spec_ = spec;
  ++generation_;
  calls_.clear();
  changed_.notify_all();
}

std::vector<double> FaultInjectingOrigin::data_call_times() const {
  std::lock_guard lock(mu_);
  return calls_;
}

Status FaultInjectingOrigin::inject(bool is_probe, const std::string& what) {
  std::unique_lock lock(mu_);
  if (!is_probe) calls_.push_back(steady_seconds());
  if (is_probe && !spec_.affect_probe) return {};
  switch (spec_.mode) {
    case FaultMode::kNone:
      return {};
    case FaultMode::kFail:
      return make_error(ErrorCode::kUnavailable, "origin " + id() + ": " + what + ": injected failure", EIO);
    case FaultMode::kHang: {
      // Hang until the test changes the fault, like a stopped server would.
      uint64_t gen = generation_;
      changed_.wait(lock, [&] { return generation_ != gen; });
      return {};
    }
    case FaultMode::kSlow: {
      int64_t ms = spec_.delay_ms;
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return {};
    }
    case FaultMode::kFailTimes:
      if (spec_.failures > 0) {
        --spec_.failures;
        return make_error(ErrorCode::kIo, "origin " + id() + ": " + what + ": injected transient failure", EIO);
      }
      return {};
  }
  return {};
}

Status FaultInjectingOrigin::list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
                                  Deadline deadline) {
  return inner_->list(under, sink, deadline);
}

Result<EntryAttr> FaultInjectingOrigin::stat(std::string_view path, Deadline deadline) {
  return inner_->stat(path, deadline);
}

Result<std::unique_ptr<OriginFile>> FaultInjectingOrigin::open(std::string_view path, Deadline deadline) {
  auto f = inner_->open(path, deadline);
  if (!f) return f.take_error();
  return std::unique_ptr<OriginFile>(
      std::make_unique<FaultyFile>(std::move(*f), shared_from_this(), std::string(path)));
}

Status FaultInjectingOrigin::probe(Deadline deadline) {
  if (auto s = inject(true, "probe"); !s) return s;
  return inner_->probe(deadline);
}

FaultRegistry& FaultRegistry::instance() {
  static FaultRegistry r;
  return r;
}

void FaultRegistry::add(const std::string& mount, const std::shared_ptr<FaultInjectingOrigin>& o) {
  (void)mount;
  std::lock_guard lock(mu_);
  by_id_[o->id()] = o;
}

std::shared_ptr<FaultInjectingOrigin> FaultRegistry::find(const std::string& origin_id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(origin_id);
  return it == by_id_.end() ? nullptr : it->second.lock();
}

}  // namespace musicfs
