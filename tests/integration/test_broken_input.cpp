// Broken and hostile input that reaches the daemon through files: config files that
// are not files (or are huge), configs that overlap the mount with an origin, damaged
// state and cache databases, a cache disk that fills up, and the mode of every file
// the daemon creates. Each case runs a real daemon on real files.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "support/sized_tmpfs.h"
#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;
using Catch::Contains;
using Catch::StartsWith;

namespace {

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// Every regular file below `dir`, by path.
std::vector<std::string> files_below(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

// Files in `dir` whose name starts with `prefix`.
std::vector<std::string> names_starting(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Writes garbage over every page of a SQLite file but the first and the last: the
// header still says "SQLite format 3", the b-trees behind it are noise.
void corrupt_middle_pages(const std::string& path) {
  constexpr off_t kPage = 4096;  // SQLite's default page size, which musicfs keeps
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE(st.st_size >= 3 * kPage);
  std::mt19937 rng(14);
  std::string garbage(static_cast<size_t>(st.st_size - 2 * kPage), '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const ssize_t n = ::pwrite(fd, garbage.data(), garbage.size(), kPage);
  ::close(fd);
  REQUIRE(n == static_cast<ssize_t>(garbage.size()));
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Stops the fixture's daemon cleanly (its databases are checkpointed and closed).
void stop_daemon(Fixture& f) {
  auto stop = f.daemon().ctl({"daemon", "stop"});
  INFO("daemon stop: " << stop.err);
  REQUIRE(stop.exit_code == 0);
  REQUIRE(f.daemon().wait_exit(20s).has_value());
}

bool has_event_kind(const nlohmann::json& events, const std::string& kind) {
  for (const auto& e : events["events"]) {
    if (e.value("kind", "") == kind) return true;
  }
  return false;
}

// Restores the umask when the test ends, however it ends.
struct UmaskGuard {
  mode_t old;
  explicit UmaskGuard(mode_t m) : old(::umask(m)) {}
  ~UmaskGuard() { ::umask(old); }
};

}  // namespace

TEST_CASE("mount -c of a FIFO or a directory or a device or a huge file exits 2 at once and names the file",
          "[broken][config]") {
  TempDir dir;
  Daemon d(dir);
  const std::string fifo = dir / "fifo.toml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string huge = dir / "huge.toml";
  write_file(huge, "# " + std::string(2u << 20, 'x') + "\n");
  mkdirs(dir / "conf.d");
  struct Case {
    std::string path, why;
  };
  for (const Case& c : {Case{fifo, "is a FIFO, not a regular file"}, Case{dir / "conf.d", "is a directory, not a regular file"},
                        Case{"/dev/zero", "is a character device, not a regular file"},
                        Case{huge, "is larger than 1024 KiB"}}) {
    // A FIFO with no writer would block a reader forever: the bound is the promise.
    auto r = d.ctl({"mount", "--config", c.path}, 10s);
    INFO("mount -c " << c.path << ": exit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Contains("config file " + c.path + ": " + c.why));
  }
  // The daemon was not hurt: it answers, and mounted nothing.
  auto st = d.ctl_json({"status"});
  CHECK(st["mounts"].empty());
}

TEST_CASE("an empty origins array mounts an empty tree that origins add fills", "[broken][config]") {
  require_fuse();
  Fixture f(std::vector<OriginSpec>{});
  f.write_config("mount_point = \"" + f.mount_point() + "\"\ncache_dir = \"" + f.dir().path() + "/cache\"\norigins = []\n");
  f.mount();
  CHECK(std::filesystem::is_empty(f.mount_point()));
  write_file(f.dir() / "later/Artist/01.flac", "added later");
  auto add = f.daemon().ctl({"origins", "add", "later", "--type", "local", "--priority", "1", "--path", f.dir() / "later"});
  INFO("origins add: " << add.err);
  REQUIRE(add.exit_code == 0);
  CHECK(read_file(f.in_mount("Artist/01.flac")) == "added later");
}

TEST_CASE("an origin setting checked when the origin is built is reported at its FILE:LINE", "[broken][config]") {
  require_fuse();
  Fixture f(std::vector<OriginSpec>{});
  // Line numbers matter: the [[origins]] table starts on line 4.
  const std::string head = "mount_point = \"" + f.mount_point() + "\"\ncache_dir = \"" + f.dir().path() + "/cache\"\n\n";
  SECTION("an http url that is not http(s)") {
    f.write_config(head + "[[origins]]\nid = \"web\"\norigin_type = \"http\"\npriority = 1\nurl = \"ftp://example.org/music/\"\n");
    auto r = f.try_mount();
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(f.config_path() + ":4: origin 'web': url must start with http:// or https://"));
  }
  SECTION("an s3 bucket that is not a bucket name") {
    f.write_config(head + "[[origins]]\nid = \"cloud\"\norigin_type = \"s3\"\npriority = 1\nbucket = \"Not A Bucket!\"\n");
    auto r = f.try_mount();
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(f.config_path() + ":4: origin cloud: bucket: 'Not A Bucket!' is not a bucket name"));
  }
  SECTION("an s3 endpoint that is not a URL") {
    f.write_config(head +
                   "[[origins]]\nid = \"cloud\"\norigin_type = \"s3\"\npriority = 1\nbucket = \"music\"\nendpoint = \"s3.local\"\n");
    auto r = f.try_mount();
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(f.config_path() + ":4: origin cloud: endpoint: 's3.local' is not an http:// or https:// URL"));
  }
  CHECK(f.daemon().ctl_json({"status"})["mounts"].empty());
}

TEST_CASE("a mount point that overlaps a local origin is refused in the file and at run time", "[broken][config]") {
  require_fuse();
  Fixture f({{"a", 1}});
  write_file(f.origin_dir("a") + "/01.flac", "a");
  SECTION("the mount point inside the origin") {
    const std::string inner = f.origin_dir("a") + "/mnt";
    mkdirs(inner);
    f.write_config(f.default_config());  // its [[origins]] table starts on line 4
    auto r = f.daemon().ctl({"mount", "--config", f.config_path(), inner});
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Contains(f.config_path() + ":4: origin 'a': path '" + f.origin_dir("a") +
                               "' contains the mount point " + inner));
    CHECK(f.daemon().ctl_json({"status"})["mounts"].empty());
  }
  SECTION("an origin added at run time whose path is the mount point") {
    f.mount();
    auto r = f.daemon().ctl({"origins", "add", "loop", "--type", "local", "--priority", "2", "--path", f.mount_point()});
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Contains("origins add: origin 'loop': path '" + f.mount_point() + "' is the mount point itself"));
    // The mount goes on serving, without the refused origin.
    CHECK(read_file(f.in_mount("01.flac")) == "a");
    CHECK(f.origin_status("loop").is_null());
  }
}

