#include "util/buffer_pool.h"

namespace musicfs {

std::shared_ptr<std::vector<char>> BufferPool::take(size_t size) {
  std::unique_ptr<std::vector<char>> v;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      v = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!v) v = std::make_unique<std::vector<char>>();
  v->resize(size);  // no fill when the recycled buffer was at least this long
  return std::shared_ptr<std::vector<char>>(v.release(), [this](std::vector<char>* p) { give_back(p); });
}

void BufferPool::give_back(std::vector<char>* v) {
  std::unique_ptr<std::vector<char>> owned(v);
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(owned));
}

BufferPool& BufferPool::chunks() {
  // 16 buffers: the chunks of one stream's prefetch window plus a few in the cache
  // writer's queue; a 1 MiB chunk size keeps at most 16 MiB idle.
  static BufferPool* pool = new BufferPool(16);
  return *pool;
}

}  // namespace musicfs
