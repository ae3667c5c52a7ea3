#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "origins/readahead_file.h"

using namespace musicfs;

namespace {

constexpr size_t kMiB = size_t{1} << 20;

// A file of `size` bytes whose byte i is (i * 7 + i / 4096) % 251, fetched by a fake
// that logs every call and can be made to fail or to hold a fetch until released.
struct FakeRemote {
  uint64_t size;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<uint64_t, size_t>> calls;  // (offset, length asked)
  bool fail = false;
  bool hold = false;
  std::optional<uint64_t> hold_from;  // hold only fetches at or past this offset
  std::optional<uint64_t> fail_once_at;

  explicit FakeRemote(uint64_t s) : size(s) {}

  static char byte_at(uint64_t i) { return static_cast<char>((i * 7 + i / 4096) % 251); }

  RangeFetch fetcher() {
    return [this](uint64_t offset, std::span<char> buf, Deadline deadline) -> Result<size_t> {
      std::unique_lock lock(mu);
      calls.emplace_back(offset, buf.size());
      cv.notify_all();
      if (!cv.wait_until(lock, deadline, [&] { return !hold && !(hold_from && offset >= *hold_from); })) {
        return make_error(ErrorCode::kTimedOut, "fake: held past the deadline");
      }
      if (fail) return make_error(ErrorCode::kIo, "fake: injected failure");
      if (fail_once_at == offset) {
        fail_once_at.reset();
        return make_error(ErrorCode::kIo, "fake: injected one-off failure");
      }
      size_t n = offset >= size ? 0 : static_cast<size_t>(std::min<uint64_t>(buf.size(), size - offset));
      for (size_t i = 0; i < n; ++i) buf[i] = byte_at(offset + i);
      return n;
    };
  }
  size_t call_count() {
    std::lock_guard lock(mu);
    return calls.size();
  }
  std::vector<std::pair<uint64_t, size_t>> snapshot() {
    std::lock_guard lock(mu);
    return calls;
  }
  bool wait_calls(size_t n, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return calls.size() >= n; });
  }
  void set_hold(bool h) {
    std::lock_guard lock(mu);
    hold = h;
    cv.notify_all();
  }
  void set_hold_from(std::optional<uint64_t> from) {
    std::lock_guard lock(mu);
    hold_from = from;
    cv.notify_all();
  }
};

bool bytes_match(uint64_t offset, std::span<const char> got) {
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != FakeRemote::byte_at(offset + i)) return false;
  }
  return true;
}

Deadline soon() { return deadline_in(Millis(5000)); }

ReadaheadOptions foreground() {
  ReadaheadOptions o;
  o.background = false;
  return o;
}

}  // namespace

TEST_CASE("readahead: the first read is an exact fetch into the caller's buffer", "[readahead]") {
  FakeRemote remote(32 * kMiB);
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac", foreground());
  std::vector<char> buf(4096);
  auto r = f.read(12345, buf, soon());
  REQUIRE(r);
  CHECK(*r == 4096);
  CHECK(bytes_match(12345, buf));
  REQUIRE(remote.calls.size() == 1);
  CHECK(remote.calls[0] == std::make_pair(uint64_t{12345}, size_t{4096}));
  CHECK(f.buffered_bytes() == 0);
}

TEST_CASE("readahead: sequential reads fetch windows that double up to the maximum", "[readahead]") {
  FakeRemote remote(64 * kMiB);
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac", foreground());
  std::vector<char> buf(kMiB);
  for (uint64_t off = 0; off < remote.size; off += kMiB) {
    auto r = f.read(off, buf, soon());
    REQUIRE(r);
    REQUIRE(*r == kMiB);
    REQUIRE(bytes_match(off, buf));
    CHECK(f.buffered_bytes() <= 8 * kMiB);
  }
  // 1 exact MiB, then windows of 1, 2, 4, 8, 8, ... MiB, each starting where the last ended.
  auto calls = remote.snapshot();
  REQUIRE(calls.size() >= 5);
  CHECK(calls[0] == std::make_pair(uint64_t{0}, kMiB));
  CHECK(calls[1] == std::make_pair(uint64_t{kMiB}, kMiB));
  CHECK(calls[2] == std::make_pair(uint64_t{2 * kMiB}, 2 * kMiB));
  CHECK(calls[3] == std::make_pair(uint64_t{4 * kMiB}, 4 * kMiB));
  CHECK(calls[4] == std::make_pair(uint64_t{8 * kMiB}, 8 * kMiB));
  for (size_t i = 5; i < calls.size(); ++i) {
    CHECK(calls[i].first == calls[i - 1].first + calls[i - 1].second);
    CHECK(calls[i].second == 8 * kMiB);
  }
  // 64 MiB in 1 + 1 + 2 + 4 + 8 * 7 = 64: eleven fetches instead of sixty-four.
  CHECK(calls.size() == 11);
}

