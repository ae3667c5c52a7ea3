// Bounded waits against real hung origins: a FUSE origin whose every call blocks in
// the kernel (tests/support/hangfs.cpp), servers stopped with SIGSTOP (nginx, sshd,
// s3rver), a tmpfs unmounted under a reader. Every time bound is measured from the
// caller's system call, in a fresh process (timed_syscall), five times out of five:
// no syscall on the mount waits past read_timeout_ms plus a small slack, however
// many kernel requests it became, and stopping or unmounting never waits on a hang.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "support/hung_origin.h"
#include "support/nginx_server.h"
#include "support/s3_server.h"
#include "support/sshd_server.h"
#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {

constexpr double kReadTimeoutMs = 2000;
constexpr double kSlackMs = 250;  // the "small slack"
constexpr double kBound = kReadTimeoutMs + kSlackMs;
const std::string kHealth =
    "\n[health]\ncheck_interval_secs = 30\nread_timeout_ms = 2000\ntimeout_ms = 1000\n";

std::string hex_of(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    out += hex[(static_cast<unsigned char>(s[i]) >> 4) & 0xf];
    out += hex[static_cast<unsigned char>(s[i]) & 0xf];
  }
  return out;
}

// A mount of two origins: "hung" (priority 1) is a hangfs mount, "good" (priority 2)
// a plain directory. only-hung.bin is on hung only, both.bin on both, only-good.bin
// on good only.
struct HungSetup {
  Fixture f;
  HungOrigin hung;
  std::string only_hung = random_bytes(300000, 1);
  std::string both = random_bytes(300000, 2);
  std::string only_good = random_bytes(5000, 3);

  explicit HungSetup(const std::string& health = kHealth)
      : f({{"hung", 1}, {"good", 2}}, health), hung(f.dir() / "hung-source", f.origin_dir("hung")) {
    write_file(hung.source() + "/Album/only-hung.bin", only_hung);
    write_file(hung.source() + "/Album/both.bin", both);
    write_file(f.origin_dir("good") + "/Album/both.bin", both);
    write_file(f.origin_dir("good") + "/Album/only-good.bin", only_good);
    f.mount();
    REQUIRE(visible(f, "Album/only-hung.bin"));
    REQUIRE(visible(f, "Album/only-good.bin"));
    REQUIRE(wait_status(f, "hung", "healthy"));
  }
};

void check_bounded(const TimedCall& c, const std::string& what) {
  INFO(what << ": " << c.ms << " ms, errno " << c.err << ", exit " << c.exit_code);
  CHECK(c.exit_code == 0);
  CHECK(c.ms <= kBound);
}

}  // namespace

TEST_CASE("hung origins: every syscall on the mount returns within read_timeout_ms while a FUSE origin blocks",
          "[hung]") {
  require_fuse();
  require_root();
  HungSetup s;
  s.hung.block();

  for (int round = 1; round <= 5; ++round) {
    INFO("round " << round);
    // Only the hung origin holds it: EIO, once, within the bound (the readahead and the
    // kernel's re-sent read must not each wait a fresh timeout).
    auto r = timed_syscall("read", s.f.in_mount("Album/only-hung.bin"), 100);
    check_bounded(r, "read(100) of a file held only by the hung origin");
    CHECK(r.err == EIO);
    // Another origin holds it too: served from there, within the bound.
    auto b = timed_syscall("read", s.f.in_mount("Album/both.bin"), 100, 1000);
    check_bounded(b, "read of a file the good origin holds too");
    CHECK(b.err == 0);
    CHECK(b.data == hex_of(s.both.substr(1000, 100)));
    // The index answers these; none of them may touch the hung origin.
    auto o = timed_syscall("open", s.f.in_mount("Album/only-hung.bin"));
    check_bounded(o, "open");
    CHECK(o.err == 0);
    auto st = timed_syscall("stat", s.f.in_mount("Album/only-hung.bin"));
    check_bounded(st, "stat");
    CHECK(st.err == 0);
    CHECK(st.data == std::to_string(s.only_hung.size()));
    auto d = timed_syscall("readdir", s.f.in_mount("Album"));
    check_bounded(d, "readdir");
    CHECK(d.err == 0);
    CHECK(d.data == "5");  // ., .., three files
    auto x = timed_syscall("getxattr", s.f.in_mount("Album/only-hung.bin"));
    check_bounded(x, "getxattr user.musicfs.origin");
    CHECK(x.err == 0);
    CHECK(x.data == "hung");
    auto g = timed_syscall("read", s.f.in_mount("Album/only-good.bin"), 100);
    check_bounded(g, "read of a file on the good origin");
    CHECK(g.data == hex_of(s.only_good.substr(0, 100)));
  }

  // The origin answers again: its files read back (the stall clears with a probe; the
  // read path tries the only holder even while it counts as unhealthy).
  s.hung.pass();
  bool back = wait_until(
      [&] {
        auto r = timed_syscall("read", s.f.in_mount("Album/only-hung.bin"), 100);
        return r.err == 0 && r.data == hex_of(s.only_hung.substr(0, 100));
      },
      20s);
  INFO("daemon log:\n" << s.f.daemon().log());
  CHECK(back);
}

