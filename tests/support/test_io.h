#pragma once
// Reading through a mount the way a player does, for integration tests: deterministic
// test data, timed whole-file reads that never throw (safe on any thread), byte
// comparison that does not print megabytes on failure, and a per-file page-cache drop
// so that the next read reaches the daemon.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>

#include "support/test_env.h"

namespace musicfs::test {

using TestClock = std::chrono::steady_clock;

double seconds_since(TestClock::time_point t0);

// Deterministic pseudo-random bytes, different per seed.
std::string random_bytes(size_t n, uint32_t seed);

struct ReadOutcome {
  bool ok = false;
  int err = 0;       // errno of the failing call
  std::string data;  // what was read before the end or the error
  double secs = 0;   // wall time of open + reads
};

// open(2) + read(2) of `chunk` bytes at a time to end of file, timed. With `direct`,
// O_DIRECT: no page cache, one FUSE read request per read(2).
ReadOutcome timed_read(const std::string& path, size_t chunk = 1 << 16, bool direct = false);
// The same in 1 MiB reads (a player's or dd's size).
ReadOutcome read_all(const std::string& path, bool direct = false);

// True when equal; otherwise WARNs the sizes and the first differing byte.
bool same_bytes(const std::string& got, const std::string& want);

// Drops the kernel's cached pages of one file (posix_fadvise DONTNEED: no root, no
// effect on other tests). False when that could not be asked for.
bool drop_page_cache(const std::string& path);

// An origin's health status from `status --json`, "<missing>" when it is not there.
std::string status_of(const Fixture& f, const std::string& id);

// Polls status_of until it is `want`; false when `timeout` passed first.
bool wait_status(const Fixture& f, const std::string& id, const std::string& want,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));

// An origin's last_error from `status --json`, "" when it has none.
std::string last_error_of(const Fixture& f, const std::string& id);

// Waits until `rel` exists in the mount (the index has it); false after `timeout`.
bool visible(const Fixture& f, const std::string& rel, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A file's size by stat(2), -1 when it cannot be stat'ed.
off_t size_of(const std::string& path);

}  // namespace musicfs::test
