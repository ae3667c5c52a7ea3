// Integration tests for origin federation: priority routing, failover on a real fault
// (a tmpfs origin unmounted mid-stream), recovery with the healthy threshold, a hung
// origin bounded by read_timeout_ms, retries with backoff, the all-origins-unhealthy
// episode, prompt failover on a dead primary, and divergent replicas.
//
// Every test owns its Fixture (daemon + mount + origin dirs), so tests run in parallel.
// Faults are injected either for real (tmpfs unmounted under the origin) or through the
// test-build-only `musicfsctl debug-fault` switch.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

void wait_all_healthy(const Fixture& f, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    INFO("origin " << id << " never became healthy");
    REQUIRE(wait_status(f, id, "healthy"));
  }
}

// `musicfsctl debug-fault ORIGIN [MODE [ARG]] [--data-only]`; returns data_call_times.
std::vector<double> debug_fault(Fixture& f, const std::vector<std::string>& args) {
  std::vector<std::string> a = {"debug-fault"};
  a.insert(a.end(), args.begin(), args.end());
  auto r = f.daemon().ctl(a);
  INFO("debug-fault " << (args.empty() ? "" : args[0]) << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  return j["data_call_times"].get<std::vector<double>>();
}

// Clears a fault when the test leaves, even on a failed REQUIRE (a hung origin would
// otherwise keep I/O workers blocked while the daemon shuts down).
// The same without REQUIRE, for polling while another thread is running.
std::vector<double> call_times_nothrow(Fixture& f, const std::string& origin) {
  auto r = f.daemon().ctl({"debug-fault", origin}, 10s);
  if (r.exit_code != 0) return {};
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j["data_call_times"].is_array()) return {};
  return j["data_call_times"].get<std::vector<double>>();
}

struct FaultReset {
  Fixture& f;
  std::string origin;
  ~FaultReset() { f.daemon().ctl({"debug-fault", origin, "none"}, 10s); }
};

size_t count_events(const Fixture& f, const std::string& kind) { return f.events(kind).size(); }

uint64_t bytes_read_of(const Fixture& f, const std::string& id) {
  return f.origin_status(id)["bytes_read"].get<uint64_t>();
}

}  // namespace

// 1. Priority routing, then a real fault in the middle of a stream.
TEST_CASE("federation: reads come from the priority-1 origin and fail over mid-stream when it disappears",
          "[federation]") {
  Fixture f({{"a", 1}, {"b", 2}}, "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\n");
  TmpfsMount tmp(f.origin_dir("a"));  // before mount: origin a lives on a tmpfs we can pull away

  constexpr size_t kChunk = 256 * 1024;
  constexpr size_t kBig = 16 * 1024 * 1024;
  const std::string big = random_bytes(kBig, 1);  // identical on both origins
  for (const std::string id : {"a", "b"}) {
    write_file(f.origin_dir(id) + "/song.txt", "song from " + id + "\n");
    write_file(f.origin_dir(id) + "/fresh.txt", "fresh from " + id + "\n");
    write_file(f.origin_dir(id) + "/big.bin", big);
  }
  f.mount();
  wait_all_healthy(f, {"a", "b"});

  CHECK(f.served_by("song.txt") == "a");
  CHECK(read_file(f.in_mount("song.txt")) == "song from a\n");
  CHECK(f.served_by("big.bin") == "a");

  // The reader: 256 KiB chunks with a pause between them. Past chunk kHold it waits
  // (bounded) for the test to have seen origin a unhealthy, so the rest of the file
  // is certainly read after the switch.
  constexpr size_t kUnmountAt = 8;
  constexpr size_t kHold = 32;
  std::atomic<size_t> chunks_done{0};
  std::atomic<bool> switched{false};
  struct ReaderResult {
    std::atomic<int> err{0};
    std::string data;
    std::vector<double> chunk_secs;
  } rr;
  std::thread reader([&] {
    int fd = ::open(f.in_mount("big.bin").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      rr.err = errno;
      return;
    }
    std::vector<char> buf(kChunk);
    for (size_t i = 0;; ++i) {
      if (i == kHold) {
        auto until = Clock::now() + 15s;
        while (!switched.load() && Clock::now() < until) std::this_thread::sleep_for(20ms);
      }
      auto t0 = Clock::now();
      ssize_t n = ::read(fd, buf.data(), buf.size());
      rr.chunk_secs.push_back(seconds_since(t0));
      if (n < 0) {
        if (errno == EINTR) continue;
        rr.err = errno;
        break;
      }
      if (n == 0) break;
      rr.data.append(buf.data(), static_cast<size_t>(n));
      chunks_done.fetch_add(1);
      std::this_thread::sleep_for(30ms);
    }
    ::close(fd);
  });

  bool reached = wait_until([&] { return chunks_done.load() >= kUnmountAt || rr.err != 0; }, 15s);
  bool unmounted = false;
  std::string unmount_error;
  if (reached && rr.err == 0) {
    try {
      tmp.unmount_lazy();  // the share "goes away"; the open fd still works (lazy unmount)
      unmounted = true;
    } catch (const std::exception& e) {
      unmount_error = e.what();
    }
  }
  auto t_unmount = Clock::now();
  bool went_unhealthy = unmounted && wait_status(f, "a", "unhealthy", 5s);
  double secs_to_unhealthy = seconds_since(t_unmount);
  switched = true;
  reader.join();

  INFO("unmount error: " << unmount_error);
  REQUIRE(reached);
  REQUIRE(unmounted);
  INFO("reader errno " << rr.err.load() << " (" << std::strerror(rr.err.load()) << ")");
  REQUIRE(rr.err.load() == 0);
  REQUIRE(rr.data.size() == big.size());
  CHECK(same_bytes(rr.data, big));  // correct bytes end to end, across the switch
  double worst = 0;
  for (double s : rr.chunk_secs) worst = std::max(worst, s);
  INFO("slowest chunk read: " << worst << " s");
  CHECK(worst < 1.0);
  INFO("seconds from unmount to unhealthy: " << secs_to_unhealthy);
  CHECK(went_unhealthy);

  // The rest of the stream and every new read come from the backup.
  CHECK(bytes_read_of(f, "b") > 0);
  CHECK(f.served_by("big.bin") == "b");
  CHECK(f.served_by("fresh.txt") == "b");
  auto fresh = timed_read(f.in_mount("fresh.txt"));
  CHECK(fresh.ok);
  CHECK(fresh.data == "fresh from b\n");
}

