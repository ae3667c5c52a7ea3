#include "origins/bounded_origin.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace musicfs {

namespace {
// A wait shorter than this that ends at its deadline says more about the caller's
// budget (the last slice of a read's read_timeout_ms) than about the origin, so it
// does not stall the origin.
constexpr auto kStallEvidence = std::chrono::milliseconds(200);
// Entries a listing thread may run ahead of its consumer.
constexpr size_t kListQueue = 4096;
// How often a listing consumer looks at shutdown while it waits for entries.
constexpr auto kListSlice = std::chrono::milliseconds(100);
constexpr auto kFirstRecoveryDelay = std::chrono::milliseconds(200);
constexpr auto kMaxRecoveryDelay = std::chrono::milliseconds(5000);

int64_t ms_since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t).count();
}

// The worker's buffer for a read: the caller's buffer may be gone by the time a late
// read returns (a FUSE request's), so the worker never reads into it directly.
thread_local std::vector<char> t_scratch;
}  // namespace

// Lock order: Calls::mu is a leaf; nothing else is locked while it is held, and it is
// never held across a call into the inner origin.
struct BoundedOrigin::Calls : std::enable_shared_from_this<BoundedOrigin::Calls> {
  std::string id;
  OriginPtr inner;  // for the recovery prober
  std::chrono::milliseconds probe_timeout{5000};

  std::mutex mu;
  std::condition_variable cv;  // a call finished, the origin stalled, or shutdown
  bool stalled = false;
  uint64_t stalls = 0;  // stall episodes so far: a waiter that saw fewer gives up
  std::string stall_reason;
  SteadyClock::time_point stalled_since{};
  bool prober_running = false;
  bool shut = false;

  // Caller holds mu. Starts a stall episode unless one is running.
  void stall_locked(const std::string& reason) {
    if (shut || stalled) return;
    stalled = true;
    ++stalls;
    stall_reason = reason;
    stalled_since = SteadyClock::now();
    cv.notify_all();
    spdlog::warn("origin {} stopped answering ({}); its calls fail at once until it answers a probe", id, reason);
    if (!prober_running) {
      prober_running = true;
      start_prober();
    }
  }

  Error refused_locked(const std::string& what) const {
    if (shut) return Error{ErrorCode::kUnavailable, "origin " + id + ": " + what + ": the mount is stopping"};
    return Error{ErrorCode::kTimedOut,
                 "origin " + id + ": " + what + ": not answering for " + std::to_string(ms_since(stalled_since)) +
                     " ms (" + stall_reason + "); failing at once until it answers a probe",
                 ETIMEDOUT};
  }

  // Probes on a detached thread of its own: the pool's workers may all be stuck in the
  // origin, and a probe of a hung origin may itself never return. The thread holds only
  // shared state, so it may outlive the BoundedOrigin (and the mount) harmlessly.
  void start_prober();
};

void BoundedOrigin::Calls::start_prober() {
  std::thread([self = shared_from_this()] {
    auto delay = kFirstRecoveryDelay;
    for (;;) {
      Status s = self->inner->probe(SteadyClock::now() + self->probe_timeout);
      std::unique_lock lock(self->mu);
      if (!self->shut && s) {
        spdlog::info("origin {} answers again after {} ms; its calls go through again", self->id,
                     ms_since(self->stalled_since));
        self->stalled = false;
        self->cv.notify_all();
      }
      if (self->shut || !self->stalled) {
        self->prober_running = false;
        return;
      }
      self->cv.wait_for(lock, delay, [&] { return self->shut; });
      delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRecoveryDelay);
    }
  }).detach();
}

