// Integration tests for the sftp origin type against a real OpenSSH server on 127.0.0.1
// (tests/support/sshd_server.h): listing and reading through the mount, an sftp origin
// beside a local one, failover and reconnection when sshd stops and returns, a frozen
// server (SIGSTOP) bounded by read_timeout_ms, health checks, offline reads from the
// cache, and refused credentials or host keys.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/sshd_server.h"
#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Probes every second; a probe or a single origin call gets 1.5 s, a read 3 s in all.
const std::string kHealth =
    "\n[health]\ncheck_interval_secs = 1\ntimeout_ms = 1500\nread_timeout_ms = 3000\n";

uint64_t bytes_read_of(const Fixture& f, const std::string& id) {
  return f.origin_status(id)["bytes_read"].get<uint64_t>();
}

// Regular files and symlinks below `root`, relative, with "/" for directories' contents.
std::map<std::string, char> tree_of(const std::string& root) {
  std::map<std::string, char> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const auto rel = fs::relative(it->path(), root).string();
    if (it->is_symlink()) {
      out[rel] = 'l';
    } else if (it->is_directory()) {
      out[rel] = 'd';
    } else {
      out[rel] = 'f';
    }
  }
  return out;
}

// Thaws a frozen sshd when the test leaves, even on a failed REQUIRE.
struct ThawGuard {
  SshdServer& s;
  ~ThawGuard() { s.thaw(); }
};

}  // namespace

TEST_CASE("sftp: the mount lists the server's tree and reads every file with the right bytes", "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  const std::map<std::string, std::string> files = {
      {"Artist One/Album A/01 Intro.flac", "intro"},
      {"Artist One/Album A/02 The Long Song.flac", random_bytes(6 * 1024 * 1024 + 12345, 1)},
      {"Artist One/Album A/cover.jpg", random_bytes(70000, 2)},
      {"Artist Two/Live at the Hall/01 Opening Night.flac", random_bytes(1024 * 1024, 3)},
      {"top.txt", "top level\n"},
      {"empty.flac", ""},
  };
  for (const auto& [rel, data] : files) write_file(music + "/" + rel, data);
  mkdirs(music + "/Empty Dir");
  fs::create_directory_symlink("/etc", music + "/escape");

  // A key readable by others: accepted, but the daemon warns naming the file.
  const std::string loose_key = sshd.dir() / "loose_key";
  fs::copy_file(sshd.client_key(), loose_key);
  ::chmod(loose_key.c_str(), 0644);

  Fixture f({}, sshd.origin_toml("remote", 1, music, loose_key) + kHealth);
  f.mount();
  REQUIRE(visible(f, "top.txt"));
  REQUIRE(wait_status(f, "remote", "healthy"));

  CHECK(tree_of(f.mount_point()) == tree_of(music));
  for (const auto& [rel, data] : files) {
    INFO("file " << rel);
    auto r = read_all(f.in_mount(rel));
    CHECK(r.ok);
    CHECK(same_bytes(r.data, data));
    CHECK(fs::file_size(f.in_mount(rel)) == data.size());
  }
  // The symlink is shown as a symlink; nothing below it (outside the root) is listed.
  CHECK(fs::is_symlink(f.in_mount("escape")));
  CHECK(fs::read_symlink(f.in_mount("escape")) == "/etc");
  CHECK(bytes_read_of(f, "remote") > 6u * 1024 * 1024);

  auto o = f.origin_status("remote");
  CHECK(o["type"] == "sftp");
  CHECK(o["location"] == sshd.user() + "@127.0.0.1:" + std::to_string(sshd.port()) + music);
  const std::string log = f.daemon().log();
  INFO("daemon log:\n" << log);
  CHECK(log.find(loose_key) != std::string::npos);
}

