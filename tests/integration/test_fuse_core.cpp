// The FUSE core on the low-level API against the real kernel: node ids come and go
// with the kernel's lookups and forgets, and paths resolve through them throughout.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <unistd.h>
#include <string>

#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {

// musicfs_mount_kernel_inodes of the fixture's mount, from `musicfsctl metrics`.
double kernel_inodes(const Fixture& f) {
  auto r = f.daemon().ctl({"metrics"});
  REQUIRE(r.exit_code == 0);
  const std::string head = "musicfs_mount_kernel_inodes{";
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, head.size(), head) == 0) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  FAIL("no musicfs_mount_kernel_inodes in:\n" << r.out);
  return -1;
}

std::string content_of(int album, int track) {
  return "album " + std::to_string(album) + " track " + std::to_string(track) + "\n";
}

}  // namespace

TEST_CASE("fuse core: the kernel's forgets shrink the inode table and every path still resolves", "[fuse]") {
  require_fuse();
  require_root();  // drop_caches
  Fixture f({{"a", 1}}, "[health]\ncheck_interval_secs = 1\n");
  for (int album = 0; album < 5; ++album) {
    for (int track = 0; track < 10; ++track) {
      write_file(f.origin_dir("a") + "/Artist/Album " + std::to_string(album) + "/" + std::to_string(track) + ".flac",
                 content_of(album, track));
    }
  }
  f.mount();
  REQUIRE(visible(f, "Artist/Album 4/9.flac"));
  // A health change invalidates the origin's paths (and the kernel then forgets them):
  // let it happen before counting.
  REQUIRE(wait_status(f, "a", "healthy"));

  auto walk = [&] {
    size_t seen = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(f.mount_point())) {
      struct stat st {};
      REQUIRE(::stat(e.path().c_str(), &st) == 0);
      ++seen;
    }
    return seen;
  };
  // The root, Artist, 5 albums, 50 tracks. drop_caches is system-wide, and another
  // test may drop between the walk and the count: walk again until a count follows one.
  double after_walk = 0;
  CHECK(wait_until(
      [&] {
        REQUIRE(walk() == 56);
        after_walk = kernel_inodes(f);
        return after_walk >= 57;
      },
      10s));

  // The kernel drops its unused dentries and inodes, and forgets their node ids.
  bool shrunk = wait_until(
      [&] {
        std::ofstream("/proc/sys/vm/drop_caches") << "2";
        return kernel_inodes(f) < after_walk;
      },
      10s);
  CHECK(shrunk);

  // Looked up again from the root: new node ids, the same paths and bytes.
  for (int album = 0; album < 5; ++album) {
    auto r = read_all(f.in_mount("Artist/Album " + std::to_string(album) + "/7.flac"));
    REQUIRE(r.ok);
    CHECK(r.data == content_of(album, 7));
  }
  CHECK(wait_until([&] { return walk() == 56 && kernel_inodes(f) >= 57; }, 10s));
}

TEST_CASE("fuse core: a listing shows . and .. and every entry with its type and size", "[fuse]") {
  require_fuse();
  Fixture f({{"a", 1}, {"b", 2}});
  write_file(f.origin_dir("a") + "/Album/both.flac", "primary copy\n");
  write_file(f.origin_dir("b") + "/Album/both.flac", "the backup's longer copy\n");
  write_file(f.origin_dir("b") + "/Album/Disc 2/only-b.flac", "b\n");
  f.mount();
  REQUIRE(visible(f, "Album/Disc 2/only-b.flac"));

  auto r = run_program({"/bin/ls", "-la", "--time-style=+", f.in_mount("Album")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(" .\n") != std::string::npos);
  CHECK(r.out.find(" ..\n") != std::string::npos);
  CHECK(r.out.find("Disc 2") != std::string::npos);
  // The attributes the listing carried are the serving origin's (a, priority 1).
  struct stat st {};
  REQUIRE(::stat(f.in_mount("Album/both.flac").c_str(), &st) == 0);
  CHECK(st.st_size == 13);
  CHECK(S_ISDIR([&] {
    struct stat d {};
    REQUIRE(::stat(f.in_mount("Album/Disc 2").c_str(), &d) == 0);
    return d.st_mode;
  }()));
}

// Several scanners at once open, read and close the same directories, so one worker
// answers a directory's last read while another takes its RELEASEDIR. (A handle's lock
// held across the reply once let the second free it under the first: heap corruption
// in optimised builds, invisible to ASan because the write was libc's mutex unlock.)
TEST_CASE("fuse core: parallel scanners opening and closing directories leave the daemon serving", "[fuse]") {
  require_fuse();
  Fixture f({{"a", 1}, {"b", 2}});
  constexpr int kAlbums = 40;
  constexpr int kTracks = 12;
  for (int album = 0; album < kAlbums; ++album) {
    for (int track = 0; track < kTracks; ++track) {
      const std::string rel = "/Artist/Album " + std::to_string(album) + "/" + std::to_string(track) + ".flac";
      write_file(f.origin_dir(track % 2 == 0 ? "a" : "b") + rel, content_of(album, track));
    }
  }
  f.mount();
  REQUIRE(visible(f, "Artist/Album " + std::to_string(kAlbums - 1) + "/" + std::to_string(kTracks - 1) + ".flac"));

  // find prints the root, Artist, the albums and the tracks.
  const std::string expected = std::to_string(2 + kAlbums + kAlbums * kTracks);
  for (int round = 0; round < 5; ++round) {
    // The kernel keeps listings it was given; dropping its dentries and inodes makes
    // every round ask the daemon again (root only; otherwise later rounds are cached).
    if (::geteuid() == 0) std::ofstream("/proc/sys/vm/drop_caches") << "2";
    std::vector<std::future<CommandResult>> scans;
    for (int i = 0; i < 4; ++i) {
      scans.push_back(std::async(std::launch::async, [&] {
        return run_program({"/bin/sh", "-c", "find \"$1\" | wc -l", "sh", f.mount_point()});
      }));
    }
    for (auto& s : scans) {
      auto r = s.get();
      INFO("round " << round << ": " << r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(r.out == expected + "\n");
    }
  }
  REQUIRE(f.daemon().ctl({"status"}).exit_code == 0);
  auto r = read_all(f.in_mount("Artist/Album 7/3.flac"));
  REQUIRE(r.ok);
  CHECK(r.data == content_of(7, 3));
}