namespace {

template <typename T>
struct Slot {
  bool done = false;
  bool abandoned = false;
  std::optional<Result<T>> result;
};

// Runs fn on the pool and waits for it with the deadline, the origin's stall and
// shutdown. `deliver` runs on the worker, under the lock, only while the caller still
// waits (it copies a read's bytes into the caller's buffer).
template <typename T>
Result<T> run_bounded(const std::shared_ptr<BoundedOrigin::Calls>& calls, IoPool& pool, const std::string& what,
                      Deadline deadline, bool is_probe, std::function<Result<T>()> fn,
                      std::function<void(const T&)> deliver = nullptr) {
  uint64_t stalls_at_start = 0;
  {
    std::lock_guard lock(calls->mu);
    if (calls->shut || (calls->stalled && !is_probe)) return calls->refused_locked(what);
    stalls_at_start = calls->stalls;
  }
  auto slot = std::make_shared<Slot<T>>();
  bool queued = pool.submit([calls, slot, fn = std::move(fn), deliver = std::move(deliver)] {
    Result<T> r = fn();
    std::lock_guard lock(calls->mu);
    if (!slot->abandoned) {
      if (deliver && r) deliver(*r);
      slot->result.emplace(std::move(r));
    }
    slot->done = true;
    calls->cv.notify_all();
  });
  std::unique_lock lock(calls->mu);
  if (!queued) {
    calls->stall_locked("every I/O worker is waiting on a call that has not returned");
    return Error{ErrorCode::kUnavailable, "origin " + calls->id + ": " + what + ": every I/O worker is blocked (origin hung?)"};
  }
  const auto started = SteadyClock::now();
  calls->cv.wait_until(lock, deadline, [&] {
    return slot->done || calls->shut || (!is_probe && calls->stalls != stalls_at_start);
  });
  if (slot->done) {
    Result<T> r = std::move(*slot->result);
    if (!r && r.error().code == ErrorCode::kTimedOut && SteadyClock::now() - started >= kStallEvidence) {
      calls->stall_locked(what + " timed out in the origin");
    }
    return r;
  }
  slot->abandoned = true;
  if (calls->shut) return calls->refused_locked(what);
  if (calls->stalls != stalls_at_start) return calls->refused_locked(what);
  const auto waited = ms_since(started);
  if (SteadyClock::now() - started >= kStallEvidence) {
    calls->stall_locked(what + " did not return within " + std::to_string(waited) + " ms");
  }
  return Error{ErrorCode::kTimedOut, "origin " + calls->id + ": " + what + ": timed out after " + std::to_string(waited) + " ms",
               ETIMEDOUT};
}

class BoundedFile : public OriginFile {
 public:
  BoundedFile(std::shared_ptr<OriginFile> inner, std::shared_ptr<IoPool> pool,
              std::shared_ptr<BoundedOrigin::Calls> calls, std::string path)
      : inner_(std::move(inner)), pool_(std::move(pool)), calls_(std::move(calls)), path_(std::move(path)) {}

  ~BoundedFile() override {
    // close(2) on a dead share can block too: let a worker drop the last reference.
    auto inner = std::move(inner_);
    if (!pool_->submit([inner]() mutable { inner.reset(); })) {
      // Pool saturated or stopping: the reference is dropped here, as a last resort.
    }
  }

  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline deadline) override {
    auto inner = inner_;
    char* dest = buf.data();
    const size_t want = buf.size();
    return run_bounded<size_t>(
        calls_, *pool_, "read " + path_, deadline, false,
        [inner, want, offset, deadline]() -> Result<size_t> {
          if (t_scratch.size() < want) t_scratch.resize(want);
          return inner->read(offset, std::span<char>(t_scratch.data(), want), deadline);
        },
        [dest](const size_t& n) { std::memcpy(dest, t_scratch.data(), n); });
  }

 private:
  std::shared_ptr<OriginFile> inner_;
  std::shared_ptr<IoPool> pool_;
  std::shared_ptr<BoundedOrigin::Calls> calls_;
  std::string path_;
};

// What a listing thread hands its consumer.
struct ListStream {
  std::mutex mu;
  std::condition_variable cv;  // entries or the end arrived (consumer), room or abandon (producer)
  std::deque<ListedEntry> entries;
  bool done = false;
  bool abandoned = false;
  std::optional<Status> result;
};

}  // namespace

BoundedOrigin::BoundedOrigin(OriginPtr inner, BoundedOptions options)
    : inner_(std::move(inner)),
      options_(options),
      pool_(std::make_shared<IoPool>(inner_->id(), options.threads, options.max_queue)),
      calls_(std::make_shared<Calls>()) {
  calls_->id = inner_->id();
  calls_->inner = inner_;
  calls_->probe_timeout = options.probe_timeout;
}

BoundedOrigin::~BoundedOrigin() { shutdown(); }

bool BoundedOrigin::stalled() const {
  std::lock_guard lock(calls_->mu);
  return calls_->stalled;
}

void BoundedOrigin::shutdown() {
  std::lock_guard lock(calls_->mu);
  calls_->shut = true;
  calls_->cv.notify_all();
}