TEST_CASE("hung origins: a FUSE origin that fails every call with EIO fails reads fast and fails over",
          "[hung]") {
  require_fuse();
  require_root();
  HungSetup s;
  s.hung.fail_eio();
  for (int round = 1; round <= 5; ++round) {
    INFO("round " << round);
    auto r = timed_syscall("read", s.f.in_mount("Album/only-hung.bin"), 100);
    check_bounded(r, "read of a file held only by the failing origin");
    CHECK(r.err == EIO);
    auto b = timed_syscall("read", s.f.in_mount("Album/both.bin"), 100, 5000);
    check_bounded(b, "read of a file the good origin holds too");
    CHECK(b.data == hex_of(s.both.substr(5000, 100)));
  }
  CHECK(wait_status(s.f, "hung", "unhealthy", 10s));
}

TEST_CASE("hung origins: unmount and daemon stop and SIGTERM each finish within 5 s while an origin hangs",
          "[hung]") {
  require_fuse();
  require_root();
  // The default read_timeout_ms (10 s): a reader blocked on the hung origin would hold
  // a stop for that long if stopping waited for it.
  const std::string health = "\n[health]\ncheck_interval_secs = 30\n";
  for (const std::string how : {"unmount", "daemon stop", "SIGTERM"}) {
    DYNAMIC_SECTION(how) {
      HungSetup s(health);
      s.hung.block();
      auto reader = std::async(std::launch::async, [&] {
        return timed_syscall("read", s.f.in_mount("Album/only-hung.bin"), 100, 0, 30s);
      });
      std::this_thread::sleep_for(300ms);  // let the read reach the hung origin
      auto t0 = std::chrono::steady_clock::now();
      if (how == "unmount") {
        auto r = s.f.daemon().ctl({"unmount", s.f.mount_point()}, 20s);
        INFO("unmount: " << r.err);
        CHECK(r.exit_code == 0);
        CHECK_FALSE(is_mounted(s.f.mount_point()));
      } else {
        if (how == "daemon stop") {
          auto r = s.f.daemon().ctl({"daemon", "stop"}, 20s);
          INFO("daemon stop: " << r.err);
          CHECK(r.exit_code == 0);
        } else {
          ::kill(s.f.daemon().pid(), SIGTERM);
        }
        // Done means: the tree is unmounted, the state flushed and the socket gone. The
        // process itself ends only when its I/O threads leave the hung share: a thread
        // blocked in a FUSE request that the share has read cannot be killed, so the
        // kernel holds the exit until the share answers (as with a hard NFS mount).
        bool done = wait_until(
            [&] {
              return !is_mounted(s.f.mount_point()) && !path_exists(s.f.daemon().socket()) &&
                     s.f.daemon().log().find("musicfs daemon stopped") != std::string::npos;
            },
            20s);
        CHECK(done);
      }      double secs = seconds_since(t0);
      INFO(how << " took " << secs << " s\ndaemon log:\n" << s.f.daemon().log());
      CHECK(secs < 5.0);
      auto r = reader.get();
      INFO("the blocked reader: " << r.ms << " ms, errno " << r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.err != 0);
      CHECK(r.ms < 10000);
      if (how != "unmount") {
        // Released, the daemon's threads leave the share and the process exits cleanly.
        s.hung.pass();
        auto st = s.f.daemon().wait_exit(20s);
        REQUIRE(st.has_value());
        CHECK(WIFEXITED(*st));
        CHECK(WEXITSTATUS(*st) == 0);
      }
    }
  }
}

