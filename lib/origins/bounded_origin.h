#pragma once
// Wraps any origin so that no call waits past its deadline, and so that a hung origin
// costs its callers one timeout, not one per call.
//
// - Every call runs where it cannot hold its caller: stat, open, read and probe on the
//   origin's own IoPool, a listing on a thread of its own that streams entries back.
//   The caller stops waiting at its deadline (kTimedOut) even when the call itself
//   cannot be interrupted (a read(2) on a hung NFS mount).
// - The deadline belongs to the origin as well as to the call: once a call has timed
//   out (or the inner origin reported a timeout of its own), the origin is *stalled*.
//   Calls already waiting give up at once, and new ones fail at once, so the kernel's
//   readahead behind a read, the re-sent read and the other files all fail over (or
//   fail) without each waiting a fresh timeout. A recovery prober probes the origin on
//   a thread of its own (the pool's workers may all be stuck) with backoff; the first
//   good probe clears the stall. Health probes are never refused for a stall: they are
//   how the health monitor sees the origin come back.
// - shutdown() (the mount is going away) wakes every waiter and fails every later
//   call, so stopping a mount never waits on a hung origin.
//
// The federation wraps every origin this way, so the read path, the health probes,
// the indexer and the control commands all get bounded waits without each having to
// think about it.
#include <chrono>
#include <memory>
#include <string>

#include "origins/io_pool.h"
#include "origins/origin.h"

namespace musicfs {

struct BoundedOptions {
  size_t threads = 4;
  size_t max_queue = 64;
  // A listing that delivers no entry for this long is hung (and stalls the origin).
  std::chrono::milliseconds list_stall_after{5000};
  // Each recovery probe's own deadline.
  std::chrono::milliseconds probe_timeout{5000};
};

class BoundedOrigin : public Origin {
 public:
  explicit BoundedOrigin(OriginPtr inner, BoundedOptions options = {});
  ~BoundedOrigin() override;

  const std::string& id() const override { return inner_->id(); }
  const std::string& type() const override { return inner_->type(); }
  std::string location() const override { return inner_->location(); }

  Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
              Deadline deadline) override;
  Result<EntryAttr> stat(std::string_view path, Deadline deadline) override;
  Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) override;
  Status probe(Deadline deadline) override;
  std::unique_ptr<WatchHandle> watch(ChangeCallback callback) override;
  void note_indexed_files() override { inner_->note_indexed_files(); }

  // True while the origin is stalled (a call timed out and no probe has answered since).
  bool stalled() const;
  // Wakes every waiting caller and fails every later call. Irreversible.
  void shutdown();

  const OriginPtr& inner() const { return inner_; }

  struct Calls;  // shared with the workers, the files and the prober (bounded_origin.cpp)

 private:
  OriginPtr inner_;
  BoundedOptions options_;
  std::shared_ptr<IoPool> pool_;
  std::shared_ptr<Calls> calls_;
};

}  // namespace musicfs
