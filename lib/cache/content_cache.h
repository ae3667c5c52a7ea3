#pragma once
// The content cache: file content in fixed-size chunks under cache_dir, so that music
// that has been played keeps playing when every origin is gone (NFR-7.1).
//
//   - A chunk is CHUNK bytes (1 MiB) of one version of one file (FileVersion): a file
//     that changes at its origin gets new chunk names, and its old chunks are dropped
//     when the index notices the change (invalidate()).
//   - Every BLOCK (64 KiB) of a chunk has an XXH3-64 checksum, kept in the catalog and
//     verified on every read; a chunk that fails is dropped (never served) and the
//     caller refetches it. Block-sized checksums keep a 4 KiB read from hashing a MiB.
//   - The chunks of one version share one sparse segment file (SegmentFiles).
//   - Writes never block a reader: store() hands the bytes to a background writer
//     (written in place, then a catalog row) and drops them when too much is
//     already queued. The same thread evicts least-recently-used chunks whenever the
//     cache is over capacity_bytes, frees the disk space of chunks that are dropped
//     (in queue order, so a chunk freed and then stored again is never lost), and
//     removes what a crash left behind.
//   - A full disk (ENOSPC from a segment write) lowers the cap to what fits, once
//     and with one warning; reads go on being served from the origins.
//   - One ContentCache per cache directory; several mounts may share it (the mount
//     is part of every key). A lock file keeps a second daemon out.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "cache/cache_catalog.h"
#include "cache/segment_files.h"
#include "cache/file_version.h"
#include "util/unique_fd.h"

namespace musicfs {

struct CacheStats {
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t files = 0;
  uint64_t chunks = 0;
  uint64_t hits = 0;
  uint64_t hit_bytes = 0;
  uint64_t misses = 0;
  uint64_t miss_bytes = 0;
  uint64_t evictions = 0;
  uint64_t evicted_bytes = 0;
  uint64_t corrupt_chunks = 0;   // failed their checksum, dropped and refetched
  uint64_t dropped_writes = 0;   // not cached because the writer was too far behind
  uint64_t pending_bytes = 0;    // queued for writing
  bool capped_by_disk = false;   // capacity_bytes was lowered after the disk filled up
};

struct CacheClearResult {
  uint64_t chunks = 0;
  uint64_t bytes = 0;
};

class ContentCache {
 public:
  struct Options {
    std::string dir;
    uint64_t capacity_bytes = 0;
    uint32_t chunk_size = 1u << 20;
    uint32_t block_size = 64u << 10;
    uint64_t max_pending_bytes = 64u << 20;
  };

  static Result<std::shared_ptr<ContentCache>> open(Options options);
  ~ContentCache();
  ContentCache(const ContentCache&) = delete;
  ContentCache& operator=(const ContentCache&) = delete;

  // Set when open() found the catalog damaged and started an empty cache: what it
  // found, for the daemon's event log.
  const std::optional<std::string>& reset_reason() const { return reset_reason_; }
  uint32_t chunk_size() const { return options_.chunk_size; }
  const std::string& dir() const { return options_.dir; }
  // The cap in force: the configured one, or less once the disk filled up.
  uint64_t capacity_bytes() const {
    std::lock_guard lock(mu_);
    return capacity_;
  }
  // Bytes of chunk `index` of a file of `size` bytes (the last chunk is shorter).
  uint32_t chunk_length(uint64_t size, uint32_t index) const;

  // Copies bytes [from, from + out.size()) of chunk `index` of `v` into `out` when the
  // chunk is cached and every block it touches verifies. False otherwise; a chunk
  // that fails verification is dropped.
  bool read(const FileVersion& v, uint32_t index, uint32_t from, std::span<char> out);
  bool contains(const FileVersion& v, uint32_t index) const;
  // Bytes of `v` held (complete chunks only).
  uint64_t cached_bytes(const FileVersion& v) const;
  // Queues one complete chunk for writing. Returns false when the chunk was not
  // taken (already cached, larger than the cache, or the writer is too far behind
  // and wait_for_room is false). wait_for_room is for prefetch, never the FUSE path.
  bool store(const FileVersion& v, uint32_t index, std::shared_ptr<const std::vector<char>> data,
             bool wait_for_room = false);
  void note_miss(uint64_t bytes);