TEST_CASE("readahead: windows stop at the end of the file and reads past it return 0", "[readahead]") {
  const uint64_t size = 5 * kMiB + 123;
  FakeRemote remote(size);
  ReadaheadFile f(remote.fetcher(), size, "test: /a.flac", foreground());
  std::vector<char> buf(kMiB);
  uint64_t off = 0;
  uint64_t total = 0;
  for (;;) {
    auto r = f.read(off, buf, soon());
    REQUIRE(r);
    if (*r == 0) break;
    REQUIRE(bytes_match(off, std::span<const char>(buf.data(), *r)));
    off += *r;
    total += *r;
  }
  CHECK(total == size);
  for (const auto& [o, len] : remote.snapshot()) CHECK(o + len <= size);
  size_t before = remote.call_count();
  auto past = f.read(size + 10, buf, soon());
  REQUIRE(past);
  CHECK(*past == 0);
  CHECK(remote.call_count() == before);
}

TEST_CASE("readahead: random access fetches exactly what was asked and resets the window", "[readahead]") {
  FakeRemote remote(64 * kMiB);
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac", foreground());
  std::vector<char> buf(64 * 1024);
  // Grow the window with a few sequential reads first.
  for (uint64_t off = 0; off < 4 * buf.size(); off += buf.size()) REQUIRE(f.read(off, buf, soon()));
  size_t before = remote.call_count();
  const uint64_t spots[] = {50 * kMiB + 17, 3 * kMiB, 60 * kMiB, 20 * kMiB + 1};
  for (uint64_t spot : spots) {
    auto r = f.read(spot, buf, soon());
    REQUIRE(r);
    CHECK(*r == buf.size());
    CHECK(bytes_match(spot, buf));
  }
  auto calls = remote.snapshot();
  REQUIRE(calls.size() == before + 4);
  for (size_t i = 0; i < 4; ++i) CHECK(calls[before + i] == std::make_pair(spots[i], buf.size()));
  // Continuing after the last random read starts again from the initial window.
  REQUIRE(f.read(20 * kMiB + 1 + buf.size(), buf, soon()));
  calls = remote.snapshot();
  CHECK(calls.back() == std::make_pair(uint64_t{20 * kMiB + 1 + buf.size()}, kMiB));
}

TEST_CASE("readahead: reads inside the current window are served without fetching", "[readahead]") {
  FakeRemote remote(16 * kMiB);
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac", foreground());
  std::vector<char> buf(256 * 1024);
  REQUIRE(f.read(0, buf, soon()));
  REQUIRE(f.read(buf.size(), buf, soon()));  // sequential: fetches a 1 MiB window
  size_t before = remote.call_count();
  for (uint64_t off = 2 * buf.size(); off < kMiB + buf.size(); off += buf.size()) {
    auto r = f.read(off, buf, soon());
    REQUIRE(r);
    CHECK(bytes_match(off, std::span<const char>(buf.data(), *r)));
  }
  CHECK(remote.call_count() == before);
}

