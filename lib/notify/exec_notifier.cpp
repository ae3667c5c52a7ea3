// type = "exec": runs `command` with the changed mount-relative directories appended
// as arguments. No shell: the arguments reach the program as they are, whatever
// bytes a file name holds. The child gets /dev/null as stdin and stdout, the daemon's
// stderr (its log), no other descriptor of the daemon, default signal handling, and
// a process group of its own, which is killed when it outlives timeout_ms.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "notify/notifier.h"
#include "util/unique_fd.h"

namespace musicfs {

namespace {

constexpr auto kWaitStep = std::chrono::milliseconds(50);

// After fork in a threaded process only async-signal-safe calls: these are syscalls.
[[noreturn]] void exec_child(char* const* argv, int devnull, int report_fd) {
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);  // the daemon blocks its signals
  ::signal(SIGPIPE, SIG_DFL);                    // and ignores this one
  ::setpgid(0, 0);
  ::dup2(devnull, STDIN_FILENO);
  ::dup2(devnull, STDOUT_FILENO);
  if (report_fd != 3) {
    ::dup2(report_fd, 3);
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
  }
  ::syscall(SYS_close_range, 4u, ~0u, 0u);
  ::execvp(argv[0], argv);
  int err = errno;
  ssize_t ignored = ::write(3, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

class ExecNotifier : public Notifier {
 public:
  explicit ExecNotifier(std::vector<std::string> command) : command_(std::move(command)) {}

  std::string describe() const override { return "exec " + command_.front(); }
  void cancel() override { cancelled_.store(true); }

  Status deliver(const std::vector<std::string>& dirs, SteadyClock::time_point deadline, std::string& detail) override {
    std::vector<std::string> args = command_;
    args.insert(args.end(), dirs.begin(), dirs.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull.valid()) return Error::from_errno(errno, "open /dev/null");
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error::from_errno(errno, "pipe");
    UniqueFd report_r(p[0]), report_w(p[1]);
    const pid_t pid = ::fork();
    if (pid < 0) return Error::from_errno(errno, "fork");
    if (pid == 0) exec_child(argv.data(), devnull.get(), report_w.get());
    report_w.reset();
    // The report pipe closes on a successful exec; otherwise it carries execvp's errno.
    int exec_errno = 0;
    ssize_t n;
    do {
      n = ::read(report_r.get(), &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    if (n == sizeof exec_errno) {
      int st = 0;
      ::waitpid(pid, &st, 0);
      return make_error(ErrorCode::kIo, "cannot run " + command_.front() + ": " + ::strerror(exec_errno), exec_errno);
    }
    return wait_for(pid, deadline, detail);
  }

 private:
  Status wait_for(pid_t pid, SteadyClock::time_point deadline, std::string& detail) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    int st = 0;
    for (;;) {
      pid_t r = ::waitpid(pid, &st, WNOHANG);
      if (r == pid) break;
      if (r < 0 && errno != EINTR) return Error::from_errno(errno, "waitpid");
      const bool late = SteadyClock::now() >= deadline;
      if (late || cancelled_.load()) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        return make_error(ErrorCode::kTimedOut, command_.front() + (late ? " did not finish in time" : " was stopped: the daemon is stopping") + "; killed");
      }
      if (pidfd.valid()) {
        pollfd pfd{pidfd.get(), POLLIN, 0};
        ::poll(&pfd, 1, static_cast<int>(kWaitStep.count()));
      } else {
        struct timespec ts{0, kWaitStep.count() * 1'000'000};
        ::nanosleep(&ts, nullptr);
      }
    }
    if (WIFEXITED(st)) {
      detail = "exit status " + std::to_string(WEXITSTATUS(st));
      if (WEXITSTATUS(st) == 0) return {};
      return make_error(ErrorCode::kIo, command_.front() + " failed: " + detail);
    }
    return make_error(ErrorCode::kIo, command_.front() + " was killed by signal " + std::to_string(WTERMSIG(st)));
  }

  const std::vector<std::string> command_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

NotifierTypeInfo exec_notifier_type() {
  NotifierTypeInfo t;
  t.name = "exec";
  t.summary = "runs a program with the changed directories as arguments";
  t.takes_command = true;
  t.settings = {
      {"timeout_ms", SettingKind::kInteger, false, "how long one run may take before it is killed (default 10000)", 100,
       3'600'000},
  };
  t.create = [](const NotifyConfig& c) -> Result<NotifierPtr> { return NotifierPtr(new ExecNotifier(c.command)); };
  return t;
}

}  // namespace musicfs
