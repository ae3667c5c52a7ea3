// `musicfsctl config check` reads a config with no daemon and names every problem in
// it; `mount` with a bad config never leaves behind a daemon it started.
#include <dirent.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {
std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Pids of the processes whose command line names `needle` (a test's own socket path:
// a daemon started detached is not our child, so this is how to find it).
std::vector<int> processes_naming(const std::string& needle) {
  std::vector<int> pids;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (const dirent* e = ::readdir(d)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmdline.find(needle) != std::string::npos && process_alive(pid)) pids.push_back(pid);
  }
  ::closedir(d);
  return pids;
}

// Stops whatever daemon a `mount` of this test left on `sock`, pass or fail.
struct DetachedDaemonGuard {
  std::string sock;
  ~DetachedDaemonGuard() {
    if (run_ctl({"--socket", sock, "status"}, 5s).exit_code == 0) run_ctl({"--socket", sock, "daemon", "stop"}, 5s);
    for (int pid : processes_naming(sock)) {
      if (!wait_until([&] { return !process_alive(pid); }, 10s)) ::kill(pid, SIGKILL);
    }
  }
};
}  // namespace

TEST_CASE("config check names every problem as FILE:LINE: KEY: message in line order and exits 2", "[config][cli]") {
  TempDir dir;
  const std::string file = dir / "bad.toml";
  write_file(file,
             "mount_point = \"relative\"\n"         // 1
             "bogus = 1\n"                          // 2
             "\n"                                   // 3
             "[health]\n"                           // 4
             "timeout_ms = -5\n"                    // 5
             "retry_delays_ms = [100, \"x\"]\n"     // 6
             "\n"                                   // 7
             "[[origins]]\n"                        // 8
             "id = \"a b\"\n"                       // 9
             "origin_type = \"local\"\n"            // 10
             "priority = 900\n"                     // 11
             "path = \"/srv\"\n"                    // 12
             "\n"                                   // 13
             "[[origins]]\n"                        // 14
             "id = \"two\"\n"                       // 15
             "origin_type = \"lcoal\"\n"            // 16
             "priority = 1\n");                     // 17
  // No daemon anywhere: the socket names a directory that does not exist.
  auto r = run_ctl({"--socket", dir / "none/musicfsd.sock", "config", "check", file});
  INFO("exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  const std::vector<std::string> expected = {
      file + ":1: mount_point: 'relative' must be an absolute path",
      file + ":2: bogus: unknown key",
      file + ":5: health.timeout_ms: -5 is out of range 1-600000",
      file + ":6: health.retry_delays_ms: each delay must be an integer 0-60000 (ms)",
      file + ":9: origins[0].id: 'a b' must be 1-64 characters of letters, digits, '-', '_' or '.'",
      file + ":11: origins[0].priority: 900 is out of range 0-255",
      file + ":16: origins[1].origin_type: unknown origin_type 'lcoal' (one of: local, nfs, smb, s3, sftp, http); "
             "did you mean 'local'?",
  };
  CHECK(lines_of(r.err) == expected);
  CHECK_FALSE(path_exists(dir / "none"));

  SECTION("--json lists the same problems with their lines") {
    auto j = run_ctl({"--json", "config", "check", file});
    REQUIRE(j.exit_code == 2);
    auto doc = nlohmann::json::parse(j.out);
    CHECK(doc["ok"] == false);
    REQUIRE(doc["problems"].size() == expected.size());
    CHECK(doc["problems"][0]["line"] == 1);
    CHECK(doc["problems"][6]["line"] == 16);
    CHECK(doc["problems"][6]["message"] == expected[6]);
  }
}