Status BoundedOrigin::list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
                           Deadline deadline) {
  const std::string what = "list " + std::string(under);
  {
    std::lock_guard lock(calls_->mu);
    if (calls_->shut || calls_->stalled) return calls_->refused_locked(what);
  }
  auto stream = std::make_shared<ListStream>();
  // A listing runs for as long as the tree is big, so it gets a thread of its own
  // rather than a pool worker. Detached: a listing stuck in a hung share must not hold
  // anyone; it owns only the stream and the inner origin.
  std::thread([stream, inner = inner_, path = std::string(under), deadline] {
    Status s = inner->list(path, [&](ListedEntry&& e) {
      std::unique_lock lock(stream->mu);
      stream->cv.wait(lock, [&] { return stream->abandoned || stream->entries.size() < kListQueue; });
      if (stream->abandoned) return;  // nobody listens: let the walk run out quickly
      stream->entries.push_back(std::move(e));
      stream->cv.notify_all();
    }, deadline);
    std::lock_guard lock(stream->mu);
    stream->result = std::move(s);
    stream->done = true;
    stream->cv.notify_all();
  }).detach();

  auto abandon = [&] {
    std::lock_guard lock(stream->mu);
    stream->abandoned = true;
    stream->entries.clear();
    stream->cv.notify_all();
  };
  auto last_progress = SteadyClock::now();
  std::deque<ListedEntry> batch;
  for (;;) {
    bool done = false;
    {
      std::unique_lock lock(stream->mu);
      auto until = std::min({deadline, last_progress + options_.list_stall_after, SteadyClock::now() + kListSlice});
      stream->cv.wait_until(lock, until, [&] { return stream->done || !stream->entries.empty(); });
      batch.swap(stream->entries);
      done = stream->done;
      if (!batch.empty()) stream->cv.notify_all();  // room again for the producer
    }
    if (!batch.empty()) last_progress = SteadyClock::now();
    for (auto& e : batch) sink(std::move(e));
    batch.clear();
    // No entry can follow `done` (both were read under the stream's lock).
    if (done) return std::move(*stream->result);
    {
      std::lock_guard lock(calls_->mu);
      if (calls_->shut) {
        abandon();
        return calls_->refused_locked(what);
      }
    }
    if (SteadyClock::now() - last_progress >= options_.list_stall_after) {
      abandon();
      const std::string why = what + " made no progress for " + std::to_string(options_.list_stall_after.count()) + " ms";
      std::lock_guard lock(calls_->mu);
      calls_->stall_locked(why);
      return Error{ErrorCode::kTimedOut, "origin " + id() + ": " + why, ETIMEDOUT};
    }
    if (SteadyClock::now() >= deadline) {
      abandon();
      return Error{ErrorCode::kTimedOut, "origin " + id() + ": " + what + ": timed out", ETIMEDOUT};
    }
  }
}

Result<EntryAttr> BoundedOrigin::stat(std::string_view path, Deadline deadline) {
  auto inner = inner_;
  std::string p(path);
  return run_bounded<EntryAttr>(calls_, *pool_, "stat " + p, deadline, false,
                                [inner, p, deadline] { return inner->stat(p, deadline); });
}

Result<std::unique_ptr<OriginFile>> BoundedOrigin::open(std::string_view path, Deadline deadline) {
  auto inner = inner_;
  std::string p(path);
  auto r = run_bounded<std::shared_ptr<OriginFile>>(
      calls_, *pool_, "open " + p, deadline, false, [inner, p, deadline]() -> Result<std::shared_ptr<OriginFile>> {
        auto f = inner->open(p, deadline);
        if (!f) return f.take_error();
        return std::shared_ptr<OriginFile>(std::move(*f));
      });
  if (!r) return r.take_error();
  return std::unique_ptr<OriginFile>(std::make_unique<BoundedFile>(std::move(*r), pool_, calls_, p));
}

Status BoundedOrigin::probe(Deadline deadline) {
  auto inner = inner_;
  auto r = run_bounded<bool>(calls_, *pool_, "probe", deadline, true, [inner, deadline]() -> Result<bool> {
    auto s = inner->probe(deadline);
    if (!s) return s.take_error();
    return true;
  });
  if (!r) return r.take_error();
  return {};
}

std::unique_ptr<WatchHandle> BoundedOrigin::watch(ChangeCallback callback) {
  // Watchers place their watches on a thread of their own (local_watcher.cpp), so
  // starting one never blocks on the origin.
  return inner_->watch(std::move(callback));
}

}  // namespace musicfs