// 2. Recovery needs healthy_threshold consecutive good probes.
TEST_CASE("federation: a recovered origin rejoins only after healthy_threshold good probes", "[federation]") {
  Fixture f({{"a", 1}, {"b", 2}},
            // Three good probes: a degraded spell of about two seconds, long enough to be
            // watched even on a loaded machine.
            "[health]\ncheck_interval_secs = 1\nhealthy_threshold = 3\nread_timeout_ms = 2000\n");
  TmpfsMount tmp(f.origin_dir("a"));
  auto populate = [&](const std::string& id) {
    write_file(f.origin_dir(id) + "/song.txt", "song from " + id + "\n");
    write_file(f.origin_dir(id) + "/later.txt", "later from " + id + "\n");
  };
  populate("a");
  populate("b");
  f.mount();
  wait_all_healthy(f, {"a", "b"});
  REQUIRE(f.served_by("song.txt") == "a");

  tmp.unmount_lazy();
  REQUIRE(wait_status(f, "a", "unhealthy", 5s));
  REQUIRE(f.served_by("song.txt") == "b");
  const size_t events_before = f.events().size();

  tmp.remount();
  populate("a");

  // Watch the status pass through "degraded" (recovering) before "healthy"; while it
  // is degraded, traffic must stay on b.
  std::vector<std::string> seen;
  Clock::time_point first_degraded{}, first_healthy{};
  bool served_by_b_while_degraded = true;
  int degraded_checks = 0;
  bool healthy = wait_until(
      [&] {
        std::string s = status_of(f, "a");
        if (seen.empty() || seen.back() != s) {
          seen.push_back(s);
          if (s == "degraded") first_degraded = Clock::now();
          if (s == "healthy") first_healthy = Clock::now();
        }
        if (s == "degraded") {
          std::string by = f.served_by("song.txt");
          // Only conclusive if a was still degraded after the xattr was answered.
          if (status_of(f, "a") == "degraded") {
            ++degraded_checks;
            if (by != "b") served_by_b_while_degraded = false;
          }
        }
        return s == "healthy";
      },
      15s);
  std::string seq;
  for (const auto& s : seen) seq += s + " ";
  INFO("status sequence after remount: " << seq);
  REQUIRE(healthy);
  CHECK(std::find(seen.begin(), seen.end(), "degraded") != seen.end());
  CHECK(served_by_b_while_degraded);
  CHECK(degraded_checks > 0);
  if (first_degraded != Clock::time_point{}) {
    // healthy needs two more good probes, one check interval (1 s) apart.
    CHECK(std::chrono::duration<double>(first_healthy - first_degraded).count() > 1.5);
  }

  // The events tell the same story: unhealthy -> degraded (1st good probe), then
  // degraded -> healthy (3rd good probe, two intervals later).
  auto all = f.events();
  std::vector<nlohmann::json> mine;
  for (size_t i = events_before; i < all.size(); ++i) {
    if (all[i]["origin"] == "a" && all[i]["kind"].get<std::string>().rfind("origin_", 0) == 0) mine.push_back(all[i]);
  }
  std::string kinds;
  for (const auto& e : mine) kinds += e["kind"].get<std::string>() + " (" + e["message"].get<std::string>() + "); ";
  INFO("a's health events after remount: " << kinds);
  REQUIRE(mine.size() >= 2);
  const auto& last = mine.back();
  const auto& before_last = mine[mine.size() - 2];
  CHECK(last["kind"] == "origin_healthy");
  CHECK(last["message"].get<std::string>().find("degraded -> healthy") != std::string::npos);
  CHECK(before_last["kind"] == "origin_degraded");
  CHECK(before_last["message"].get<std::string>().find("-> degraded (probe succeeded)") != std::string::npos);
  CHECK(before_last["id"].get<int64_t>() < last["id"].get<int64_t>());

  // Traffic returns to the priority-1 origin.
  CHECK(wait_until([&] { return f.served_by("song.txt") == "a"; }, 5s));
  auto later = timed_read(f.in_mount("later.txt"));  // never read before: not in the page cache
  CHECK(later.ok);
  CHECK(later.data == "later from a\n");
}

