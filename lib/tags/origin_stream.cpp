#include "tags/origin_stream.h"

#include <algorithm>

namespace musicfs {

namespace {
constexpr uint64_t kBlock = 64 * 1024;
// Head, tail and a little between: enough for every format's reads to hit.
constexpr size_t kKeptBlocks = 8;
}  // namespace

OriginStream::OriginStream(OriginFile& file, uint64_t size, std::string name, Deadline deadline)
    : file_(file), size_(size), name_(std::move(name)), deadline_(deadline) {}

const OriginStream::Block* OriginStream::block(uint64_t index) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (it->index == index) {
      kept_.splice(kept_.begin(), kept_, it);
      return &kept_.front();
    }
  }
  if (error_) return nullptr;
  Block b;
  b.index = index;
  const uint64_t start = index * kBlock;
  b.bytes.resize(static_cast<size_t>(std::min(kBlock, size_ - start)));
  size_t got = 0;
  while (got < b.bytes.size()) {
    ++requests_;
    auto n = file_.read(start + got, std::span<char>(b.bytes.data() + got, b.bytes.size() - got), deadline_);
    if (!n) {
      error_ = n.error();
      return nullptr;
    }
    if (*n == 0) break;  // shorter than the index said: what there is
    got += *n;
    bytes_read_ += *n;
  }
  b.bytes.resize(got);
  kept_.push_front(std::move(b));
  if (kept_.size() > kKeptBlocks) kept_.pop_back();
  return &kept_.front();
}

TagLib::ByteVector OriginStream::readBlock(unsigned long length) {
  TagLib::ByteVector out;
  uint64_t want = std::min<uint64_t>(length, pos_ < size_ ? size_ - pos_ : 0);
  while (want > 0) {
    const Block* b = block(pos_ / kBlock);
    if (b == nullptr) break;
    const uint64_t in_block = pos_ - b->index * kBlock;
    if (in_block >= b->bytes.size()) break;
    const uint64_t n = std::min<uint64_t>(want, b->bytes.size() - in_block);
    out.append(TagLib::ByteVector(b->bytes.data() + in_block, static_cast<unsigned int>(n)));
    pos_ += n;
    want -= n;
  }
  return out;
}

void OriginStream::seek(long offset, Position p) {
  int64_t base = 0;
  if (p == Current) base = static_cast<int64_t>(pos_);
  if (p == End) base = static_cast<int64_t>(size_);
  pos_ = static_cast<uint64_t>(std::max<int64_t>(0, base + offset));
}

}  // namespace musicfs