TEST_CASE("sftp: an sftp origin beside a local one serves duplicates by priority both ways", "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  write_file(music + "/dup.txt", "dup from sftp\n");
  write_file(music + "/only-sftp.txt", "only on sftp\n");

  SECTION("sftp first") {
    Fixture f({{"local", 2}}, sshd.origin_toml("remote", 1, music) + kHealth);
    write_file(f.origin_dir("local") + "/dup.txt", "dup from local\n");
    write_file(f.origin_dir("local") + "/only-local.txt", "only on local\n");
    f.mount();
    REQUIRE(visible(f, "only-sftp.txt"));
    REQUIRE(wait_status(f, "remote", "healthy"));
    CHECK(f.served_by("dup.txt") == "remote");
    CHECK(read_file(f.in_mount("dup.txt")) == "dup from sftp\n");
    CHECK(read_file(f.in_mount("only-sftp.txt")) == "only on sftp\n");
    CHECK(read_file(f.in_mount("only-local.txt")) == "only on local\n");
    CHECK(f.served_by("only-local.txt") == "local");
  }
  SECTION("local first") {
    Fixture f({{"local", 1}}, sshd.origin_toml("remote", 2, music) + kHealth);
    write_file(f.origin_dir("local") + "/dup.txt", "dup from local\n");
    write_file(f.origin_dir("local") + "/only-local.txt", "only on local\n");
    f.mount();
    REQUIRE(visible(f, "only-sftp.txt"));
    REQUIRE(wait_status(f, "remote", "healthy"));
    CHECK(f.served_by("dup.txt") == "local");
    CHECK(read_file(f.in_mount("dup.txt")) == "dup from local\n");
    CHECK(f.served_by("only-sftp.txt") == "remote");
    CHECK(read_file(f.in_mount("only-sftp.txt")) == "only on sftp\n");
  }
}

TEST_CASE("sftp: reads fail over to a local replica when sshd stops and come back after it restarts", "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  Fixture f({{"backup", 2}}, sshd.origin_toml("remote", 1, music) + kHealth);
  std::map<std::string, std::string> data;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "track" + std::to_string(i) + ".bin";
    data[name] = random_bytes(2 * 1024 * 1024 + 7, 10 + static_cast<uint32_t>(i));
    write_file(music + "/" + name, data[name]);
    write_file(f.origin_dir("backup") + "/" + name, data[name]);
  }
  f.mount();
  REQUIRE(visible(f, "track0.bin"));
  REQUIRE(wait_status(f, "remote", "healthy"));
  REQUIRE(wait_status(f, "backup", "healthy"));

  CHECK(f.served_by("track0.bin") == "remote");
  auto r0 = read_all(f.in_mount("track0.bin"));
  REQUIRE(r0.ok);
  CHECK(same_bytes(r0.data, data["track0.bin"]));
  const uint64_t before = bytes_read_of(f, "remote");
  CHECK(before > 0);

  sshd.stop();
  auto r1 = read_all(f.in_mount("track1.bin"));
  INFO("read during the outage: errno " << r1.err << ", " << r1.secs << " s");
  REQUIRE(r1.ok);
  CHECK(same_bytes(r1.data, data["track1.bin"]));
  CHECK(r1.secs < 3.0);
  CHECK(wait_status(f, "remote", "unhealthy"));
  CHECK(f.served_by("track2.bin") == "backup");

  sshd.start();
  REQUIRE(wait_status(f, "remote", "healthy"));
  CHECK(f.served_by("track2.bin") == "remote");
  auto r2 = read_all(f.in_mount("track2.bin"));
  REQUIRE(r2.ok);
  CHECK(same_bytes(r2.data, data["track2.bin"]));
  CHECK(bytes_read_of(f, "remote") > before);  // served by the reconnected origin
}