// 3. A hung origin costs a reader at most read_timeout_ms and blocks nobody else.
//
// The read of x uses O_DIRECT so that it is exactly one FUSE read request: a buffered
// read that fails is asked again by the kernel (readahead, then ->read_folio for the
// same page), which is what the next test is about.
TEST_CASE("federation: a hung origin fails its read within read_timeout_ms without blocking other origins",
          "[federation]") {
  Fixture f({{"a", 1}, {"b", 2}}, "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\ntimeout_ms = 500\n");
  const std::string x = random_bytes(4096, 3), y = random_bytes(4096, 4);
  write_file(f.origin_dir("a") + "/x.bin", x);
  write_file(f.origin_dir("b") + "/y.bin", y);
  f.mount();
  wait_all_healthy(f, {"a", "b"});

  FaultReset reset{f, "a"};
  debug_fault(f, {"a", "hang"});

  ReadOutcome rx;
  std::thread tx([&] { rx = timed_read(f.in_mount("x.bin"), 1 << 16, /*direct=*/true); });
  // The read of x has reached origin a (and hangs there) once a data call is logged.
  bool blocked = wait_until([&] { return !call_times_nothrow(f, "a").empty(); }, 5s);
  ReadOutcome ry = timed_read(f.in_mount("y.bin"));
  tx.join();

  REQUIRE(blocked);
  INFO("read of y (origin b) while a hangs took " << ry.secs << " s, errno " << ry.err);
  CHECK(ry.ok);
  CHECK(same_bytes(ry.data, y));
  CHECK(ry.secs < 1.0);
  INFO("O_DIRECT read of x (hung origin a) took " << rx.secs << " s, errno " << rx.err);
  CHECK_FALSE(rx.ok);
  CHECK(rx.err == EIO);
  // It waited for the origin (the data call reached it: `blocked`), up to the read
  // timeout or until the origin stalled, whichever came first: a health probe that
  // timed out meanwhile ends the wait at once.
  CHECK(rx.secs < 2.0 + 1.5);
  CHECK(debug_fault(f, {"a"}).size() == 1);  // one request, one data call
}

