#pragma once
// Wraps any origin so that no call waits past its deadline: calls run on the origin's
// own IoPool and the caller stops waiting when the deadline passes (kTimedOut). The
// federation wraps every origin this way, so the read path, the health probes and the
// control commands all get bounded waits without each having to think about it.
#include <memory>

#include "origins/io_pool.h"
#include "origins/origin.h"

namespace musicfs {

class BoundedOrigin : public Origin {
 public:
  explicit BoundedOrigin(OriginPtr inner, size_t threads = 4, size_t max_queue = 64);

  const std::string& id() const override { return inner_->id(); }
  const std::string& type() const override { return inner_->type(); }
  std::string location() const override { return inner_->location(); }

  // Listing is long by nature and runs on the indexer's own thread; it is not bounded
  // by the pool, only by the inner origin's own deadline handling.
  Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
              Deadline deadline) override;
  Result<EntryAttr> stat(std::string_view path, Deadline deadline) override;
  Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) override;
  Status probe(Deadline deadline) override;
  std::unique_ptr<WatchHandle> watch(ChangeCallback callback) override;
  void note_indexed_files() override { inner_->note_indexed_files(); }

  const OriginPtr& inner() const { return inner_; }

 private:
  OriginPtr inner_;
  std::shared_ptr<IoPool> pool_;
};

}  // namespace musicfs
