// Other users and the mount: a music server runs as its own account. With
// `allow_other = true` it reads the tree (the kernel still checks each file's mode:
// default_permissions); without it the kernel refuses every other uid. A daemon that
// is not root and may not use allow_other (fuse.conf) says so in one line.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNobody = "65534";

// `cat PATH` as uid/gid 65534 with no supplementary groups, in a fresh process.
CommandResult cat_as_nobody(const std::string& path) {
  return run_program({"setpriv", "--reuid=" + std::string(kNobody), "--regid=" + std::string(kNobody), "--clear-groups",
                      "cat", path},
                     10s);
}

bool have_setpriv() { return ::access("/usr/bin/setpriv", X_OK) == 0; }

// The fixture's directory is 0700 (mkdtemp): other users must be able to reach the
// mount point below it.
void open_to_others(const TempDir& dir) { REQUIRE(::chmod(dir.path().c_str(), 0755) == 0); }

bool fuse_conf_allows_other() {
  std::ifstream in("/etc/fuse.conf");
  for (std::string line; std::getline(in, line);) {
    auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] != '#' && line.find("user_allow_other") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("with allow_other another uid reads a file through the mount", "[users]") {
  require_fuse();
  require_root();
  if (!have_setpriv()) skip_test("setpriv is missing (util-linux)");
  Fixture f({{"lib", 1}});
  open_to_others(f.dir());
  write_file(f.origin_dir("lib") + "/Artist/Album/01 Track.flac", "music for everyone\n");
  f.write_config("allow_other = true\n" + f.default_config());
  f.mount();
  auto r = cat_as_nobody(f.in_mount("Artist/Album/01 Track.flac"));
  INFO("exit " << r.exit_code << " stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "music for everyone\n");
}

TEST_CASE("without allow_other another uid gets EACCES on the mount", "[users]") {
  require_fuse();
  require_root();
  if (!have_setpriv()) skip_test("setpriv is missing (util-linux)");
  Fixture f({{"lib", 1}});
  open_to_others(f.dir());
  write_file(f.origin_dir("lib") + "/Artist/Album/01 Track.flac", "only for the mounting user\n");
  f.mount();
  // The mounting user (root here) reads it...
  CHECK(read_file(f.in_mount("Artist/Album/01 Track.flac")) == "only for the mounting user\n");
  // ...another uid does not: the kernel refuses before musicfs sees the request.
  auto r = cat_as_nobody(f.in_mount("Artist/Album/01 Track.flac"));
  INFO("exit " << r.exit_code << " stderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("Permission denied") != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("allow_other is a boolean and a wrong type is one line with FILE:LINE", "[users]") {
  TempDir dir;
  const std::string config = dir / "bad.toml";
  write_file(config, "mount_point = \"" + dir.path() + "\"\nallow_other = \"yes\"\n");
  // No daemon needed to refuse it: a mount on a socket where none runs would exit 3,
  // so start one.
  Daemon d(dir);
  auto r = d.ctl({"mount", "--config", config});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(config + ":2: allow_other: expected true or false") != std::string::npos);
}

TEST_CASE("a daemon that is not root says which fuse.conf line allow_other needs", "[users]") {
  require_fuse();
  require_root();
  if (!have_setpriv()) skip_test("setpriv is missing (util-linux)");
  if (fuse_conf_allows_other()) skip_test("/etc/fuse.conf here has user_allow_other: the refusal cannot happen");
  if (::access("/usr/bin/fusermount3", X_OK) != 0) skip_test("fusermount3 is missing (fuse3)");
  TempDir dir;
  // Everything the unprivileged daemon writes is below a directory it owns.
  const std::string home = dir / "home";
  mkdirs(home + "/origin");
  mkdirs(home + "/mnt");
  write_file(home + "/origin/track.flac", "x");
  const std::string config = home + "/music.toml";
  const std::string rest = "mount_point = \"" + home + "/mnt\"\ncache_dir = \"" + home +
                           "/cache\"\n\n[[origins]]\nid = \"lib\"\norigin_type = \"local\"\npriority = 1\npath = \"" + home +
                           "/origin\"\n";
  std::vector<std::string> mount_args = {"mount", "--config", config};
  std::string names;  // what the one line points at
  SECTION("allow_other = true in the config file") {
    write_file(config, "allow_other = true\n" + rest);
    names = config + ":1: ";
  }
  SECTION("mount -o allow_other over a config file without it") {
    write_file(config, rest);
    mount_args.insert(mount_args.end(), {"-o", "allow_other"});
    names = "mount -o: ";
  }
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  REQUIRE(run_program({"chown", "-R", std::string(kNobody) + ":" + kNobody, home}).exit_code == 0);
  const std::string sock = home + "/run/musicfsd.sock";
  auto as_nobody = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"env",          "HOME=" + home,        "XDG_RUNTIME_DIR=" + home + "/run",
                                     "setpriv",      "--reuid=65534",       "--regid=65534",
                                     "--clear-groups", MUSICFSCTL_PATH,      "--socket",
                                     sock};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, 30s);
  };
  auto r = as_nobody(mount_args);
  INFO("exit " << r.exit_code << " stdout: " << r.out << " stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(names + "allow_other: not allowed for users other than root: add the line "
                           "'user_allow_other' to /etc/fuse.conf") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(is_mounted(home + "/mnt"));
  // The daemon `mount` started keeps running; stop it (and wait for its socket to go).
  (void)as_nobody({"daemon", "stop"});
  CHECK(wait_until([&] { return !path_exists(sock); }, 10s));
}