TEST_CASE("every file the daemon creates is 0600 whatever the umask and the modes of its directories", "[broken][private]") {
  require_fuse();
  UmaskGuard umask_guard(022);
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  const std::string state = dir / "state";
  const std::string cache = dir / "cache";
  const std::string mnt = dir / "mnt";
  for (const auto& d : {state, cache, mnt}) {
    mkdirs(d);
    ::chmod(d.c_str(), 0755);
  }
  write_file(dir / "music/Artist/01.flac", random_bytes(300000, 1));
  const std::string config = dir / "musicfs.toml";
  write_file(config, "mount_point = \"" + mnt + "\"\ncache_dir = \"" + cache +
                         "\"\n\n[[origins]]\nid = \"a\"\norigin_type = \"local\"\npriority = 1\npath = \"" + (dir / "music") +
                         "\"\ncache = true\n");
  // The detached daemon (not our child) writes its log in the state directory.
  struct Guard {
    std::string sock;
    ~Guard() {
      if (run_ctl({"--socket", sock, "status"}, 5s).exit_code == 0) run_ctl({"--socket", sock, "daemon", "stop"}, 10s);
    }
  } guard{sock};
  auto r = run_ctl({"--socket", sock, "mount", "--config", config}, 60s, {{"MUSICFS_STATE_DIR", state}});
  INFO("mount: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(mnt + "/Artist/01.flac") == random_bytes(300000, 1));
  // The chunk is written in the background; its segment file is one of those checked.
  REQUIRE(wait_until([&] {
    auto st = run_ctl({"--socket", sock, "--json", "cache", "stat"});
    return st.exit_code == 0 && nlohmann::json::parse(st.out)["mounts"][0].value("chunks", 0) >= 1;
  }));
  auto files = files_below(state);
  auto cached = files_below(cache);
  files.insert(files.end(), cached.begin(), cached.end());
  const auto has = [&](const std::string& p) { return std::find(files.begin(), files.end(), p) != files.end(); };
  CHECK(has(state + "/musicfs.db"));
  CHECK(has(state + "/musicfs.db-wal"));
  CHECK(has(state + "/musicfs.db-shm"));
  CHECK(has(state + "/musicfsd.log"));
  CHECK(has(cache + "/cache.db"));
  CHECK(has(cache + "/cache.db-wal"));
  CHECK(std::any_of(files.begin(), files.end(), [&](const std::string& p) { return p.rfind(cache + "/segments/", 0) == 0; }));
  for (const auto& p : files) {
    INFO(p);
    CHECK(mode_of(p) == 0600);
  }
}

TEST_CASE("a cache.db with garbage in its middle pages is replaced by an empty cache and an event says so",
          "[broken][cache]") {
  require_fuse();
  Fixture f({{"a", 1, "local", true}});  // cached: a local origin is not by default
  constexpr int kFiles = 40;
  for (int i = 0; i < kFiles; ++i) write_file(f.origin_dir("a") + "/f" + std::to_string(i) + ".flac", random_bytes(5000, i));
  f.mount();
  for (int i = 0; i < kFiles; ++i) REQUIRE(read_file(f.in_mount("f" + std::to_string(i) + ".flac")) == random_bytes(5000, i));
  REQUIRE(wait_until([&] { return f.daemon().ctl_json({"cache", "stat"})["mounts"][0].value("chunks", 0) == kFiles; }));
  stop_daemon(f);
  const std::string db = f.dir() / "cache/cache.db";
  corrupt_middle_pages(db);

  f.daemon().restart();
  f.mount();  // the damaged catalog does not stop the mount
  for (int i = 0; i < kFiles; ++i) CHECK(read_file(f.in_mount("f" + std::to_string(i) + ".flac")) == random_bytes(5000, i));
  auto resets = f.events("cache_reset");
  REQUIRE(resets.size() == 1);
  CHECK_THAT(resets[0].value("message", ""), Contains(db));
  CHECK(count_of(f.daemon().log(), "content cache catalog " + db + " is damaged") == 1);
  // The fresh cache works: what was just read is cached again.
  CHECK(wait_until([&] { return f.daemon().ctl_json({"cache", "stat"})["mounts"][0].value("chunks", 0) == kFiles; }));
}

TEST_CASE("a damaged state database is moved aside and a fresh one started and an event says so", "[broken][state]") {
  TempDir dir;
  const std::string state = dir / "state";
  const std::string db = state + "/musicfs.db";
  SECTION("a zero-byte musicfs.db") {
    mkdirs(state);
    ::chmod(state.c_str(), 0700);
    write_file(db, "");
  }
  SECTION("a musicfs.db with garbage in its middle pages") {
    {
      Daemon first(dir);
      // Give the database something to lose.
      REQUIRE(first.ctl({"events"}).exit_code == 0);
      REQUIRE(first.ctl({"daemon", "stop"}).exit_code == 0);
      REQUIRE(first.wait_exit(20s).has_value());
    }
    corrupt_middle_pages(db);
  }
  Daemon d(dir);
  auto aside = names_starting(state, "musicfs.db.corrupt-");
  INFO("daemon log:\n" << d.log());
  REQUIRE(aside.size() == 1);
  CHECK(aside[0].size() == std::string("musicfs.db.corrupt-YYYYMMDDTHHMMSS").size());
  auto events = d.ctl_json({"events"});
  REQUIRE(has_event_kind(events, "state_reset"));
  for (const auto& e : events["events"]) {
    if (e.value("kind", "") != "state_reset") continue;
    CHECK_THAT(e.value("message", ""), Contains(db) && Contains(state + "/" + aside[0]));
  }
  CHECK(count_of(d.log(), "state database " + db + " is damaged") == 1);
  // The fresh database is sound and in use: a restart finds nothing wrong with it.
  REQUIRE(d.ctl({"daemon", "stop"}).exit_code == 0);
  REQUIRE(d.wait_exit(20s).has_value());
  d.restart();
  CHECK(names_starting(state, "musicfs.db.corrupt-").size() == 1);
  CHECK(has_event_kind(d.ctl_json({"events"}), "state_reset"));  // the event survived the restart
}

TEST_CASE("a cache filesystem that fills up lowers the cache's cap once and reads stay correct", "[broken][cache]") {
  require_fuse();
  require_root();
  Fixture f({{"a", 1, "local", true}});  // cached: a local origin is not by default
  constexpr int kFiles = 4;
  constexpr size_t kSize = 3u << 20;
  for (int i = 0; i < kFiles; ++i) write_file(f.origin_dir("a") + "/big" + std::to_string(i) + ".flac", random_bytes(kSize, 100 + i));
  // 8 MiB for 12 MiB of music (the configured cap is the default 10 GiB).
  SizedTmpfs disk(f.dir() / "cache", 8u << 20);
  f.mount();
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kFiles; ++i) {
      INFO("round " << round << ", file " << i);
      CHECK(read_file(f.in_mount("big" + std::to_string(i) + ".flac")) == random_bytes(kSize, 100 + i));
    }
  }
  const std::string warning = "the cache filesystem is full";
  REQUIRE(wait_until([&] { return f.daemon().log().find(warning) != std::string::npos; }));
  auto st = f.daemon().ctl_json({"cache", "stat"})["mounts"][0];
  CHECK(st["capped_by_disk"] == true);
  CHECK(st["capacity_bytes"].get<uint64_t>() < (8u << 20));
  CHECK(st["capacity_bytes"].get<uint64_t>() < st["configured_capacity_bytes"].get<uint64_t>());
  // Eviction follows each write on the writer thread: used comes down to the cap.
  CHECK(wait_until([&] {
    auto now = f.daemon().ctl_json({"cache", "stat"})["mounts"][0];
    return now["used_bytes"].get<uint64_t>() <= now["capacity_bytes"].get<uint64_t>();
  }));
  auto human = f.daemon().ctl({"cache", "stat"});
  CHECK_THAT(human.out, Contains("(lowered: the cache filesystem is full)"));
  CHECK(count_of(f.daemon().log(), warning) == 1);
}

