#include "support/test_env.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <stdexcept>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace musicfs::test {

void skip_test(const std::string& reason) {
  std::cerr << "SKIPPED: " << reason << std::endl;
  std::_Exit(kSkipExitCode);
}

void require_fuse() {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) skip_test("FUSE unavailable: /dev/fuse cannot be opened");
  if (::geteuid() != 0 && ::access("/usr/bin/fusermount3", X_OK) != 0) {
    skip_test("FUSE unavailable: not root and no fusermount3");
  }
}

void require_root() {
  if (::geteuid() != 0) skip_test("needs root to mount a tmpfs for real fault injection");
}

CommandResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& env) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  CommandResult r;
  struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    ::poll(fds, 2, left > 0 ? static_cast<int>(left) : 100);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (killed) r.err += "\n[killed after timeout]";
  return r;
}

CommandResult run_ctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                      const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {MUSICFSCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, timeout, env);
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  // pid (comm) STATE ...: comm may contain spaces and parentheses, so look after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  char state = stat[close + 2];
  return state != 'Z' && state != 'X';
}

namespace {
bool is_mounted_at(const std::string& path) {
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string dev, mp;
    ls >> dev >> mp;
    if (mp == path) return true;
  }
  return false;
}

// Unmounts (lazily) everything mounted below `root`, deepest first.
void unmount_below(const std::string& root) {
  std::vector<std::string> mps;
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string dev, mp;
    ls >> dev >> mp;
    if (mp.rfind(root + "/", 0) == 0) mps.push_back(mp);
  }
  std::sort(mps.rbegin(), mps.rend());
  for (const auto& mp : mps) {
    if (::umount2(mp.c_str(), MNT_DETACH) != 0) run_program({"fusermount3", "-u", "-z", mp}, std::chrono::seconds(5));
  }
}
}  // namespace

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a free port on 127.0.0.1");
  }
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool loopback_port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int spawn_logged(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  pid_t pid = ::fork();
  if (pid < 0) {
    if (log_fd >= 0) ::close(log_fd);
    throw std::runtime_error("fork failed for " + argv.at(0));
  }
  if (pid == 0) {
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
  return pid;
}

bool wait_accepting(int& pid, int port, std::chrono::milliseconds timeout) {
  bool up = wait_until(
      [&] {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid) {
          pid = -1;
          return true;
        }
        return loopback_port_accepts(port);
      },
      timeout);
  return up && pid > 0;
}

bool is_mounted(const std::string& path) { return is_mounted_at(path); }