TEST_CASE("hung origins: a share that hangs while listed holds neither the other origins' index nor origins add",
          "[hung]") {
  require_fuse();
  require_root();
  TempDir extra;
  // Probes every second, so that the share, once it answers, is healthy again (two
  // good probes) and listed again within seconds.
  Fixture f({{"hung", 1}, {"good", 2}},
            "\n[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\ntimeout_ms = 1000\n");
  HungOrigin hung(f.dir() / "hung-source", f.origin_dir("hung"));
  write_file(hung.source() + "/Deep/a/b/c.bin", "on the hung share");
  write_file(f.origin_dir("good") + "/first.bin", "first");
  write_file(extra.path() + "/Third/t.bin", "third");
  hung.block();  // its first listing hangs
  f.mount();
  REQUIRE(visible(f, "first.bin"));

  // The good origin's watcher and index keep working while the hung listing waits.
  write_file(f.origin_dir("good") + "/later.bin", "later");
  auto t0 = std::chrono::steady_clock::now();
  CHECK(visible(f, "later.bin", 10s));
  INFO("a new file on the good origin became visible after " << seconds_since(t0) << " s");
  CHECK(seconds_since(t0) < 5.0);

  // origins add waits for its own origin only.
  t0 = std::chrono::steady_clock::now();
  auto add = f.daemon().ctl({"origins", "add", "third", "--type", "local", "--priority", "3", "--path", extra.path()},
                            30s);
  double add_secs = seconds_since(t0);
  INFO("origins add: exit " << add.exit_code << " in " << add_secs << " s: " << add.err);
  CHECK(add.exit_code == 0);
  CHECK(add_secs < 5.0);
  CHECK(path_exists(f.in_mount("Third/t.bin")));

  // The status command answers too.
  auto st = f.daemon().ctl({"status"}, 10s);
  CHECK(st.exit_code == 0);

  // Once the share answers, its files are listed.
  hung.pass();
  CHECK(visible(f, "Deep/a/b/c.bin", 30s));
}

