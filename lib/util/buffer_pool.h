#pragma once
// Recycled byte buffers for chunk-sized data. A fresh multi-hundred-KiB vector is
// zero-filled and then faulted in page by page; at several hundred MB/s that is a
// measurable share of a cold read's CPU. A buffer taken here goes back to the pool
// when its last shared_ptr drops (the reader, or the cache writer after writing it).
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace musicfs {

class BufferPool {
 public:
  // Keeps at most max_idle buffers when they come back; the rest are freed.
  explicit BufferPool(size_t max_idle) : max_idle_(max_idle) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer of `size` bytes with unspecified contents.
  std::shared_ptr<std::vector<char>> take(size_t size);

  // The process-wide pool for content chunks (never destroyed: buffers may come back
  // from any thread until the process ends).
  static BufferPool& chunks();

 private:
  void give_back(std::vector<char>* v);

  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<std::vector<char>>> idle_;
};

}  // namespace musicfs