TEST_CASE("entries with paths of PATH_MAX bytes or more are counted in status and logged once", "[broken][index]") {
  require_fuse();
  Fixture f({{"a", 1}});
  write_file(f.origin_dir("a") + "/short.flac", "short");
  // 20 directories of 200-byte names: the deepest is 4020 bytes below the root, and
  // an absolute path that long cannot be made in one call, so it is built level by level.
  int fd = ::open(f.origin_dir("a").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  for (int level = 0; level < 20; ++level) {
    const std::string name = std::to_string(level) + std::string(200 - std::to_string(level).size(), 'd');
    REQUIRE(::mkdirat(fd, name.c_str(), 0755) == 0);
    int sub = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    REQUIRE(sub >= 0);
    fd = sub;
  }
  auto make_file = [&](const std::string& name) {
    int file = ::openat(fd, name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(file >= 0);
    ::close(file);
  };
  make_file("fits.flac");                         // 4030 bytes: indexed
  make_file(std::string(100, 'f') + ".flac");     // 4126 bytes: skipped
  REQUIRE(::mkdirat(fd, std::string(150, 'x').c_str(), 0755) == 0);  // 4171 bytes: skipped
  ::close(fd);

  f.mount();
  REQUIRE(wait_until([&] { return f.status()["mounts"][0].value("index_ready", false); }));
  CHECK(read_file(f.in_mount("short.flac")) == "short");
  auto o = f.origin_status("a");
  CHECK(o["skipped_long_paths"] == 2);
  CHECK(o["files"] == 2);  // short.flac and fits.flac
  auto human = f.daemon().ctl({"status"});
  CHECK_THAT(human.out, Contains("a skipped: 2 entries with paths of 4096 bytes or more or names longer than 255 bytes"));
  CHECK(count_of(f.daemon().log(), "origin a: skipped 2 entries with paths of 4096 bytes or more") == 1);
}
