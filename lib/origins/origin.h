#pragma once
// The interface every origin type implements. It is shaped for remote origins
// (SFTP, S3, HTTP) as much as for a local directory: listing is a stream of entries,
// reads land in the caller's buffer, every call carries a deadline and fails with a
// typed Error (kNotFound, kUnavailable, kTimedOut, kPermission, kIo). Nothing here
// exposes a file descriptor or assumes a local path.
//
// Deadlines: an implementation that can bound its own waits (a socket timeout) should;
// one that cannot (a blocking read(2) on a hung NFS mount) is wrapped by BoundedOrigin,
// which runs calls on the origin's own worker threads and gives up at the deadline.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/entry_attr.h"
#include "core/error.h"
#include "util/time_util.h"

namespace musicfs {

// One open file on an origin. Closed by its destructor.
class OriginFile {
 public:
  virtual ~OriginFile() = default;
  // Reads up to buf.size() bytes at offset; returns the count (0 at end of file).
  virtual Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline deadline) = 0;
};

// What a change watcher reports: a path (relative to the origin root) that changed,
// or "rescan" when the watcher lost track (queue overflow, root replaced).
struct ChangeNotice {
  std::string path;
  bool rescan = false;
};
using ChangeCallback = std::function<void(const ChangeNotice&)>;

// Stops its watcher (thread and kernel watches) when destroyed.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
  virtual size_t watch_count() const = 0;
  // Waits until the watcher sees every change from now on (a local watcher places its
  // watches in the background). Gives up, returning false, when it makes no progress
  // for `stall_after` (a hung share).
  virtual bool wait_ready(std::chrono::milliseconds stall_after) {
    (void)stall_after;
    return true;
  }
};

class Origin {
 public:
  virtual ~Origin() = default;

  virtual const std::string& id() const = 0;
  virtual const std::string& type() const = 0;
  // Where the origin points, for status output. Never contains a secret.
  virtual std::string location() const = 0;

  // Streams every entry below `under` ("/" for the whole origin; `under` itself is not
  // listed), parents before children. Paths in entries are relative to the origin root.
  virtual Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
                      Deadline deadline) = 0;
  virtual Result<EntryAttr> stat(std::string_view path, Deadline deadline) = 0;
  virtual Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) = 0;
  // A cheap liveness check suited to the type (stat of the root, HEAD of a bucket).
  virtual Status probe(Deadline deadline) = 0;

  // The persisted index says this origin held files. A type that can tell "empty" from
  // "gone" only by remembering that it once had files (a share's mount point is empty
  // after the share is unmounted) uses this after a restart; others ignore it.
  virtual void note_indexed_files() {}

  // Starts watching for changes; nullptr when the type has no push notifications
  // (remote origins are polled instead).
  virtual std::unique_ptr<WatchHandle> watch(ChangeCallback callback) {
    (void)callback;
    return nullptr;
  }
};

using OriginPtr = std::shared_ptr<Origin>;

}  // namespace musicfs
