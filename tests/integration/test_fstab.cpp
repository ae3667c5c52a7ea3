// Mounting from fstab and with mount(8): `mount -t fuse.musicfs CONFIG MNT -o ...`
// runs mount.fuse3, which runs `musicfs CONFIG MNT -o ...` through /bin/sh, which
// execs musicfsctl mount. Also `musicfsctl mount -o OPTIONS` and its default config.
//
// mount(8) drops PATH from the environment, so /bin/sh finds `musicfs` on its own
// default PATH, whose first entry is /usr/local/sbin. To test that real lookup without
// installing anything on the machine, each test runs mount(8) in a private mount
// namespace (unshare -m) where a directory of its own, holding a `musicfs` symlink to
// the build's helper, covers /usr/local/sbin. The daemon that mount starts lives in
// that namespace, and so does the FUSE mount: the test looks at it through nsenter,
// and when the daemon stops the namespace and the mount go with it. MUSICFS_SOCKET
// and MUSICFS_STATE_DIR do pass through mount(8) and mount.fuse3, so every test has
// its own daemon and the tests run in parallel.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kShellPathDir = "/usr/local/sbin";  // first in dash's (and bash's) default PATH
constexpr const char* kTrack = "Artist/Album/01 Track.flac";
constexpr const char* kMusic = "music from fstab\n";

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }
bool executable(const std::string& p) { return ::access(p.c_str(), X_OK) == 0; }

void require_mount_chain() {
  require_fuse();
  require_root();
  if (!executable("/usr/bin/unshare") || !executable("/usr/bin/nsenter")) skip_test("unshare or nsenter is missing");
  if (!executable("/usr/bin/setpriv")) skip_test("setpriv is missing (util-linux)");
  if (!executable("/sbin/mount.fuse") && !executable("/usr/sbin/mount.fuse")) {
    skip_test("mount.fuse is missing (fuse3): mount(8) cannot run a fuse.TYPE helper");
  }
  struct stat st {};
  if (::stat(kShellPathDir, &st) != 0 || !S_ISDIR(st.st_mode)) skip_test("/usr/local/sbin is not a directory");
  if (run_program({"unshare", "--mount", "--propagation", "private", "true"}, 10s).exit_code != 0) {
    skip_test("cannot make a private mount namespace (unshare -m)");
  }
}

// One test's musicfs "installation": an origin, a config, a mount point, a socket and
// a state dir, all under one TempDir, and the daemon that mount(8) starts.
class Installed {
 public:
  Installed() {
    // Other uids must reach the mount point below the 0700 mkdtemp directory.
    REQUIRE(::chmod(dir_.path().c_str(), 0755) == 0);
    write_file(dir_ / "origins/lib/" + kTrack, kMusic);
    mkdirs(mount_point());
    write_file(config(), "mount_point = \"" + mount_point() + "\"\ncache_dir = \"" + (dir_ / "cache") +
                             "\"\n\n[[origins]]\nid = \"lib\"\norigin_type = \"local\"\npriority = 1\npath = \"" +
                             (dir_ / "origins/lib") + "\"\n");
    mkdirs(dir_ / "sbin");
    REQUIRE(::symlink(MUSICFS_HELPER_PATH, (dir_ / "sbin/musicfs").c_str()) == 0);
  }
  ~Installed() {
    // The daemon is not our child: ask it to stop, then make sure. Its mount namespace,
    // and the FUSE mount in it, end with it.
    int pid = daemon_pid();
    if (pid <= 0) return;
    run_ctl({"--socket", socket(), "daemon", "stop"}, 10s);
    if (!wait_until([&] { return !process_alive(pid); }, 20s)) ::kill(pid, SIGKILL);
  }
  Installed(const Installed&) = delete;
  Installed& operator=(const Installed&) = delete;

  const TempDir& dir() const { return dir_; }
  std::string config() const { return dir_ / "musicfs.toml"; }
  std::string mount_point() const { return dir_ / "mnt"; }
  std::string socket() const { return dir_ / "run/musicfsd.sock"; }
  std::map<std::string, std::string> env() const {
    return {{"MUSICFS_SOCKET", socket()}, {"MUSICFS_STATE_DIR", dir_ / "state"}};
  }

  // argv as root on a system where musicfs is installed in /usr/local/sbin.
  CommandResult run_installed(const std::vector<std::string>& argv) const {
    std::vector<std::string> a = {"unshare", "--mount", "--propagation", "private", "--",
                                  "/bin/sh", "-c",      "mount --bind \"$0\" /usr/local/sbin && exec \"$@\"",
                                  dir_ / "sbin"};
    a.insert(a.end(), argv.begin(), argv.end());
    return run_program(a, 90s, env());
  }