// 3b. The same through an ordinary buffered read(2), as a player would do it. The kernel
// sends the failed page twice (readahead, then ->read_folio); the second request must
// not get a fresh read_timeout_ms on the origin that just timed out.
TEST_CASE("federation: a buffered read of a file on a hung origin fails within read_timeout_ms",
          "[federation]") {
  Fixture f({{"a", 1}, {"b", 2}}, "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\ntimeout_ms = 500\n");
  write_file(f.origin_dir("a") + "/x.bin", random_bytes(4096, 3));
  write_file(f.origin_dir("b") + "/y.bin", random_bytes(4096, 4));
  f.mount();
  wait_all_healthy(f, {"a", "b"});

  FaultReset reset{f, "a"};
  debug_fault(f, {"a", "hang"});
  auto rx = timed_read(f.in_mount("x.bin"));
  auto calls = debug_fault(f, {"a"});
  INFO("buffered read of x took " << rx.secs << " s, errno " << rx.err << ", data calls on a: " << calls.size());
  CHECK_FALSE(rx.ok);
  CHECK(rx.err == EIO);
  CHECK(rx.secs < 2.0 + 1.5);
}

// 4. A single origin with transient failures: retried after 100 ms, then 500 ms.
TEST_CASE("federation: transient failures on the only origin are retried with backoff", "[federation]") {
  Fixture f({{"a", 1}});
  const std::string data = random_bytes(4096, 5);
  write_file(f.origin_dir("a") + "/track.bin", data);
  f.mount();
  wait_all_healthy(f, {"a"});

  FaultReset reset{f, "a"};
  debug_fault(f, {"a", "fail-times", "2", "--data-only"});
  auto r = timed_read(f.in_mount("track.bin"));  // first read ever: not in the page cache
  INFO("read errno " << r.err << ", took " << r.secs << " s");
  REQUIRE(r.ok);
  CHECK(same_bytes(r.data, data));

  // Three attempts for the first request (fail, fail, succeed); the kernel may follow
  // with one more request (e.g. at end of file) once the first has succeeded.
  auto times = debug_fault(f, {"a"});
  REQUIRE(times.size() >= 3);
  double gap1 = (times[1] - times[0]) * 1000, gap2 = (times[2] - times[1]) * 1000;
  INFO("gaps between data calls: " << gap1 << " ms, " << gap2 << " ms");
  CHECK(gap1 >= 90);
  CHECK(gap1 < 400);
  CHECK(gap2 >= 480);
  CHECK(gap2 < 1200);
}

// 5. Every origin unhealthy: reads fail fast with EIO and the episode is one event.
TEST_CASE("federation: when every origin is unhealthy reads fail with EIO and one event is recorded",
          "[federation]") {
  Fixture f({{"a", 1}, {"b", 2}}, "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\ntimeout_ms = 500\n");
  const std::string data = random_bytes(8192, 6);
  for (const std::string id : {"a", "b"}) write_file(f.origin_dir(id) + "/both.bin", data);
  f.mount();
  wait_all_healthy(f, {"a", "b"});

  FaultReset reset_a{f, "a"};
  FaultReset reset_b{f, "b"};
  debug_fault(f, {"a", "fail"});
  debug_fault(f, {"b", "fail"});

  for (int i = 0; i < 3; ++i) {
    auto r = timed_read(f.in_mount("both.bin"));
    INFO("read " << i << ": errno " << r.err << ", took " << r.secs << " s");
    CHECK_FALSE(r.ok);
    CHECK(r.err == EIO);
    CHECK(r.secs < 2 * 2.0 + 1.5);  // bounded (the kernel may ask twice per page)
  }
  CHECK(wait_status(f, "a", "unhealthy", 5s));
  CHECK(wait_status(f, "b", "unhealthy", 5s));
  // Both origins were tried by the reads.
  CHECK_FALSE(debug_fault(f, {"a"}).empty());
  CHECK_FALSE(debug_fault(f, {"b"}).empty());
  // One episode, one event: not one per read nor per probe (probes keep failing too).
  std::this_thread::sleep_for(1500ms);  // let another probe round fail (measuring: nothing new may appear)
  auto ev = f.events("all_origins_unhealthy");
  INFO("all_origins_unhealthy events: " << nlohmann::json(ev).dump());
  CHECK(ev.size() == 1);
}

