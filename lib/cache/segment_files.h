#pragma once
// The data files of a content cache on disk:
//   CACHE_DIR/segments/ab/abcdef...   one sparse file per cached file version, named
//                                     by segment_name(); chunk i at i * chunk size
// One file per version, not per chunk: creating (and later deleting) an inode for
// every MiB fetched was the largest single cost of a cold read after the copies
// themselves. An evicted chunk becomes a hole (FALLOC_FL_PUNCH_HOLE); the file goes
// when its last chunk does.
//
// A chunk is written in place, then its catalog row is added: a crash between the
// two leaves bytes no row names, never a row naming bytes that were not written (and
// every read verifies the block checksums anyway). The sweep at start punches out
// such leftovers. Directories and files are private to the user (0700 / 0600).
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/error.h"

namespace musicfs {

class SegmentFiles {
 public:
  explicit SegmentFiles(std::string cache_dir);

  // Creates the directories; removes the data of older cache layouts (chunks/, tmp/).
  Status prepare();
  // Writes data at offset of the segment, creating the file if needed.
  Status write(const std::string& segment, uint64_t offset, std::span<const char> data);
  // Reads exactly buf.size() bytes at offset; a short file is an error.
  Status read(const std::string& segment, uint64_t offset, std::span<char> buf) const;
  // Frees the disk blocks of [offset, offset + length); the file keeps its size.
  Status punch(const std::string& segment, uint64_t offset, uint64_t length) const;
  void remove(const std::string& segment) const;

  struct Info {
    uint64_t size = 0;       // apparent size
    uint64_t allocated = 0;  // bytes of disk blocks held
  };
  // Every segment file present (for the sweep at start).
  void for_each(const std::function<void(const std::string& segment, const Info& info)>& fn) const;

  std::string path_of(const std::string& segment) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string segments_;
};

}  // namespace musicfs