  int daemon_pid() const {
    auto r = run_ctl({"--socket", socket(), "--json", "status"}, 10s);
    if (r.exit_code != 0) return -1;
    return nlohmann::json::parse(r.out).value("pid", -1);
  }
  nlohmann::json status() const {
    auto r = run_ctl({"--socket", socket(), "--json", "status"}, 10s);
    INFO("status: " << r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }
  // argv inside the daemon's mount namespace, where the mount is.
  CommandResult in_mount_namespace(const std::vector<std::string>& argv) const {
    std::vector<std::string> a = {"nsenter", "--target", std::to_string(daemon_pid()), "--mount", "--"};
    a.insert(a.end(), argv.begin(), argv.end());
    return run_program(a, 30s);
  }
  // The mount's line in /proc/PID/mountinfo of the daemon, "" when it has none.
  std::string mountinfo() const {
    std::ifstream in("/proc/" + std::to_string(daemon_pid()) + "/mountinfo");
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string id, parent, dev, root, mp;
      fields >> id >> parent >> dev >> root >> mp;
      if (mp == mount_point()) return line;
    }
    return {};
  }

  // The mount serves the track to root and, with allow_other, to uid 65534.
  void check_serves_everyone() const {
    INFO("mountinfo: " << mountinfo());
    CHECK(mountinfo().find(" - fuse.musicfs musicfs ") != std::string::npos);
    CHECK(mountinfo().find("allow_other") != std::string::npos);
    auto cat = in_mount_namespace({"cat", mount_point() + "/" + kTrack});
    INFO("cat: " << cat.err);
    CHECK(cat.exit_code == 0);
    CHECK(cat.out == kMusic);
    auto nobody = in_mount_namespace(
        {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", mount_point() + "/" + kTrack});
    INFO("cat as 65534: " << nobody.err);
    CHECK(nobody.exit_code == 0);
    CHECK(nobody.out == kMusic);
  }

  // umount(8) from outside the daemon: the kernel ends the FUSE session, and the
  // daemon drops the mount from its table (MountTable::reap).
  void check_umount_is_noticed() const {
    auto u = in_mount_namespace({"umount", mount_point()});
    INFO("umount: " << u.err);
    REQUIRE(u.exit_code == 0);
    CHECK(wait_until([&] { return status()["mounts"].empty(); }, 10s));
    CHECK(mountinfo().empty());
    CHECK(process_alive(daemon_pid()));  // the daemon stays, ready for the next mount
  }

 private:
  TempDir dir_;
};

}  // namespace

TEST_CASE("mount -t fuse.musicfs runs the musicfs helper and umount drops the mount from status", "[fstab]") {
  require_mount_chain();
  Installed m;
  REQUIRE(run_ctl({"--socket", m.socket(), "status"}, 10s).exit_code == 3);  // no daemon yet
  auto r = m.run_installed({"mount", "-t", "fuse.musicfs", m.config(), m.mount_point(), "-o", "allow_other"});
  INFO("mount: exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  // mount(8) returned: the mount serves, from a daemon it started on our socket.
  auto st = m.status();
  REQUIRE(st["mounts"].size() == 1);
  CHECK(st["mounts"][0]["mount_point"] == m.mount_point());
  CHECK(st["mounts"][0]["allow_other"] == true);
  CHECK(st["state_dir"] == m.dir() / "state");
  m.check_serves_everyone();
  m.check_umount_is_noticed();
}

TEST_CASE("an fstab line with defaults and _netdev and allow_other mounts with mount --fstab", "[fstab]") {
  require_mount_chain();
  Installed m;
  const std::string fstab = m.dir() / "fstab";
  write_file(fstab, "# musicfs at boot\n" + m.config() + "  " + m.mount_point() +
                        "  fuse.musicfs  defaults,_netdev,allow_other  0  0\n");
  auto r = m.run_installed({"mount", "--fstab", fstab, m.mount_point()});
  INFO("mount -T: exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(m.status()["mounts"].size() == 1);
  m.check_serves_everyone();
  m.check_umount_is_noticed();
}

TEST_CASE("mount -t fuse.musicfs with a missing config fails with musicfsctl's one line", "[fstab]") {
  require_mount_chain();
  Installed m;
  const std::string missing = m.dir() / "no-such.toml";
  auto r = m.run_installed({"mount", "-t", "fuse.musicfs", missing, m.mount_point()});
  INFO("mount: exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind("musicfsctl: ", 0) == 0);
  CHECK(r.err.find(missing) != std::string::npos);
  CHECK(m.mountinfo().empty());
}

TEST_CASE("the musicfs helper wants CONFIG and MOUNTPOINT and says so in one line", "[fstab]") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {}, {"only-config.toml"}, {"a.toml", "/mnt", "extra"}, {"a.toml", "/mnt", "--bogus"}, {"a.toml", "/mnt", "-o"}}) {
    std::vector<std::string> argv = {MUSICFS_HELPER_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_program(argv, 10s);
    INFO("musicfs with " << args.size() << " argument(s): exit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.rfind("musicfs: ", 0) == 0);
  }
}

TEST_CASE("mount -o rw is refused in one line with exit 2", "[fstab][cli]") {
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  for (const std::string opts : {"rw", "ro,rw", "allow_other,rw"}) {
    auto r = run_ctl({"--socket", sock, "mount", "-c", dir / "musicfs.toml", "-o", opts}, 10s);
    INFO("-o " << opts << ": exit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "musicfsctl: -o rw: musicfs is read-only (leave rw out, or say ro)\n");
  }
  CHECK_FALSE(path_exists(sock));  // refused before any daemon was started
}

TEST_CASE("mount -o with an unknown option names it in one line with exit 2", "[fstab][cli]") {
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  for (const std::string bad : {"sync", "allow_other=1", "uid=1000"}) {
    auto r = run_ctl({"--socket", sock, "mount", "-c", dir / "musicfs.toml", "-o", "ro," + bad}, 10s);
    INFO("-o ro," << bad << ": exit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.rfind("musicfsctl: -o " + bad + ": unknown mount option", 0) == 0);
  }
  CHECK_FALSE(path_exists(sock));
}

TEST_CASE("mount -o accepts ro and ignores the options of fstab and mount(8)", "[fstab][cli]") {
  Fixture f({{"lib", 1}});
  write_file(f.origin_dir("lib") + "/" + kTrack, kMusic);
  f.write_config(f.default_config());
  auto r = f.daemon().ctl({"mount", "-c", f.config_path(), "-o",
                           "ro,defaults,auto,noauto,user,nouser,users,_netdev,nofail,nodev,nosuid,dev,suid,exec",
                           "-o", "noexec,atime,noatime,relatime,x-systemd.automount,x-gvfs-show,comment=systemd.automount"});
  INFO("mount: exit " << r.exit_code << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(f.in_mount(kTrack)) == kMusic);
  CHECK(f.status()["mounts"][0]["allow_other"] == false);  // none of them turned anything on
}

TEST_CASE("mount -o allow_other overrides the config file without rewriting it and survives a crash", "[fstab][cli]") {
  Fixture f({{"lib", 1}});
  write_file(f.origin_dir("lib") + "/" + kTrack, kMusic);
  const std::string text = "allow_other = false\n" + f.default_config();
  f.write_config(text);
  auto r = f.daemon().ctl({"mount", "-c", f.config_path(), "-o", "allow_other", f.mount_point()});
  INFO("mount: exit " << r.exit_code << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(f.status()["mounts"][0]["allow_other"] == true);
  auto has_allow_other = [&] {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
      if (line.find(" " + f.mount_point() + " ") != std::string::npos) return line.find("allow_other") != std::string::npos;
    }
    return false;
  };
  CHECK(has_allow_other());
  CHECK(read_file(f.config_path()) == text);

  // A restart after kill -9 mounts it again as it was, -o allow_other included.
  f.daemon().kill9();
  f.daemon().restart();
  REQUIRE(wait_until([&] { return f.status()["mounts"].size() == 1; }, 20s));
  CHECK(f.status()["mounts"][0]["allow_other"] == true);
  CHECK(has_allow_other());
  CHECK(read_file(f.in_mount(kTrack)) == kMusic);
}

TEST_CASE("mount without -c mounts $XDG_CONFIG_HOME/musicfs/config.toml", "[fstab][cli]") {
  Fixture f({{"lib", 1}});
  write_file(f.origin_dir("lib") + "/" + kTrack, kMusic);
  const std::string xdg = f.dir() / "xdg-config";
  write_file(xdg + "/musicfs/config.toml", f.default_config());
  auto r = run_ctl({"--socket", f.daemon().socket(), "mount"}, 60s, {{"XDG_CONFIG_HOME", xdg}});
  INFO("mount: exit " << r.exit_code << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(f.in_mount(kTrack)) == kMusic);
  CHECK(f.status()["mounts"][0]["config"] == xdg + "/musicfs/config.toml");
}

TEST_CASE("mount without -c and no default config file is one line with exit 2", "[fstab][cli]") {
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  const std::string xdg = dir / "empty-config-home";
  mkdirs(xdg);
  auto r = run_ctl({"--socket", sock, "mount"}, 10s, {{"XDG_CONFIG_HOME", xdg}});
  INFO("mount: exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "musicfsctl: no config file given and " + xdg +
                     "/musicfs/config.toml does not exist (see 'musicfsctl mount --help')\n");
  CHECK(r.out.empty());
  CHECK_FALSE(path_exists(sock));  // no daemon was started for nothing
}
