#pragma once
// The chunk files of a content cache on disk:
//   CACHE_DIR/chunks/ab/abcdef...   one file per chunk, named by chunk_name()
//   CACHE_DIR/tmp/                  chunks being written
// A chunk is written to tmp/ and renamed into place, so a chunk file under chunks/ is
// always complete (a kill -9 mid-write leaves only a temporary file, removed at the
// next start). Directories and files are private to the user (0700 / 0600).
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "util/error.h"

namespace musicfs {

class ChunkFiles {
 public:
  explicit ChunkFiles(std::string cache_dir);

  // Creates the directories; removes temporary files a crash left behind.
  Status prepare();
  Status write(const std::string& name, std::span<const char> data);
  // Reads exactly buf.size() bytes at offset; a short file is an error.
  Status read(const std::string& name, uint64_t offset, std::span<char> buf) const;
  void remove(const std::string& name) const;
  // Every chunk file present, with its size (for the sweep of orphans).
  void for_each(const std::function<void(const std::string& name, uint64_t size)>& fn) const;

  std::string path_of(const std::string& name) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string chunks_;
  std::string tmp_;
};

}  // namespace musicfs
