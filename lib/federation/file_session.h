#pragma once
// What the read path keeps per open file (one FUSE file handle).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/file_version.h"
#include "origins/origin.h"

namespace musicfs {

// One whole chunk being fetched from the origins, or fetched recently. The kernel
// sends a sequential stream as several requests at once (readahead), often smaller
// than a chunk: the first request of a chunk fetches all of it, the others wait for
// that fetch and copy from it instead of each going to the origin.
struct ChunkFetch {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::optional<Error> error;            // set when the fetch failed
  std::shared_ptr<std::vector<char>> data;  // the chunk's bytes (possibly short at EOF)
  FileVersion served;                     // the version those bytes are (origin, size, mtime)
  FileVersion wanted;                     // the version the fetch was started for
  // False while the chunk is only reserved by the background prefetch (guarded by the
  // session's mu); whoever sets it runs the fetch.
  bool started = true;
};

struct FileSession : std::enable_shared_from_this<FileSession> {
  FileSession(std::string p, EntryAttr a) : path(std::move(p)), opened(std::move(a)) {}
  const std::string path;
  // The attributes the path had when it was opened (its selected copy's).
  const EntryAttr opened;
  std::mutex mu;
  // Origin files opened for this handle so far (lazily, one per origin that served
  // it), so failover moves between replicas without reopening on every read.
  std::map<std::string, std::shared_ptr<OriginFile>> files;  // by origin id
  // Chunks fetched in this handle, newest last (a few, see kRecentChunks).
  std::map<uint32_t, std::shared_ptr<ChunkFetch>> chunks;
  // Where the previous read ended: tells a sequential stream from random access.
  std::atomic<uint64_t> next_offset{0};
  // Chunk prefetch for a sequential reader (guarded by mu): the background job fetches
  // chunks prefetch_next..prefetch_until, one at a time, while prefetch_running.
  uint32_t prefetch_next = 0;
  uint32_t prefetch_until = 0;
  bool prefetch_running = false;
  // Set when the kernel releases the handle: a running prefetch stops at its next chunk.
  std::atomic<bool> closed{false};
};

}  // namespace musicfs