TEST_CASE("sftp: a frozen sshd costs a read at most read_timeout_ms while local reads proceed", "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  const std::string x = random_bytes(256 * 1024, 20), y = random_bytes(256 * 1024, 21);
  write_file(music + "/warm.bin", "warm\n");
  write_file(music + "/x.bin", x);
  Fixture f({{"local", 2}}, sshd.origin_toml("remote", 1, music) + kHealth);
  write_file(f.origin_dir("local") + "/y.bin", y);
  f.mount();
  REQUIRE(visible(f, "x.bin"));
  REQUIRE(wait_status(f, "remote", "healthy"));
  // A first read opens a pooled session, which then freezes mid-connection. (Not x.bin:
  // its bytes would then come from the cache.)
  REQUIRE(read_all(f.in_mount("warm.bin"), true).ok);

  ThawGuard thaw{sshd};
  sshd.freeze();
  ReadOutcome rx;
  std::thread tx([&] { rx = read_all(f.in_mount("x.bin"), true); });
  std::this_thread::sleep_for(200ms);  // let the read of x reach the frozen server first (not for synchronisation)
  ReadOutcome ry = read_all(f.in_mount("y.bin"), true);
  tx.join();

  INFO("read of y (local) while sshd is frozen: " << ry.secs << " s, errno " << ry.err);
  CHECK(ry.ok);
  CHECK(same_bytes(ry.data, y));
  CHECK(ry.secs < 1.0);
  INFO("read of x (frozen sftp): " << rx.secs << " s, errno " << rx.err);
  CHECK_FALSE(rx.ok);
  CHECK(rx.err == EIO);
  CHECK(rx.secs < 3.0 + 1.5);
}

TEST_CASE("sftp: health checks mark a frozen server unhealthy after three failures and healthy after SIGCONT",
          "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  write_file(music + "/a.txt", "a\n");
  Fixture f({{"local", 2}}, sshd.origin_toml("remote", 1, music) + kHealth);
  write_file(f.origin_dir("local") + "/b.txt", "b\n");
  f.mount();
  REQUIRE(visible(f, "a.txt"));
  REQUIRE(wait_status(f, "remote", "healthy"));
  CHECK(f.origin_status("remote")["unhealthy_threshold"] == 3);

  ThawGuard thaw{sshd};
  sshd.freeze();
  auto frozen_at = Clock::now();
  REQUIRE(wait_status(f, "remote", "unhealthy", 30s));
  const double secs = seconds_since(frozen_at);
  auto o = f.origin_status("remote");
  INFO("status at the switch: " << o.dump());
  CHECK(o["consecutive_failures"].get<int64_t>() >= 3);
  // One failed probe (1.5 s) was not enough: three, a second apart, take over 3 s.
  INFO("seconds from SIGSTOP to unhealthy: " << secs);
  CHECK(secs > 3.0);
  CHECK(last_error_of(f, "remote").find("remote") != std::string::npos);
  CHECK(read_file(f.in_mount("b.txt")) == "b\n");  // the local origin is unaffected

  sshd.thaw();
  CHECK(wait_status(f, "remote", "healthy", 30s));
  CHECK(read_file(f.in_mount("a.txt")) == "a\n");
}

TEST_CASE("sftp: offline, cached files are read with the server gone and uncached ones fail fast", "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  const std::string big = random_bytes(3 * 1024 * 1024 + 99, 30), small = "small file\n";
  write_file(music + "/big.bin", big);
  write_file(music + "/small.txt", small);
  write_file(music + "/never-read.bin", random_bytes(4096, 31));
  Fixture f({}, sshd.origin_toml("remote", 1, music) + kHealth);
  f.mount();
  REQUIRE(visible(f, "big.bin"));
  REQUIRE(wait_status(f, "remote", "healthy"));
  REQUIRE(same_bytes(read_all(f.in_mount("big.bin")).data, big));
  REQUIRE(read_all(f.in_mount("small.txt")).data == small);

  sshd.stop();
  REQUIRE(wait_status(f, "remote", "unhealthy"));
  auto rb = read_all(f.in_mount("big.bin"), true);  // O_DIRECT: from the daemon's cache, not the page cache
  INFO("offline read of big.bin: errno " << rb.err << ", " << rb.secs << " s");
  CHECK(rb.ok);
  CHECK(same_bytes(rb.data, big));
  auto rs = read_all(f.in_mount("small.txt"), true);
  CHECK(rs.ok);
  CHECK(rs.data == small);
  auto ru = read_all(f.in_mount("never-read.bin"), true);
  INFO("offline read of an uncached file: errno " << ru.err << ", " << ru.secs << " s");
  CHECK_FALSE(ru.ok);
  CHECK(ru.err == EIO);
  CHECK(ru.secs < 3.0 + 1.5);
}