TEST_CASE("config check passes a good file and checks its mount point", "[config][cli]") {
  TempDir dir;
  mkdirs(dir / "mnt");
  mkdirs(dir / "music");
  const std::string origin = "[[origins]]\nid = \"disk\"\norigin_type = \"local\"\npriority = 1\npath = \"" +
                             (dir / "music") + "\"\n";
  write_file(dir / "good.toml", "mount_point = \"" + (dir / "mnt") + "\"\n" + origin);
  auto ok = run_ctl({"config", "check", dir / "good.toml"});
  INFO("stderr: " << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == dir / "good.toml" + ": ok (1 origin(s), mount point " + (dir / "mnt") + ")\n");
  CHECK(ok.err.empty());

  write_file(dir / "nomnt.toml", "mount_point = \"" + (dir / "absent") + "\"\n" + origin);
  auto missing = run_ctl({"config", "check", dir / "nomnt.toml"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == dir / "nomnt.toml" + ":1: mount_point: '" + (dir / "absent") +
                           "' does not exist (create the directory first)\n");

  auto syntax = run_ctl({"config", "check", (write_file(dir / "syntax.toml", "a = [\n"), dir / "syntax.toml")});
  CHECK(syntax.exit_code == 2);
  CHECK(lines_of(syntax.err).size() == 1);
  CHECK_THAT(syntax.err, Catch::StartsWith(dir / "syntax.toml" + ":"));
  CHECK_THAT(syntax.err, Catch::Contains("invalid TOML"));

  auto absent = run_ctl({"config", "check", dir / "nope.toml"});
  CHECK(absent.exit_code == 2);
  CHECK_THAT(absent.err, Catch::Contains("cannot read config file " + (dir / "nope.toml")));
}

TEST_CASE("mount with a bad config starts no daemon", "[config][cli]") {
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  DetachedDaemonGuard guard{sock};
  write_file(dir / "bad.toml", "mount_point = \"" + (dir / "absent") + "\"\norigins = 3\nbogus = 1\n");
  auto r = run_ctl({"--socket", sock, "mount", "-c", dir / "bad.toml"}, 30s, {{"MUSICFS_STATE_DIR", dir / "state"}});
  INFO("exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  // One line: the first problem, and a pointer to the full list.
  CHECK(lines_of(r.err) == std::vector<std::string>{
                               "musicfsctl: " + dir / "bad.toml" +
                               ":3: bogus: unknown key (and 1 more: see 'musicfsctl config check')"});
  CHECK(run_ctl({"--socket", sock, "status"}, 5s).exit_code == 3);
  CHECK(processes_naming(sock).empty());
  CHECK_FALSE(path_exists(dir / "state"));
}

TEST_CASE("a mount the daemon refuses stops the daemon that mount started", "[config][cli]") {
  require_fuse();
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  DetachedDaemonGuard guard{sock};
  mkdirs(dir / "mnt");
  mkdirs(dir / "music");
  // A cache_dir below a regular file: the file is fine, but the daemon cannot create
  // the cache, so only the daemon finds out.
  write_file(dir / "plain", "x");
  write_file(dir / "musicfs.toml", "mount_point = \"" + (dir / "mnt") + "\"\ncache_dir = \"" + (dir / "plain/cache") +
                                       "\"\n[[origins]]\nid = \"disk\"\norigin_type = \"local\"\npriority = 1\n"
                                       "path = \"" + (dir / "music") + "\"\n");
  auto r = run_ctl({"--socket", sock, "mount", "-c", dir / "musicfs.toml"}, 60s, {{"MUSICFS_STATE_DIR", dir / "state"}});
  INFO("exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(wait_until([&] { return processes_naming(sock).empty(); }, 20s));
  CHECK(run_ctl({"--socket", sock, "status"}, 5s).exit_code == 3);
  CHECK_FALSE(is_mounted(dir / "mnt"));
}

TEST_CASE("a failed mount leaves a daemon that was already running alone", "[config][cli]") {
  require_fuse();
  TempDir dir;
  Daemon d(dir);
  write_file(dir / "plain", "x");
  mkdirs(dir / "mnt");
  write_file(dir / "musicfs.toml", "mount_point = \"" + (dir / "mnt") + "\"\ncache_dir = \"" + (dir / "plain/cache") +
                                       "\"\norigins = []\n");
  auto r = d.ctl({"mount", "-c", dir / "musicfs.toml"});
  CHECK(r.exit_code != 0);
  CHECK(d.running());
  CHECK(d.ctl({"status"}).exit_code == 0);
}

TEST_CASE("config check without FILE checks the default config file", "[config][cli]") {
  TempDir dir;
  mkdirs(dir / "mnt");
  write_file(dir / "xdg/musicfs/config.toml", "mount_point = \"" + (dir / "mnt") + "\"\norigins = []\n");
  auto ok = run_ctl({"config", "check"}, 30s, {{"XDG_CONFIG_HOME", dir / "xdg"}});
  INFO("stderr: " << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::StartsWith(dir / "xdg/musicfs/config.toml" + ": ok (0 origin(s)"));
  auto missing = run_ctl({"config", "check"}, 30s, {{"XDG_CONFIG_HOME", dir / "elsewhere"}});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("cannot read config file " + (dir / "elsewhere/musicfs/config.toml")));
}
