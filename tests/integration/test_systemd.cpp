// `musicfsctl daemon -c FILE` under a service manager: the sd_notify protocol spoken to
// a real datagram socket given as $NOTIFY_SOCKET (READY=1 only once the mount answers,
// STATUS=, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on SIGTERM), the config read
// again on SIGHUP, and the log file reopened.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {

// The service manager's end: a datagram socket the daemon sends its notifications to.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof a.sun_path);
    std::strcpy(a.sun_path, path.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // The next datagram, or nullopt when none came within `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    std::string msg(buf, static_cast<size_t>(n));
    seen_.push_back(msg);
    return msg;
  }
  // Reads datagrams until one has a line `line` (e.g. "READY=1"); returns it.
  std::optional<std::string> wait_for(const std::string& line, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto msg = next(left);
      if (!msg) return std::nullopt;
      if (("\n" + *msg + "\n").find("\n" + line + "\n") != std::string::npos) return msg;
    }
    return std::nullopt;
  }
  std::string all_seen() const {
    std::string out;
    for (const auto& m : seen_) out += "[" + m + "]\n";
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> seen_;
};

// `musicfsctl daemon -c ...` as the service manager runs it: a child in the foreground
// with NOTIFY_SOCKET set. Killed on destruction if still running.
class ServiceDaemon {
 public:
  ServiceDaemon(const TempDir& dir, const std::vector<std::string>& daemon_args, const std::string& notify_socket)
      : socket_(dir / "run/musicfsd.sock"), stderr_path_(dir / "daemon.stderr") {
    std::vector<std::string> argv = {MUSICFSCTL_PATH, "--socket", socket_, "daemon", "--state-dir", dir / "state"};
    argv.insert(argv.end(), daemon_args.begin(), daemon_args.end());
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (err >= 0) ::dup2(err, 2);
      ::setenv("NOTIFY_SOCKET", notify_socket.c_str(), 1);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ServiceDaemon() {
    if (pid_ <= 0 || exited_) return;
    ::kill(pid_, SIGTERM);
    if (!wait_exit(20s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }
  const std::string& socket() const { return socket_; }
  std::string stderr_text() const { return path_exists(stderr_path_) ? read_file(stderr_path_) : ""; }
  void signal(int sig) const { ::kill(pid_, sig); }
  // The exit status (WEXITSTATUS) once the process ended within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (exited_) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      ::usleep(20000);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
  }
  CommandResult ctl(const std::vector<std::string>& args) const {
    std::vector<std::string> full = {"--socket", socket_};
    full.insert(full.end(), args.begin(), args.end());
    return run_ctl(full, 30s);
  }

 private:
  std::string socket_;
  std::string stderr_path_;
  int pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
};

std::string origin_toml(const std::string& id, int priority, const std::string& path) {
  return "\n[[origins]]\nid = \"" + id + "\"\norigin_type = \"local\"\npriority = " + std::to_string(priority) +
         "\npath = \"" + path + "\"\n";
}

std::string config_text(const TempDir& dir, const std::string& origins) {
  return "mount_point = \"" + (dir / "mnt") + "\"\ncache_dir = \"" + (dir / "cache") + "\"\n" + origins;
}

}  // namespace

TEST_CASE("daemon -c sends READY=1 only once its mount answers and STOPPING=1 on SIGTERM", "[systemd]") {
  require_fuse();
  TempDir dir;
  mkdirs(dir / "mnt");
  write_file(dir / "a/Artist/Album/01.flac", "from a");
  write_file(dir / "b/Artist/Album/02.flac", "from b");
  write_file(dir / "music.toml", config_text(dir, origin_toml("a", 1, dir / "a") + origin_toml("b", 2, dir / "b")));
  NotifySocket notify(dir / "notify.sock");
  ServiceDaemon d(dir, {"-c", dir / "music.toml"}, notify.path());

  auto ready = notify.wait_for("READY=1");
  INFO("notifications:\n" << notify.all_seen() << "daemon stderr:\n" << d.stderr_text());
  REQUIRE(ready);
  // At the moment READY=1 arrives the tree already answers: nothing to poll for.
  CHECK(is_mounted(dir / "mnt"));
  CHECK(read_file(dir / "mnt/Artist/Album/01.flac") == "from a");
  CHECK(read_file(dir / "mnt/Artist/Album/02.flac") == "from b");
  CHECK_THAT(*ready, Catch::Contains("STATUS=1 mount(s), "));
  CHECK_THAT(*ready, Catch::Contains("of 2 origin(s) healthy"));
  // The status follows the health checks: both local origins become healthy.
  CHECK((notify.wait_for("STATUS=1 mount(s), 2 of 2 origin(s) healthy", 20s) ||
         ready->find("STATUS=1 mount(s), 2 of 2 origin(s) healthy") != std::string::npos));

  d.signal(SIGTERM);
  auto stopping = notify.wait_for("STOPPING=1", 20s);
  CHECK(stopping);
  CHECK(d.wait_exit(20s) == 0);
  CHECK_FALSE(is_mounted(dir / "mnt"));
  CHECK_FALSE(path_exists(d.socket()));
}

TEST_CASE("daemon -c mounts every file given and READY=1 waits for all of them", "[systemd]") {
  require_fuse();
  TempDir dir;
  mkdirs(dir / "mnt");
  mkdirs(dir / "mnt2");
  write_file(dir / "a/one.flac", "1");
  write_file(dir / "b/two.flac", "2");
  write_file(dir / "one.toml", config_text(dir, origin_toml("a", 1, dir / "a")));
  write_file(dir / "two.toml", "mount_point = \"" + (dir / "mnt2") + "\"\ncache_dir = \"" + (dir / "cache2") + "\"\n" +
                                   origin_toml("b", 1, dir / "b"));
  NotifySocket notify(dir / "notify.sock");
  ServiceDaemon d(dir, {"-c", dir / "one.toml", "-c", dir / "two.toml"}, notify.path());
  auto ready = notify.wait_for("READY=1");
  INFO("notifications:\n" << notify.all_seen() << "daemon stderr:\n" << d.stderr_text());
  REQUIRE(ready);
  CHECK(read_file(dir / "mnt/one.flac") == "1");
  CHECK(read_file(dir / "mnt2/two.flac") == "2");
  CHECK_THAT(*ready, Catch::Contains("STATUS=2 mount(s)"));
}

TEST_CASE("daemon -c with a config that cannot be mounted exits 1 and never sends READY=1", "[systemd]") {
  require_fuse();
  TempDir dir;
  // The mount point does not exist.
  write_file(dir / "music.toml", config_text(dir, origin_toml("a", 1, dir / "a")));
  NotifySocket notify(dir / "notify.sock");
  ServiceDaemon d(dir, {"-c", dir / "music.toml"}, notify.path());
  CHECK(d.wait_exit(30s) == 1);
  INFO("daemon stderr:\n" << d.stderr_text());
  CHECK_THAT(d.stderr_text(), Catch::Contains("musicfsctl daemon: " + (dir / "music.toml") + ":1: mount_point: '" +
                                              (dir / "mnt") + "' does not exist"));
  while (auto msg = notify.next(100ms)) CHECK(msg->find("READY=1") == std::string::npos);
  CHECK_FALSE(path_exists(d.socket()));
}

TEST_CASE("SIGHUP reads the config again: RELOADING=1 then READY=1 with origins added removed and changed", "[systemd]") {
  require_fuse();
  TempDir dir;
  mkdirs(dir / "mnt");
  write_file(dir / "a/a.flac", "a");
  write_file(dir / "b/b.flac", "b");
  write_file(dir / "c1/c.flac", "c, first path");
  write_file(dir / "c2/c.flac", "c, second path");
  write_file(dir / "music.toml", config_text(dir, origin_toml("a", 1, dir / "a") + origin_toml("c", 2, dir / "c1")));
  NotifySocket notify(dir / "notify.sock");
  ServiceDaemon d(dir, {"-c", dir / "music.toml"}, notify.path());
  REQUIRE(notify.wait_for("READY=1"));
  REQUIRE(read_file(dir / "mnt/a.flac") == "a");
  REQUIRE(read_file(dir / "mnt/c.flac") == "c, first path");

  // a goes, b comes, c moves to another directory.
  write_file(dir / "music.toml", config_text(dir, origin_toml("b", 1, dir / "b") + origin_toml("c", 2, dir / "c2")));
  d.signal(SIGHUP);
  auto reloading = notify.wait_for("RELOADING=1", 20s);
  INFO("notifications:\n" << notify.all_seen() << "daemon stderr:\n" << d.stderr_text());
  REQUIRE(reloading);
  CHECK_THAT(*reloading, Catch::Contains("MONOTONIC_USEC="));
  REQUIRE(notify.wait_for("READY=1", 30s));
  CHECK(wait_until([&] { return path_exists(dir / "mnt/b.flac"); }, 20s));
  CHECK(wait_until([&] { return !path_exists(dir / "mnt/a.flac"); }, 20s));
  CHECK(wait_until([&] { return path_exists(dir / "mnt/c.flac") && read_file(dir / "mnt/c.flac") == "c, second path"; },
                   20s));
  auto origins = d.ctl({"--json", "origins", "list"});
  REQUIRE(origins.exit_code == 0);
  CHECK_THAT(origins.out, Catch::Contains("\"b\""));
  CHECK_THAT(origins.out, !Catch::Contains("\"a\""));
  auto events = d.ctl({"events", "--kind", "config_reloaded"});
  CHECK_THAT(events.out, Catch::Contains("added b; removed a; changed c"));
  CHECK(is_mounted(dir / "mnt"));

  SECTION("a file that no longer parses leaves the mount as it was") {
    write_file(dir / "music.toml", "mount_point = 5\n");
    d.signal(SIGHUP);
    REQUIRE(notify.wait_for("RELOADING=1", 20s));
    REQUIRE(notify.wait_for("READY=1", 20s));
    CHECK(read_file(dir / "mnt/b.flac") == "b");
    auto failed = d.ctl({"events", "--kind", "config_reload_failed"});
    CHECK_THAT(failed.out, Catch::Contains("mount_point: expected a string"));
  }
}

TEST_CASE("SIGHUP rebuilds the notifiers: one added by a reload hears the next change and one removed no more", "[systemd]") {
  require_fuse();
  TempDir dir;
  mkdirs(dir / "mnt");
  write_file(dir / "a/Old/01.flac", "old");
  // Each script appends its arguments, one run per line, to its own log.
  auto script = [&](const std::string& name) {
    const std::string path = dir / (name + ".sh");
    write_file(path, "#!/bin/sh\necho \"$*\" >> '" + (dir / (name + ".log")) + "'\n");
    return path;
  };
  auto notify_toml = [](const std::string& path) {
    return "\n[[notify]]\ntype = \"exec\"\ncommand = [\"/bin/sh\", \"" + path + "\"]\ndebounce_ms = 100\n";
  };
  const std::string first = script("first");
  const std::string second = script("second");
  const std::string plain = config_text(dir, origin_toml("a", 1, dir / "a"));
  write_file(dir / "music.toml", plain);
  NotifySocket notify(dir / "notify.sock");
  ServiceDaemon d(dir, {"-c", dir / "music.toml"}, notify.path());
  REQUIRE(notify.wait_for("READY=1"));
  REQUIRE(path_exists(dir / "mnt/Old/01.flac"));

  write_file(dir / "music.toml", plain + notify_toml(first));
  d.signal(SIGHUP);
  REQUIRE(notify.wait_for("RELOADING=1", 20s));
  REQUIRE(notify.wait_for("READY=1", 30s));
  INFO("daemon stderr:\n" << d.stderr_text());
  CHECK_THAT(d.ctl({"events", "--kind", "config_reloaded"}).out, Catch::Contains("notifiers now 1"));
  write_file(dir / "a/One/01.flac", "one");
  REQUIRE(wait_until([&] { return path_exists(dir / "first.log"); }, 15s));
  CHECK(read_file(dir / "first.log") == "/One\n");

  // The first notifier replaced by the second: only the second hears of Two.
  write_file(dir / "music.toml", plain + notify_toml(second));
  d.signal(SIGHUP);
  REQUIRE(notify.wait_for("RELOADING=1", 20s));
  REQUIRE(notify.wait_for("READY=1", 30s));
  write_file(dir / "a/Two/01.flac", "two");
  REQUIRE(wait_until([&] { return path_exists(dir / "second.log"); }, 15s));
  CHECK(read_file(dir / "second.log") == "/Two\n");
  CHECK(read_file(dir / "first.log") == "/One\n");

  SECTION("a [[notify]] table with a bad key fails the reload and the old notifier stays") {
    write_file(dir / "music.toml", plain + "\n[[notify]]\ntype = \"mpd\"\nport = 99999\n");
    d.signal(SIGHUP);
    REQUIRE(notify.wait_for("RELOADING=1", 20s));
    REQUIRE(notify.wait_for("READY=1", 30s));
    CHECK_THAT(d.ctl({"events", "--kind", "config_reload_failed"}).out, Catch::Contains("port"));
    write_file(dir / "a/Three/01.flac", "three");
    CHECK(wait_until([&] { return read_file(dir / "second.log") == "/Two\n/Three\n"; }, 15s));
  }
}

TEST_CASE("SIGHUP reopens the log file so that logrotate can move it", "[systemd]") {
  require_fuse();
  TempDir dir;
  mkdirs(dir / "mnt");
  write_file(dir / "a/a.flac", "a");
  write_file(dir / "music.toml", config_text(dir, origin_toml("a", 1, dir / "a")));
  NotifySocket notify(dir / "notify.sock");
  ServiceDaemon d(dir, {"-c", dir / "music.toml", "--log-file", dir / "musicfsd.log"}, notify.path());
  REQUIRE(notify.wait_for("READY=1"));
  REQUIRE(path_exists(dir / "musicfsd.log"));
  CHECK_THAT(read_file(dir / "musicfsd.log"), Catch::Contains("listening on"));
  REQUIRE(::rename((dir / "musicfsd.log").c_str(), (dir / "musicfsd.log.1").c_str()) == 0);
  d.signal(SIGHUP);
  REQUIRE(notify.wait_for("READY=1", 20s));
  // What is logged after the reload goes to a new file at the old name.
  CHECK(wait_until([&] { return path_exists(dir / "musicfsd.log") &&
                                read_file(dir / "musicfsd.log").find("reloaded") != std::string::npos; }, 10s));
  CHECK(read_file(dir / "musicfsd.log").find("listening on") == std::string::npos);
  CHECK_THAT(read_file(dir / "musicfsd.log.1"), Catch::Contains("SIGHUP"));
}