TEST_CASE("readahead: the next two windows are fetched in the background, side by side", "[readahead]") {
  FakeRemote remote(64 * kMiB);
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac");
  std::vector<char> buf(kMiB);
  auto sorted_calls = [&] {
    auto calls = remote.snapshot();
    std::sort(calls.begin(), calls.end());
    return calls;
  };
  REQUIRE(f.read(0, buf, soon()));
  // Window [1, 2) MiB is fetched for this read; after it, [2, 4) and [4, 8) MiB are
  // both requested while the first of them is still held: the second does not wait
  // for the first to finish, so the server has it in hand.
  remote.set_hold_from(2 * kMiB);
  REQUIRE(f.read(kMiB, buf, soon()));
  REQUIRE(remote.wait_calls(4));
  auto calls = sorted_calls();
  CHECK(calls[2] == std::make_pair(uint64_t{2 * kMiB}, 2 * kMiB));
  CHECK(calls[3] == std::make_pair(uint64_t{4 * kMiB}, 4 * kMiB));
  remote.set_hold_from(std::nullopt);
  // Reading [2, 4) MiB uses the first background window and starts the one after the
  // second, [8, 16) MiB.
  REQUIRE(f.read(2 * kMiB, buf, soon()));
  REQUIRE(f.read(3 * kMiB, buf, soon()));
  REQUIRE(remote.wait_calls(5));
  calls = sorted_calls();
  REQUIRE(calls.size() == 5);
  CHECK(calls[4] == std::make_pair(uint64_t{8 * kMiB}, 8 * kMiB));
  // A whole sequential pass reads the right bytes and never holds more than three
  // windows (the current one and two in flight).
  for (uint64_t off = 4 * kMiB; off < remote.size; off += kMiB) {
    auto r = f.read(off, buf, soon());
    REQUIRE(r);
    REQUIRE(*r == kMiB);
    REQUIRE(bytes_match(off, buf));
    CHECK(f.buffered_bytes() <= 24 * kMiB);
  }
  // Every byte was asked for once, in windows that tile the file.
  calls = sorted_calls();
  uint64_t next = 0;
  for (const auto& [offset, length] : calls) {
    CHECK(offset == next);
    next = offset + length;
  }
  CHECK(next == remote.size);
}

TEST_CASE("readahead: with max_pending = 1 one window is fetched ahead at a time", "[readahead]") {
  FakeRemote remote(64 * kMiB);
  ReadaheadOptions o;
  o.max_pending = 1;
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac", o);
  std::vector<char> buf(kMiB);
  REQUIRE(f.read(0, buf, soon()));
  REQUIRE(f.read(kMiB, buf, soon()));  // window [1, 2) MiB, then [2, 4) MiB in the background
  REQUIRE(remote.wait_calls(3));
  for (uint64_t off = 2 * kMiB; off < remote.size; off += kMiB) {
    REQUIRE(f.read(off, buf, soon()));
    REQUIRE(bytes_match(off, buf));
    CHECK(f.buffered_bytes() <= 16 * kMiB);
  }
}

TEST_CASE("readahead: a failed fetch is an error, and a failed background window is fetched again", "[readahead]") {
  FakeRemote remote(32 * kMiB);
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac");
  std::vector<char> buf(kMiB);
  REQUIRE(f.read(0, buf, soon()));
  {
    std::lock_guard lock(remote.mu);
    remote.fail = true;
  }
  auto bad = f.read(kMiB, buf, soon());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kIo);
  {
    std::lock_guard lock(remote.mu);
    remote.fail = false;
    remote.fail_once_at = 2 * kMiB;
  }
  ReadaheadFile g(remote.fetcher(), remote.size, "test: /a.flac");
  REQUIRE(g.read(0, buf, soon()));
  REQUIRE(g.read(kMiB, buf, soon()));  // starts the background window at 2 MiB, which fails
  auto r = g.read(2 * kMiB, buf, soon());
  REQUIRE(r);
  CHECK(*r == kMiB);
  CHECK(bytes_match(2 * kMiB, buf));
  size_t at_two = 0;
  for (const auto& c : remote.snapshot()) at_two += c.first == 2 * kMiB ? 1 : 0;
  CHECK(at_two == 2);
}

TEST_CASE("readahead: a hung background window does not hold a read past its deadline", "[readahead]") {
  FakeRemote remote(32 * kMiB);
  ReadaheadFile f(remote.fetcher(), remote.size, "test: /a.flac");
  std::vector<char> buf(kMiB);
  REQUIRE(f.read(0, buf, soon()));
  remote.set_hold(true);
  // This read's own window fetch is held too, so it must give up at its deadline.
  auto t0 = SteadyClock::now();
  auto r = f.read(kMiB, buf, deadline_in(Millis(300)));
  auto took = SteadyClock::now() - t0;
  CHECK_FALSE(r);
  CHECK(took < std::chrono::seconds(3));
  remote.set_hold(false);
}