// 6. A dead primary with a healthy backup: the first read fails over at once.
TEST_CASE("federation: a failing primary fails over promptly to the backup", "[federation]") {
  // Default check interval (30 s): after the first round no probe runs during the test,
  // so a's state comes from the read path alone (passive detection).
  Fixture f({{"a", 1}, {"b", 2}}, "[health]\nread_timeout_ms = 5000\n");
  const std::string one = random_bytes(64 * 1024, 7), two = random_bytes(64 * 1024, 8);
  for (const std::string id : {"a", "b"}) {
    write_file(f.origin_dir(id) + "/one.bin", one);
    write_file(f.origin_dir(id) + "/two.bin", two);
  }
  f.mount();
  wait_all_healthy(f, {"a", "b"});
  REQUIRE(f.served_by("one.bin") == "a");
  REQUIRE(count_events(f, "failover") == 0);

  FaultReset reset{f, "a"};
  debug_fault(f, {"a", "fail", "--data-only"});
  auto r1 = timed_read(f.in_mount("one.bin"));
  INFO("first read: errno " << r1.err << ", took " << r1.secs << " s");
  REQUIRE(r1.ok);
  CHECK(same_bytes(r1.data, one));
  CHECK(r1.secs < 1.0);
  CHECK_FALSE(debug_fault(f, {"a"}).empty());  // a really was tried first
  auto failovers = f.events("failover");
  REQUIRE(failovers.size() == 1);
  CHECK(failovers[0]["origin"] == "b");
  CHECK(status_of(f, "a") == "unhealthy");

  // The next read goes straight to b: no new failover.
  CHECK(f.served_by("two.bin") == "b");
  auto r2 = timed_read(f.in_mount("two.bin"));
  REQUIRE(r2.ok);
  CHECK(same_bytes(r2.data, two));
  CHECK(r2.secs < 1.0);
  CHECK(count_events(f, "failover") == 1);
}

// 7. Replicas that disagree: what you stat is what you read, from the serving origin.
TEST_CASE("federation: divergent replicas are stat'ed and read from the serving origin", "[federation]") {
  Fixture f({{"a", 1}, {"b", 2}});
  const std::string on_a = random_bytes(3000, 9), on_b = random_bytes(5000, 10);
  write_file(f.origin_dir("a") + "/dup.bin", on_a);
  write_file(f.origin_dir("b") + "/dup.bin", on_b);
  f.mount();
  wait_all_healthy(f, {"a", "b"});

  CHECK(f.served_by("dup.bin") == "a");
  struct stat st {};
  REQUIRE(::stat(f.in_mount("dup.bin").c_str(), &st) == 0);
  CHECK(st.st_size == static_cast<off_t>(on_a.size()));
  auto r = timed_read(f.in_mount("dup.bin"));
  REQUIRE(r.ok);
  CHECK(same_bytes(r.data, on_a));
}



// 7b. After a failover the serving origin of a divergent path changes; what the mount
// reports for it must follow. The kernel caches attributes for 60 s (attr_timeout) and
// relies on the federation to invalidate them, but a health transition invalidates
// nothing: stat keeps a's size and a read is cut at it, returning a truncated b.
TEST_CASE("federation: after failover a divergent file is stat'ed and read whole from the new serving origin",
          "[federation]") {
  Fixture f({{"a", 1}, {"b", 2}}, "[health]\ncheck_interval_secs = 1\n");
  const std::string on_a = random_bytes(3000, 11), on_b = random_bytes(5000, 12);
  write_file(f.origin_dir("a") + "/dup.bin", on_a);
  write_file(f.origin_dir("b") + "/dup.bin", on_b);
  f.mount();
  wait_all_healthy(f, {"a", "b"});

  struct stat st {};
  REQUIRE(::stat(f.in_mount("dup.bin").c_str(), &st) == 0);  // looked up (attrs cached), never read
  REQUIRE(st.st_size == static_cast<off_t>(on_a.size()));

  FaultReset reset{f, "a"};
  debug_fault(f, {"a", "fail"});
  REQUIRE(wait_status(f, "a", "unhealthy", 5s));
  REQUIRE(f.served_by("dup.bin") == "b");

  bool size_follows = wait_until(
      [&] { return ::stat(f.in_mount("dup.bin").c_str(), &st) == 0 && st.st_size == static_cast<off_t>(on_b.size()); },
      3s);
  INFO("stat size after failover: " << st.st_size << " (a: " << on_a.size() << ", b: " << on_b.size() << ")");
  CHECK(size_follows);
  auto r = timed_read(f.in_mount("dup.bin"));
  INFO("read " << r.data.size() << " bytes; equal to b's: " << (r.data == on_b)
               << "; a truncated copy of b's: " << (r.data == on_b.substr(0, r.data.size())));
  REQUIRE(r.ok);
  CHECK(same_bytes(r.data, on_b));
}