namespace {

// A misconfigured sftp origin beside a working local one: the mount works, the local
// files read, the sftp origin turns unhealthy with `expect` (every piece) in its error,
// and the daemon stays up.
void check_refused(SshdServer& sshd, const std::string& sftp_toml, const std::vector<std::string>& expect) {
  Fixture f({{"local", 1}}, sftp_toml + kHealth);
  write_file(f.origin_dir("local") + "/local.txt", "local\n");
  f.mount();
  REQUIRE(visible(f, "local.txt"));
  CHECK(read_file(f.in_mount("local.txt")) == "local\n");
  INFO("daemon log:\n" << f.daemon().log());
  REQUIRE(wait_status(f, "bad", "unhealthy"));
  const std::string err = last_error_of(f, "bad");
  INFO("last_error: " << err);
  CHECK(err.find("origin bad") != std::string::npos);
  for (const auto& piece : expect) CHECK(err.find(piece) != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);
  CHECK(read_file(f.in_mount("local.txt")) == "local\n");
  CHECK(status_of(f, "local") == "healthy");
  CHECK(f.daemon().running());
  (void)sshd;
}

}  // namespace

TEST_CASE("sftp: a key not in authorized_keys is refused with a clear error and no harm to other origins",
          "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  write_file(music + "/a.txt", "a\n");
  check_refused(sshd, sshd.origin_toml("bad", 2, music, sshd.stranger_key()),
                {"refused public-key authentication", sshd.stranger_key()});
}

TEST_CASE("sftp: an unknown host key is refused naming host, port and fingerprint", "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  write_file(music + "/a.txt", "a\n");
  REQUIRE_FALSE(sshd.host_fingerprint().empty());
  check_refused(sshd, sshd.origin_toml("bad", 2, music, "", sshd.empty_known_hosts()),
                {"unknown", "127.0.0.1:" + std::to_string(sshd.port()), sshd.host_fingerprint()});
}

TEST_CASE("sftp: a changed host key is refused naming host, port and fingerprint", "[sftp]") {
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  write_file(music + "/a.txt", "a\n");
  check_refused(sshd, sshd.origin_toml("bad", 2, music, "", sshd.wrong_known_hosts()),
                {"CHANGED", "127.0.0.1:" + std::to_string(sshd.port()), sshd.host_fingerprint()});
}

TEST_CASE("sftp: a path that does not exist on the server is a clear error naming the origin", "[sftp]") {
  SshdServer sshd;
  const std::string missing = sshd.dir() / "no-such-dir";
  check_refused(sshd, sshd.origin_toml("bad", 2, missing), {"does not exist", missing});
}

