#pragma once
// A read-only TagLib::IOStream over an OriginFile: TagLib's seeks and reads become
// ranged reads of the origin, 64 KiB blocks at a time, the last few kept, since
// TagLib reads a header in many small pieces. The first origin error ends all
// reading (every later read returns nothing) and is kept for the caller.
#include <taglib/tiostream.h>

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "origins/origin.h"
#include "util/time_util.h"

namespace musicfs {

class OriginStream : public TagLib::IOStream {
 public:
  OriginStream(OriginFile& file, uint64_t size, std::string name, Deadline deadline);

  TagLib::FileName name() const override { return name_.c_str(); }
  TagLib::ByteVector readBlock(unsigned long length) override;
  void writeBlock(const TagLib::ByteVector&) override {}
  void insert(const TagLib::ByteVector&, unsigned long, unsigned long) override {}
  void removeBlock(unsigned long, unsigned long) override {}
  bool readOnly() const override { return true; }
  bool isOpen() const override { return true; }
  void seek(long offset, Position p) override;
  void clear() override {}
  long tell() const override { return static_cast<long>(pos_); }
  long length() override { return static_cast<long>(size_); }
  void truncate(long) override {}

  const std::optional<Error>& error() const { return error_; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t requests() const { return requests_; }

 private:
  struct Block {
    uint64_t index = 0;
    std::vector<char> bytes;  // shorter than kBlock only at the end of the file
  };
  // The block holding `index`, read if it is not kept; nullptr after an error.
  const Block* block(uint64_t index);

  OriginFile& file_;
  const uint64_t size_;
  const std::string name_;
  const Deadline deadline_;
  uint64_t pos_ = 0;
  std::list<Block> kept_;  // most recently used first
  std::optional<Error> error_;
  uint64_t bytes_read_ = 0;
  uint64_t requests_ = 0;
};

}  // namespace musicfs