// 8. NFS and SMB origins are shares the system has mounted: remote for health (three
// failed probes before unhealthy), with every call bounded so a dead server never hangs
// the tree. A tmpfs stands in for a share that vanishes; debug-fault for one that hangs.
TEST_CASE("shares: an nfs origin that vanishes fails over at once and turns unhealthy after three failed probes",
          "[federation][shares]") {
  Fixture f({{"nas", 1, "nfs"}, {"laptop", 2}},
            "[health]\ncheck_interval_secs = 1\nhealthy_threshold = 2\nread_timeout_ms = 2000\n");
  TmpfsMount tmp(f.origin_dir("nas"));
  // Copies of one length, as replicas of a track are: the kernel keeps the size of the
  // copy the index routes to, so a first read that fails over to a copy of another
  // size before the index has seen the share go would be cut at the old size.
  auto populate = [&](const std::string& id) {
    write_file(f.origin_dir(id) + "/song.txt", "song from " + std::string(id == "nas" ? "nas   " : "laptop") + "\n");
  };
  populate("nas");
  populate("laptop");
  f.mount();
  wait_all_healthy(f, {"nas", "laptop"});
  REQUIRE(f.served_by("song.txt") == "nas");

  tmp.unmount_lazy();
  // The first read after the share went away is served by the other copy.
  auto r = timed_read(f.in_mount("song.txt"));
  INFO("read after the share vanished: errno " << r.err << ", " << r.secs << " s");
  REQUIRE(r.ok);
  CHECK(r.data == "song from laptop\n");
  CHECK(r.secs < 2.0);

  // Never unhealthy before the third consecutive failure; degraded on the way there.
  std::vector<std::pair<std::string, uint64_t>> seen;
  bool unhealthy = wait_until(
      [&] {
        auto o = f.origin_status("nas");
        std::pair<std::string, uint64_t> now{o["status"].get<std::string>(), o["consecutive_failures"].get<uint64_t>()};
        if (seen.empty() || seen.back() != now) seen.push_back(now);
        return now.first == "unhealthy";
      },
      15s);
  std::string seq;
  for (const auto& [s, n] : seen) seq += s + "/" + std::to_string(n) + " ";
  INFO("status/consecutive_failures sequence: " << seq);
  REQUIRE(unhealthy);
  CHECK(seen.back().second >= 3);
  CHECK(std::any_of(seen.begin(), seen.end(), [](const auto& p) { return p.first == "degraded"; }));
  CHECK(f.served_by("song.txt") == "laptop");

  tmp.remount();
  populate("nas");
  REQUIRE(wait_status(f, "nas", "healthy", 15s));
  CHECK(f.served_by("song.txt") == "nas");
}

TEST_CASE("shares: a hung smb origin costs a reader at most read_timeout_ms and other origins keep serving",
          "[federation][shares]") {
  Fixture f({{"share", 1, "smb"}, {"laptop", 2}},
            "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\ntimeout_ms = 500\n");
  write_file(f.origin_dir("share") + "/only-on-share.bin", random_bytes(4096, 81));
  const std::string local = random_bytes(4096, 82);
  write_file(f.origin_dir("laptop") + "/only-on-laptop.bin", local);
  f.mount();
  wait_all_healthy(f, {"share", "laptop"});

  FaultReset reset{f, "share"};
  debug_fault(f, {"share", "hang"});  // data calls and probes: a server that stopped answering

  ReadOutcome hung;
  std::thread reader([&] { hung = timed_read(f.in_mount("only-on-share.bin"), 1 << 16, /*direct=*/true); });
  ReadOutcome other = timed_read(f.in_mount("only-on-laptop.bin"));
  reader.join();
  INFO("read from the laptop while the share hangs: " << other.secs << " s, errno " << other.err);
  CHECK(other.ok);
  CHECK(same_bytes(other.data, local));
  CHECK(other.secs < 1.0);
  INFO("read from the hung share: " << hung.secs << " s, errno " << hung.err);
  CHECK_FALSE(hung.ok);
  CHECK(hung.err == EIO);
  CHECK(hung.secs < 2.0 + 1.5);

  // Probes time out (timeout_ms) rather than hang: three of them make it unhealthy.
  REQUIRE(wait_status(f, "share", "unhealthy", 15s));
  CHECK(f.origin_status("share")["consecutive_failures"].get<uint64_t>() >= 3);
  CHECK(f.daemon().ctl({"status"}).exit_code == 0);  // the daemon still answers
}