TempDir::TempDir() {
  char tmpl[] = "/tmp/musicfs-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  unmount_below(path_);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void mkdirs(const std::string& path) { fs::create_directories(path); }

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  return ss.str();
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Daemon::Daemon(const TempDir& dir)
    : socket_(dir.path() + "/run/musicfsd.sock"), state_dir_(dir.path() + "/state"), log_path_(dir.path() + "/daemon.log") {
  start();
}

void Daemon::start() {
  exit_status_.reset();
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(log, 2);
    ::dup2(log, 1);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::setenv("MUSICFS_LOG", "debug", 0);
    ::execl(MUSICFSCTL_PATH, "musicfsctl", "--socket", socket_.c_str(), "daemon", "--state-dir", state_dir_.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool up = wait_until([&] { return ctl({"status"}, std::chrono::seconds(5)).exit_code == 0 || !running(); },
                       std::chrono::seconds(20));
  if (!up || !running()) throw std::runtime_error("daemon did not start; log:\n" + log());
}

bool Daemon::running() const {
  if (pid_ <= 0) return false;
  if (exit_status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_status_ = status;
  return r == 0;
}

std::optional<int> Daemon::wait_exit(std::chrono::milliseconds timeout) {
  wait_until([&] { return !running(); }, timeout);
  return exit_status_;
}

std::string Daemon::log() const {
  try {
    return read_file(log_path_);
  } catch (...) {
    return "";
  }
}

CommandResult Daemon::ctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {MUSICFSCTL_PATH, "--socket", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, timeout);
}

nlohmann::json Daemon::ctl_json(const std::vector<std::string>& args) const {
  std::vector<std::string> a = {"--json"};
  a.insert(a.end(), args.begin(), args.end());
  auto r = ctl(a);
  INFO("musicfsctl stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

void Daemon::kill9() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

void Daemon::restart() { start(); }

Daemon::~Daemon() {
  if (running()) {
    ctl({"daemon", "stop"}, std::chrono::seconds(10));
    bool gone = wait_until([&] { return !running(); }, std::chrono::seconds(10));
    if (!gone) ::kill(pid_, SIGKILL);
  }
  if (pid_ > 0) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

Fixture::Fixture(std::vector<OriginSpec> origins, const std::string& extra_toml)
    : origins_(std::move(origins)), extra_toml_(extra_toml) {
  require_fuse();
  mount_point_ = dir_.path() + "/mnt";
  config_path_ = dir_.path() + "/musicfs.toml";
  mkdirs(mount_point_);
  for (const auto& o : origins_) mkdirs(origin_dir(o.id));
  daemon_ = std::make_unique<Daemon>(dir_);
}

Fixture::~Fixture() {
  daemon_.reset();
  unmount_below(dir_.path());
}

std::string Fixture::default_config() const {
  std::ostringstream c;
  c << "mount_point = \"" << mount_point_ << "\"\n"
    << "cache_dir = \"" << dir_.path() << "/cache\"\n";
  for (const auto& o : origins_) {
    c << "\n[[origins]]\nid = \"" << o.id << "\"\norigin_type = \"" << o.type << "\"\npriority = " << o.priority
      << "\npath = \"" << origin_dir(o.id) << "\"\n";
    if (o.cache) c << "cache = " << (*o.cache ? "true" : "false") << "\n";
  }
  c << "\n" << extra_toml_ << "\n";
  return c.str();
}

void Fixture::write_config(const std::string& text) { write_file(config_path_, text); }

CommandResult Fixture::try_mount() {
  if (!path_exists(config_path_)) write_config(default_config());
  return daemon_->ctl({"mount", "--config", config_path_});
}

void Fixture::mount() {
  auto r = try_mount();
  INFO("mount stderr: " << r.err << "\ndaemon log:\n" << daemon_->log());
  REQUIRE(r.exit_code == 0);
}

nlohmann::json Fixture::status() const { return daemon_->ctl_json({"status"}); }

nlohmann::json Fixture::origin_status(const std::string& id) const {
  const nlohmann::json st = status();  // keep it alive: iterating a temporary's member dangles
  for (const auto& m : st["mounts"]) {
    for (const auto& o : m["origins"]) {
      if (o["id"] == id) return o;
    }
  }
  return nullptr;
}

std::vector<nlohmann::json> Fixture::events(const std::string& kind) const {
  std::vector<std::string> args = {"events"};
  if (!kind.empty()) args.insert(args.end(), {"--kind", kind});
  auto j = daemon_->ctl_json(args);
  return j["events"].get<std::vector<nlohmann::json>>();
}

std::string Fixture::served_by(const std::string& rel) const {
  char buf[256];
  ssize_t n = ::getxattr(in_mount(rel).c_str(), "user.musicfs.origin", buf, sizeof buf);
  if (n < 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

TmpfsMount::TmpfsMount(const std::string& where) : where_(where) {
  require_root();
  mkdirs(where_);
  remount();
}

void TmpfsMount::remount() {
  if (::mount("tmpfs", where_.c_str(), "tmpfs", 0, "size=64m") != 0) {
    throw std::runtime_error("mount tmpfs at " + where_ + ": " + std::strerror(errno));
  }
  mounted_ = true;
}

void TmpfsMount::unmount_lazy() {
  if (mounted_ && ::umount2(where_.c_str(), MNT_DETACH) != 0) {
    throw std::runtime_error("umount " + where_ + ": " + std::strerror(errno));
  }
  mounted_ = false;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_ && is_mounted_at(where_)) ::umount2(where_.c_str(), MNT_DETACH);
}

PipedChild spawn_piped(const std::vector<std::string>& argv, bool pipe_stdin, bool pipe_stderr) {
  // pipes[0] stdin, [1] stdout, [2] stderr; {-1, -1} where not piped.
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  auto close_all = [&] {
    for (auto& p : pipes) {
      for (int fd : p) {
        if (fd >= 0) ::close(fd);
      }
    }
  };
  const bool wanted[3] = {pipe_stdin, true, pipe_stderr};
  for (int i = 0; i < 3; ++i) {
    if (wanted[i] && ::pipe2(pipes[i], O_CLOEXEC) != 0) {
      close_all();
      throw std::runtime_error("pipe");
    }
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    if (pipe_stdin) {
      ::dup2(pipes[0][0], 0);
    } else {
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
    }
    ::dup2(pipes[1][1], 1);
    if (pipe_stderr) ::dup2(pipes[2][1], 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    ::_exit(127);
  }
  if (pid < 0) {
    close_all();
    throw std::runtime_error("fork");
  }
  PipedChild c;
  c.pid = pid;
  // Keep our ends (the write end of its stdin, the read ends of its output).
  c.in_fd = pipes[0][1];
  c.out_fd = pipes[1][0];
  c.err_fd = pipes[2][0];
  for (int fd : {pipes[0][0], pipes[1][1], pipes[2][1]}) {
    if (fd >= 0) ::close(fd);
  }
  return c;
}

StreamingProcess::StreamingProcess(const std::vector<std::string>& argv) {
  PipedChild c = spawn_piped(argv, /*pipe_stdin=*/false, /*pipe_stderr=*/true);
  pid_ = c.pid;
  out_fd_ = c.out_fd;
  err_fd_ = c.err_fd;
}

void StreamingProcess::pump(int timeout_ms) {
  struct pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return;
  }
  if (::poll(fds, 2, timeout_ms) <= 0) return;
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[65536];
    ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
    if (n <= 0) {
      ::close(fds[i].fd);
      (i == 0 ? out_fd_ : err_fd_) = -1;
    } else {
      (i == 0 ? out_buf_ : err_).append(buf, static_cast<size_t>(n));
    }
  }
}

std::optional<std::string> StreamingProcess::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = out_buf_.find('\n'); nl != std::string::npos) {
      std::string line = out_buf_.substr(0, nl);
      out_buf_.erase(0, nl + 1);
      return line;
    }
    if (out_fd_ < 0) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return std::nullopt;
    pump(static_cast<int>(std::min<int64_t>(left, 100)));
  }
}

bool StreamingProcess::running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = status;
    return false;
  }
  return true;
}

int StreamingProcess::kill_and_wait(int sig) {
  if (running()) {
    ::kill(pid_, sig);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) status_ = status;
  }
  return status_.value_or(-1);
}

StreamingProcess::~StreamingProcess() {
  kill_and_wait(SIGKILL);
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}


}  // namespace musicfs::test