  // Drops every cached version of (mount, origin, path).
  void invalidate(const std::string& mount, const std::string& origin, const std::string& path);
  // Drops everything of a mount's origin, or of the whole mount when origin is empty.
  CacheClearResult clear(const std::string& mount, const std::string& origin);
  CacheStats stats() const;
  // Waits until every queued chunk is written and the catalog committed.
  void flush();

 private:
  using FileKey = std::tuple<std::string, std::string, std::string>;  // mount, origin, path
  struct Chunk {
    ChunkRecord record;
    std::list<Chunk*>::iterator lru;
  };
  struct WriteJob {
    ChunkRecord record;
    std::shared_ptr<const std::vector<char>> data;
  };
  // Frees chunks of a segment that are no longer cached: the whole file when no
  // chunk of it is cached or queued any more, else holes at `ranges`.
  struct ReleaseJob {
    std::string segment;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;  // offset, length
  };
  using Job = std::variant<WriteJob, ReleaseJob>;

  explicit ContentCache(Options options);
  // Opens and loads the catalog; a damaged one is replaced by an empty one.
  Status open_catalog(std::vector<ChunkRecord>& records);
  static FileKey key_of(const FileVersion& v) { return {v.mount, v.origin, v.path}; }
  void writer_loop();
  void write_one(WriteJob job);
  void release(const ReleaseJob& job);
  void unref_segment_locked(const std::string& segment);
  // Queues the release of a chunk's bytes and drops its segment reference (lock held).
  void release_locked(const std::string& segment, uint64_t offset, uint64_t length);
  // Removes the queued writes that match (lock held).
  template <typename Pred>
  void cancel_queued_locked(Pred matches);
  void sweep_orphans();
  void evict_if_needed();
  // A segment write found the disk full: lowers capacity_ to what fits (lock held).
  void shrink_to_disk_locked(const Error& why);
  void flush_touches();
  // Removes a chunk from memory and queues the release of its bytes (lock held);
  // the caller removes its catalog row.
  void forget_locked(Chunk* c);
  void drop(const std::string& name, bool corrupt);

  const Options options_;
  SegmentFiles files_;
  std::unique_ptr<CacheCatalog> catalog_;
  std::optional<std::string> reset_reason_;
  UniqueFd lock_fd_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Chunk>> chunks_;  // by name
  std::map<FileKey, std::set<std::string>> by_file_;
  std::list<Chunk*> lru_;  // most recently used first
  std::unordered_set<std::string> touched_;
  uint64_t used_bytes_ = 0;
  uint64_t capacity_ = 0;  // options_.capacity_bytes until the disk fills up
  bool capped_by_disk_ = false;
  bool disk_full_warned_ = false;
  // Chunks cached or queued for writing, per segment: its file is deleted at zero.
  std::unordered_map<std::string, uint32_t> segment_refs_;

  // Writer queue (guarded by mu_).
  std::condition_variable writer_cv_;
  std::condition_variable room_cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> jobs_;
  std::unordered_set<std::string> queued_;  // names queued or being written
  uint64_t pending_bytes_ = 0;
  bool writing_ = false;
  bool writing_cancelled_ = false;
  FileKey writing_key_;
  bool stopping_ = false;
  std::thread writer_;

  std::atomic<uint64_t> hits_{0}, hit_bytes_{0}, misses_{0}, miss_bytes_{0};
  std::atomic<bool> punch_unsupported_warned_{false};
  std::atomic<uint64_t> evictions_{0}, evicted_bytes_{0}, corrupt_{0}, dropped_writes_{0};
};

}  // namespace musicfs
