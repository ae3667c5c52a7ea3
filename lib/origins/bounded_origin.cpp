#include "origins/bounded_origin.h"

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

namespace musicfs {

namespace {

// State shared between the waiting caller and the worker; whichever leaves last frees it.
template <typename T>
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<T>> result;
};

template <typename T>
Result<T> run_bounded(IoPool& pool, const std::string& origin, const std::string& what,
                      Deadline deadline, std::function<Result<T>()> fn) {
  auto pending = std::make_shared<Pending<T>>();
  bool queued = pool.submit([pending, fn = std::move(fn)] {
    Result<T> r = fn();
    std::lock_guard lock(pending->mu);
    pending->result.emplace(std::move(r));
    pending->cv.notify_all();
  });
  if (!queued) {
    return make_error(ErrorCode::kUnavailable,
                      "origin " + origin + ": " + what + ": every I/O worker is blocked (origin hung?)");
  }
  std::unique_lock lock(pending->mu);
  if (!pending->cv.wait_until(lock, deadline, [&] { return pending->result.has_value(); })) {
    return make_error(ErrorCode::kTimedOut, "origin " + origin + ": " + what + ": timed out", ETIMEDOUT);
  }
  return std::move(*pending->result);
}

class BoundedFile : public OriginFile {
 public:
  BoundedFile(std::shared_ptr<OriginFile> inner, std::shared_ptr<IoPool> pool, std::string origin,
              std::string path)
      : inner_(std::move(inner)), pool_(std::move(pool)), origin_(std::move(origin)), path_(std::move(path)) {}

  ~BoundedFile() override {
    // close(2) on a dead share can block too: let a worker drop the last reference.
    auto inner = std::move(inner_);
    if (!pool_->submit([inner]() mutable { inner.reset(); })) {
      // Pool saturated: the reference is dropped here, as a last resort.
    }
  }

  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline deadline) override {
    // The worker reads into its own thread-local scratch buffer and copies into the
    // caller's buffer only while holding the lock and only if the caller is still
    // waiting: a caller that gave up at its deadline may already have freed its buffer
    // (a FUSE request's), so the worker must never write there afterwards.
    struct ReadWait {
      std::mutex mu;
      std::condition_variable cv;
      bool abandoned = false;
      std::optional<Result<size_t>> result;
    };
    auto wait = std::make_shared<ReadWait>();
    auto inner = inner_;
    char* dest = buf.data();
    size_t want = buf.size();
    bool queued = pool_->submit([wait, inner, dest, want, offset, deadline] {
      thread_local std::vector<char> scratch;
      if (scratch.size() < want) scratch.resize(want);
      Result<size_t> r = inner->read(offset, std::span<char>(scratch.data(), want), deadline);
      std::lock_guard lock(wait->mu);
      if (wait->abandoned) return;
      if (r) std::memcpy(dest, scratch.data(), *r);
      wait->result.emplace(std::move(r));
      wait->cv.notify_all();
    });
    if (!queued) {
      return make_error(ErrorCode::kUnavailable,
                        "origin " + origin_ + ": read " + path_ + ": every I/O worker is blocked (origin hung?)");
    }
    std::unique_lock lock(wait->mu);
    if (!wait->cv.wait_until(lock, deadline, [&] { return wait->result.has_value(); })) {
      wait->abandoned = true;
      return make_error(ErrorCode::kTimedOut, "origin " + origin_ + ": read " + path_ + ": timed out", ETIMEDOUT);
    }
    return std::move(*wait->result);
  }

 private:
  std::shared_ptr<OriginFile> inner_;
  std::shared_ptr<IoPool> pool_;
  std::string origin_;
  std::string path_;
};

}  // namespace

BoundedOrigin::BoundedOrigin(OriginPtr inner, size_t threads, size_t max_queue)
    : inner_(std::move(inner)), pool_(std::make_shared<IoPool>(inner_->id(), threads, max_queue)) {}

Status BoundedOrigin::list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
                           Deadline deadline) {
  return inner_->list(under, sink, deadline);
}

Result<EntryAttr> BoundedOrigin::stat(std::string_view path, Deadline deadline) {
  auto inner = inner_;
  std::string p(path);
  return run_bounded<EntryAttr>(*pool_, id(), "stat " + p, deadline,
                                [inner, p, deadline] { return inner->stat(p, deadline); });
}

Result<std::unique_ptr<OriginFile>> BoundedOrigin::open(std::string_view path, Deadline deadline) {
  auto inner = inner_;
  std::string p(path);
  auto r = run_bounded<std::shared_ptr<OriginFile>>(
      *pool_, id(), "open " + p, deadline, [inner, p, deadline]() -> Result<std::shared_ptr<OriginFile>> {
        auto f = inner->open(p, deadline);
        if (!f) return f.take_error();
        return std::shared_ptr<OriginFile>(std::move(*f));
      });
  if (!r) return r.take_error();
  return std::unique_ptr<OriginFile>(std::make_unique<BoundedFile>(std::move(*r), pool_, id(), p));
}

Status BoundedOrigin::probe(Deadline deadline) {
  auto inner = inner_;
  auto r = run_bounded<bool>(*pool_, id(), "probe", deadline, [inner, deadline]() -> Result<bool> {
    auto s = inner->probe(deadline);
    if (!s) return s.take_error();
    return true;
  });
  if (!r) return r.take_error();
  return {};
}

std::unique_ptr<WatchHandle> BoundedOrigin::watch(ChangeCallback callback) {
  return inner_->watch(std::move(callback));
}

}  // namespace musicfs