// The SFTP read pipeline keeps read-ahead requests in flight across reads. Reads that
// continue a stream must use them, and reads that jump (back, forward past them, or
// off the 64 KiB request grid) must never be answered with bytes of another offset.
// The cache is off and the file is read with O_DIRECT, so every read below reaches
// the origin's file at exactly that offset.
TEST_CASE("sftp: streaming reads mixed with jumps back, forward and off the request grid return the right bytes",
          "[sftp]") {
  constexpr size_t kMiB = size_t{1} << 20;
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  const std::string data = random_bytes(24 * kMiB + 4321, 91);
  write_file(music + "/long.flac", data);
  Fixture f({}, sshd.origin_toml("remote", 1, music) + kHealth + "\n[cache]\ncontent_cache_gb = 0\n");
  f.mount();
  REQUIRE(visible(f, "long.flac"));

  int fd = ::open(f.in_mount("long.flac").c_str(), O_RDONLY | O_DIRECT);
  REQUIRE(fd >= 0);
  void* mem = nullptr;
  REQUIRE(::posix_memalign(&mem, 4096, kMiB) == 0);
  std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(mem), &std::free);
  auto check_read = [&](uint64_t offset, size_t length) {
    INFO("read of " << length << " bytes at " << offset);
    ssize_t n = ::pread(fd, buf.get(), length, static_cast<off_t>(offset));
    const size_t want = offset >= data.size() ? 0 : std::min<size_t>(length, data.size() - offset);
    REQUIRE(n == static_cast<ssize_t>(want));
    CHECK(std::memcmp(buf.get(), data.data() + offset, want) == 0);
  };

  for (uint64_t off = 0; off < 8 * kMiB; off += kMiB) check_read(off, kMiB);  // a stream
  check_read(2 * kMiB, kMiB);                                                  // back
  check_read(3 * kMiB, kMiB);                                                  // a stream again
  check_read(20 * kMiB, kMiB);                                                 // far forward
  check_read(5 * kMiB + 4096, 256 * 1024);                                     // off the grid
  for (uint64_t off = 5 * kMiB + 4096 + 256 * 1024; off < 12 * kMiB; off += 512 * 1024) {
    check_read(off, 512 * 1024);                                               // streaming from there
  }
  check_read(24 * kMiB, kMiB);  // the short tail
  check_read(0, 4096);          // the head again, after everything
  ::close(fd);
  CHECK(status_of(f, "remote") == "healthy");
}

TEST_CASE("sftp: a file whose size changed on the server since the listing fails with a clear error", "[sftp]") {
  constexpr size_t kMiB = size_t{1} << 20;
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  write_file(music + "/A/grown.flac", random_bytes(100000, 92));
  const std::string shrinking = random_bytes(kMiB, 93);
  write_file(music + "/A/shrunk.flac", shrinking);
  Fixture f({{"disk", 2}}, sshd.origin_toml("remote", 1, music) + kHealth + "\n[cache]\ncontent_cache_gb = 0\n");
  write_file(f.origin_dir("disk") + "/Disk/y.flac", "local bytes");
  f.mount();
  REQUIRE(visible(f, "A/grown.flac"));
  REQUIRE(visible(f, "A/shrunk.flac"));
  REQUIRE(visible(f, "Disk/y.flac"));
  REQUIRE(wait_status(f, "remote", "healthy"));

  // Replaced behind the index's back (the next listing is minutes away) with a longer
  // file: opening it at the server finds a size the listing did not say. The read
  // fails at once (no retries: it would fail the same way), and the server, which
  // answered every request, is not counted as failing.
  const std::string grown_now = random_bytes(150000, 94);
  write_file(music + "/A/grown.flac", grown_now);
  auto grown = read_all(f.in_mount("A/grown.flac"));
  INFO("read of the grown file: ok " << grown.ok << " errno " << grown.err << " bytes " << grown.data.size());
  // Either the read fails (EIO), or the kernel's retry of the failed read comes after
  // the path was looked up again and gets the new file whole. Never the listed size
  // with the new bytes.
  if (grown.ok) {
    CHECK(same_bytes(grown.data, grown_now));
  } else {
    CHECK(grown.err == EIO);
  }
  CHECK(status_of(f, "remote") == "healthy");
  // That path is looked up again at once: the mount shows the new size and reads the
  // new bytes.
  CHECK(wait_until([&] { return size_of(f.in_mount("A/grown.flac")) == 150000; }, 20s));
  CHECK(same_bytes(read_all(f.in_mount("A/grown.flac")).data, grown_now));

  // Cut short while open: the part that is gone is an error, not zeros or a short file.
  int fd = ::open(f.in_mount("A/shrunk.flac").c_str(), O_RDONLY | O_DIRECT);
  REQUIRE(fd >= 0);
  void* mem = nullptr;
  REQUIRE(::posix_memalign(&mem, 4096, 4096) == 0);
  std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(mem), &std::free);
  const ssize_t head = ::pread(fd, buf.get(), 4096, 0);
  INFO("first read of shrunk.flac: " << head << " errno " << errno << "\ndaemon log:\n" << f.daemon().log());
  REQUIRE(head == 4096);
  CHECK(std::memcmp(buf.get(), shrinking.data(), 4096) == 0);
  REQUIRE(::truncate((music + "/A/shrunk.flac").c_str(), 300000) == 0);
  errno = 0;
  const ssize_t past_end = ::pread(fd, buf.get(), 4096, 512 * 1024);
  const int past_end_errno = errno;
  ::close(fd);
  INFO("read past the new end: " << past_end << " errno " << past_end_errno);
  CHECK(past_end == -1);
  CHECK(past_end_errno == EIO);
  CHECK(status_of(f, "remote") == "healthy");

  const std::string log = f.daemon().log();
  INFO("daemon log:\n" << log);
  CHECK(log.find("origin remote: open /A/grown.flac: the file changed on the server since it was listed (100000 "
                 "bytes then, 150000 now)") != std::string::npos);
  CHECK(log.find("/A/shrunk.flac: the file changed on the server (it ends at byte ") != std::string::npos);
  CHECK(log.find("but was 1048576 bytes when listed and opened); looking it up again") != std::string::npos);
  CHECK(log.find("origin_unhealthy") == std::string::npos);
  CHECK(f.daemon().running());
  CHECK(read_all(f.in_mount("Disk/y.flac")).data == "local bytes");
}

