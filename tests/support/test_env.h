#pragma once
// Integration-test harness: a real musicfsctl daemon on its own socket, a real FUSE
// mount at its own temporary mount point, real origin directories. Every object here
// cleans up in its destructor (stop the daemon, unmount, remove the files), so a
// failing test leaves nothing mounted and nothing running; tests can run in parallel
// because each one lives in its own temporary directory.
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace musicfs::test {

// ctest treats this exit code as "skipped" (SKIP_RETURN_CODE).
constexpr int kSkipExitCode = 77;
// Ends the test process as skipped, with the reason on stderr.
[[noreturn]] void skip_test(const std::string& reason);
// Skips unless FUSE can be mounted here (needs /dev/fuse and root or fusermount3).
void require_fuse();
// Skips unless running as root (tmpfs mounts for real faults).
void require_root();

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program with arguments, capturing stdout/stderr, killing it after `timeout`.
CommandResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::map<std::string, std::string>& env = {});

// Runs `musicfsctl <args...>` (no --socket added), e.g. against a socket with no daemon.
CommandResult run_ctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      const std::map<std::string, std::string>& env = {});

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released),
// for a test server; throws when no port can be bound.
int free_loopback_port();
// True when a TCP connection to 127.0.0.1:port is accepted (the server is up).
bool loopback_port_accepts(int port);

// Starts a test server: argv[0] (an absolute path) with stdout and stderr appended to
// log_path. Returns its pid; throws when fork fails.
int spawn_logged(const std::vector<std::string>& argv, const std::string& log_path);
// Waits until the child `pid` accepts connections on 127.0.0.1:port. False when it
// exited first (it is reaped and `pid` set to -1) or when `timeout` passed.
bool wait_accepting(int& pid, int port, std::chrono::milliseconds timeout = std::chrono::seconds(15));

// True when something is mounted exactly at `path` (per /proc/self/mounts).
bool is_mounted(const std::string& path);

// True while process `pid` exists and is not a zombie (works for processes that are
// not our children, e.g. a daemon started detached by `musicfsctl mount`).
bool process_alive(int pid);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);  // creates parents
std::string read_file(const std::string& path);                        // throws on error
bool path_exists(const std::string& path);
void mkdirs(const std::string& path);

// Polls `pred` every 20 ms until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A daemon started in the foreground as a child process.
class Daemon {
 public:
  explicit Daemon(const TempDir& dir);
  ~Daemon();
  const std::string& socket() const { return socket_; }
  const std::string& state_dir() const { return state_dir_; }
  int pid() const { return pid_; }
  // musicfsctl --socket S <args...>
  CommandResult ctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  nlohmann::json ctl_json(const std::vector<std::string>& args) const;  // adds --json, requires exit 0
  void kill9();      // simulate a crash
  void restart();    // start again on the same socket and state dir
  bool running() const;
  std::string log() const;
  // Waits up to `timeout` for the daemon process to end; returns its raw wait status
  // (use WIFEXITED/WEXITSTATUS), or nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  void start();
  std::string socket_;
  std::string state_dir_;
  std::string log_path_;
  int pid_ = -1;
  mutable std::optional<int> exit_status_;  // set once the process has been reaped
};

struct OriginSpec {
  std::string id;
  int priority = 1;
  std::string type = "local";
  std::optional<bool> cache;  // `cache = true|false`; unset: the type's default
};

// A daemon plus one mount of N local origins under one temporary directory.
class Fixture {
 public:
  // Creates origins dirs <tmp>/origins/<id>; `extra_toml` is appended to the config.
  explicit Fixture(std::vector<OriginSpec> origins, const std::string& extra_toml = "");
  ~Fixture();

  std::string origin_dir(const std::string& id) const { return dir_.path() + "/origins/" + id; }
  const std::string& mount_point() const { return mount_point_; }
  std::string in_mount(const std::string& rel) const { return mount_point_ + "/" + rel; }
  const std::string& config_path() const { return config_path_; }
  Daemon& daemon() { return *daemon_; }
  const Daemon& daemon() const { return *daemon_; }
  const TempDir& dir() const { return dir_; }

  // Writes the config and mounts it; REQUIREs success.
  void mount();
  CommandResult try_mount();
  nlohmann::json status() const;
  nlohmann::json origin_status(const std::string& id) const;  // from status --json
  std::vector<nlohmann::json> events(const std::string& kind = "") const;
  // Which origin serves a path now (user.musicfs.origin xattr).
  std::string served_by(const std::string& rel) const;
  void write_config(const std::string& text);
  std::string default_config() const;

 private:
  TempDir dir_;
  std::vector<OriginSpec> origins_;
  std::string extra_toml_;
  std::string mount_point_;
  std::string config_path_;
  std::unique_ptr<Daemon> daemon_;
};

// Mounts a tmpfs (root only) and unmounts it lazily on destruction if still mounted.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& where);
  ~TmpfsMount();
  void unmount_lazy();
  void remount();
  bool mounted() const { return mounted_; }

 private:
  std::string where_;
  bool mounted_ = false;
};

// A child started with some of its standard streams connected to pipes of ours.
struct PipedChild {
  int pid = -1;
  int in_fd = -1;   // its stdin, when piped (else /dev/null)
  int out_fd = -1;  // its stdout
  int err_fd = -1;  // its stderr, when piped (else inherited)
};
// Forks and execs argv (PATH is searched). Throws when a pipe or the fork fails.
PipedChild spawn_piped(const std::vector<std::string>& argv, bool pipe_stdin, bool pipe_stderr);

// A child process whose stdout is read line by line while it runs (e.g.
// `musicfsctl events --follow`). stderr is collected separately. The destructor kills
// (SIGKILL) and reaps the child if it is still running.
class StreamingProcess {
 public:
  explicit StreamingProcess(const std::vector<std::string>& argv);
  ~StreamingProcess();
  StreamingProcess(const StreamingProcess&) = delete;
  StreamingProcess& operator=(const StreamingProcess&) = delete;
  int pid() const { return pid_; }
  // The next complete stdout line (without '\n'), or nullopt if none arrives within
  // `timeout` or stdout reached end of file.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Sends `sig` and reaps the child; returns its raw wait status (WIFSIGNALED etc.).
  int kill_and_wait(int sig);
  bool running();
  const std::string& err() const { return err_; }

 private:
  void pump(int timeout_ms);  // one poll round over stdout and stderr
  int pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_buf_;
  std::string err_;
  std::optional<int> status_;
};

}  // namespace musicfs::test
