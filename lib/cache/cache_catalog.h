#pragma once
// The content cache's catalog: one row per complete chunk, in CACHE_DIR/cache.db
// (SQLite, WAL). It lives beside the chunks, not in the state database, so that the
// cache directory is self-contained: deleting it, or moving it to another disk,
// leaves nothing dangling. A row is written only after its chunk's bytes were
// written to its segment file, so the catalog never points at a partial chunk.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cache/file_version.h"
#include "sqlite/sqlite_db.h"
#include "sqlite/write_queue.h"

namespace musicfs {

struct ChunkRecord {
  std::string name;  // chunk_name(version, index)
  FileVersion version;
  uint32_t index = 0;
  std::string segment;  // segment_name(version): the file that holds the chunk
  uint64_t offset = 0;  // where in that file
  uint32_t length = 0;
  std::vector<uint64_t> block_hashes;  // XXH3-64 of each verification block
  int64_t last_access_us = 0;          // wall clock, for LRU order across restarts
};

class CacheCatalog {
 public:
  static Result<std::unique_ptr<CacheCatalog>> open(const std::string& db_path);
  ~CacheCatalog();

  Status load(const std::function<void(ChunkRecord&&)>& sink);
  // Asynchronous (the catalog's writer thread).
  void insert(const ChunkRecord& r);
  void remove(std::vector<std::string> names);
  void touch(std::vector<std::pair<std::string, int64_t>> last_access_us);
  void flush();

 private:
  CacheCatalog() = default;
  SqliteDb db_;
  std::unique_ptr<WriteQueue> writes_;
};

}  // namespace musicfs