TEST_CASE("hung origins: a tmpfs unmounted under a reader never holds the reader past read_timeout_ms",
          "[hung]") {
  require_fuse();
  require_root();
  Fixture f({{"disk", 1}, {"backup", 2}}, kHealth);
  TmpfsMount tmpfs(f.origin_dir("disk"));
  const std::string data = random_bytes(4 << 20, 9);
  write_file(f.origin_dir("disk") + "/Album/track.flac", data);
  write_file(f.origin_dir("backup") + "/Album/track.flac", data);
  f.mount();
  REQUIRE(visible(f, "Album/track.flac"));
  REQUIRE(wait_status(f, "disk", "healthy"));

  int fd = ::open(f.in_mount("Album/track.flac").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::string got(data.size(), '\0');
  ssize_t first = ::pread(fd, got.data(), 1 << 20, 0);
  REQUIRE(first == 1 << 20);
  tmpfs.unmount_lazy();
  size_t done = static_cast<size_t>(first);
  while (done < data.size()) {
    auto t0 = std::chrono::steady_clock::now();
    ssize_t n = ::pread(fd, got.data() + done, std::min<size_t>(1 << 20, data.size() - done), static_cast<off_t>(done));
    double ms = seconds_since(t0) * 1000;
    INFO("read at " << done << ": " << n << " bytes in " << ms << " ms, errno " << errno);
    CHECK(ms <= kBound);
    REQUIRE(n > 0);
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  CHECK(same_bytes(got, data));
  // New opens go to the backup at once.
  auto r = timed_syscall("read", f.in_mount("Album/track.flac"), 100, 3 << 20);
  check_bounded(r, "read after the tmpfs went away");
  CHECK(r.data == hex_of(data.substr(3 << 20, 100)));
}

namespace {
// Three files on a frozen server, each read in a fresh process: every read returns
// (EIO) within the bound, so the second and third do not each wait a fresh timeout.
void check_frozen_reads(Fixture& f, const std::vector<std::string>& files) {
  for (int round = 1; round <= 5; ++round) {
    for (const auto& rel : files) {
      INFO("round " << round << ", " << rel);
      auto r = timed_syscall("read", f.in_mount(rel), 100);
      check_bounded(r, "read from the frozen server");
      CHECK(r.err == EIO);
    }
  }
  auto st = timed_syscall("stat", f.in_mount(files.front()));
  check_bounded(st, "stat with the server frozen");
  CHECK(st.err == 0);
}
const std::string kRemoteHealth =
    "\n[health]\ncheck_interval_secs = 30\nread_timeout_ms = 2000\ntimeout_ms = 1000\n"
    "\n[cache]\ncontent_cache_gb = 0\n";
}  // namespace

TEST_CASE("hung origins: reads from a SIGSTOPped nginx each return within read_timeout_ms", "[hung][http]") {
  require_fuse();
  NginxServer web;
  Fixture f({}, web.origin_toml("web", 1, "m/") + kRemoteHealth);
  for (int i = 1; i <= 3; ++i) write_file(web.root() + "/m/" + std::to_string(i) + ".flac", random_bytes(1 << 20, i));
  f.mount();
  for (int i = 1; i <= 3; ++i) REQUIRE(visible(f, std::to_string(i) + ".flac"));
  REQUIRE(wait_status(f, "web", "healthy"));
  web.freeze();
  check_frozen_reads(f, {"1.flac", "2.flac", "3.flac"});
  web.thaw();
}

TEST_CASE("hung origins: reads from a SIGSTOPped sshd each return within read_timeout_ms", "[hung][sftp]") {
  require_fuse();
  SshdServer sshd;
  const std::string music = sshd.dir().path() + "/music";
  for (int i = 1; i <= 3; ++i) write_file(music + "/" + std::to_string(i) + ".flac", random_bytes(1 << 20, i));
  Fixture f({}, sshd.origin_toml("remote", 1, music) + kRemoteHealth);
  f.mount();
  for (int i = 1; i <= 3; ++i) REQUIRE(visible(f, std::to_string(i) + ".flac"));
  REQUIRE(wait_status(f, "remote", "healthy"));
  sshd.freeze();
  check_frozen_reads(f, {"1.flac", "2.flac", "3.flac"});
  sshd.thaw();
}

TEST_CASE("hung origins: reads from a SIGSTOPped s3rver each return within read_timeout_ms", "[hung][s3]") {
  require_fuse();
  S3Server server;
  for (int i = 1; i <= 3; ++i) server.put(std::to_string(i) + ".flac", random_bytes(1 << 20, i));
  Fixture f({}, s3_origin_toml(server, "cloud", 1) + kRemoteHealth);
  f.mount();
  for (int i = 1; i <= 3; ++i) REQUIRE(visible(f, std::to_string(i) + ".flac"));
  REQUIRE(wait_status(f, "cloud", "healthy"));
  server.freeze();
  check_frozen_reads(f, {"1.flac", "2.flac", "3.flac"});
  server.thaw();
}
