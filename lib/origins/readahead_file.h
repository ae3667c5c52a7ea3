#pragma once
// Sequential readahead for remote origin files (http, s3, sftp): an OriginFile built
// on a "fetch this byte range" function. A remote round trip costs far more than a
// local pread, so a stream of sequential reads is turned into a few large fetches:
//
//   - The first read, and any read that is not near where the last one ended, is an
//     exact ranged fetch straight into the caller's buffer (random access, a tag
//     reader jumping to the end of a file).
//   - A read that continues the last one starts a window: the fetch covers
//     `initial_window` bytes (or the read, if larger), and each further window
//     doubles, up to `max_window`.
//   - With `background`, the next `max_pending` windows are fetched on helper
//     threads as soon as the current one starts being consumed, so a steady reader
//     finds its bytes waiting, and the server always has the next request in hand
//     when it finishes one (with a single window in flight, it sat idle for a
//     request's setup time between windows).
//
// Memory per open file is bounded by (1 + max_pending) * max_window: the window being
// consumed plus those in flight (which reuse the memory of consumed ones). The
// destructor waits for the fetches in flight; each is bounded by the same time
// budget as the read that started it.
// Reads of one file are serialised (a reader that cannot get the file before its
// deadline fails with kTimedOut), which is what a sequential stream needs anyway.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "origins/origin.h"

namespace musicfs {

// Fills buf with the bytes at [offset, offset + buf.size()) and returns how many it
// wrote: fewer only at the end of the file. Errors carry their own context.
using RangeFetch = std::function<Result<size_t>(uint64_t offset, std::span<char> buf, Deadline deadline)>;

struct ReadaheadOptions {
  size_t initial_window = size_t{1} << 20;
  size_t max_window = size_t{8} << 20;
  // Fetch the next windows on helper threads; off in tests that want a fixed order.
  bool background = true;
  // Windows fetched ahead at once, each on its own connection.
  size_t max_pending = 2;
  // How far a read may start from where the last one ended and still count as
  // sequential: the kernel's readahead and the content cache's chunk fetches run in
  // parallel on several FUSE threads, so a stream arrives slightly out of order.
  uint64_t sequential_slack = uint64_t{2} << 20;
};

class ReadaheadFile : public OriginFile {
 public:
  // size: the file's length when known (clamps windows and answers reads past the
  // end without a fetch). what: "origin ID: PATH", for messages.
  ReadaheadFile(RangeFetch fetch, std::optional<uint64_t> size, std::string what, ReadaheadOptions options = {});
  ~ReadaheadFile() override;
  ReadaheadFile(const ReadaheadFile&) = delete;
  ReadaheadFile& operator=(const ReadaheadFile&) = delete;

  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline deadline) override;

  // Bytes held in memory now (current window plus those in flight), for tests.
  size_t buffered_bytes() const;

 private:
  struct Pending;

  bool sequential(uint64_t offset) const;
  size_t copy_from_window(uint64_t pos, std::span<char> out) const;
  // Makes the first background window the current one if it covers pos. False when
  // it does not cover pos or it failed; a kTimedOut error when it is still running
  // at deadline.
  Result<bool> adopt_pending(uint64_t pos, Deadline deadline);
  // Starts background windows after the current one, up to max_pending in flight.
  void start_pending(Millis budget);
  void grow_window();

  const RangeFetch fetch_;
  const std::optional<uint64_t> size_;
  const std::string what_;
  const ReadaheadOptions options_;

  mutable std::timed_mutex mu_;  // guards everything below
  bool any_read_ = false;
  uint64_t next_ = 0;      // where the last read ended
  uint64_t streak_ = 0;    // consecutive sequential reads
  size_t window_ = 0;      // size of the next window to fetch
  uint64_t window_offset_ = 0;
  std::vector<char> window_data_;
  std::vector<std::vector<char>> spares_;  // memory of consumed windows, for the next fetches
  std::deque<std::shared_ptr<Pending>> pending_;  // in file order, from the current window's end
};

}  // namespace musicfs