TEST_CASE("sftp: a file opened after a partly read one is served, not held up by the first one's read-ahead",
          "[sftp]") {
  constexpr size_t kMiB = size_t{1} << 20;
  SshdServer sshd;
  const std::string music = sshd.dir() / "music";
  const std::string first = random_bytes(4 * kMiB, 95);
  const std::string second = random_bytes(300000, 96);
  write_file(music + "/first.flac", first);
  write_file(music + "/second.flac", second);
  Fixture f({}, sshd.origin_toml("remote", 1, music) + kHealth + "\n[cache]\ncontent_cache_gb = 0\n");
  f.mount();
  REQUIRE(visible(f, "first.flac"));
  REQUIRE(visible(f, "second.flac"));

  // A read of 96 KiB from the start of a 4 MiB file leaves read requests for the next
  // bytes in flight on its SFTP session; the file is then left (a skipped track).
  int fd = ::open(f.in_mount("first.flac").c_str(), O_RDONLY | O_DIRECT);
  REQUIRE(fd >= 0);
  void* mem = nullptr;
  REQUIRE(::posix_memalign(&mem, 4096, 96 * 1024) == 0);
  std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(mem), &std::free);
  REQUIRE(::pread(fd, buf.get(), 96 * 1024, 0) == 96 * 1024);
  CHECK(std::memcmp(buf.get(), first.data(), 96 * 1024) == 0);
  ::close(fd);

  // The next file opens on the same (most recently used) session: its open and reads
  // must not wait on the replies meant for the first file.
  for (int round = 0; round < 3; ++round) {
    auto r = read_all(f.in_mount("second.flac"));
    INFO("round " << round << ": errno " << r.err << "\ndaemon log:\n" << f.daemon().log());
    REQUIRE(r.ok);
    CHECK(same_bytes(r.data, second));
    REQUIRE(drop_page_cache(f.in_mount("second.flac")));
  }
  CHECK(status_of(f, "remote") == "healthy");
}
