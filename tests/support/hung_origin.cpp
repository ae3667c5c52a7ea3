#include "support/hung_origin.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/test_env.h"

namespace musicfs::test {

HungOrigin::HungOrigin(std::string source, std::string mount_point)
    : source_(std::move(source)), mount_point_(std::move(mount_point)) {
  mkdirs(source_);
  mkdirs(mount_point_);
  PipedChild c = spawn_piped({HANGFS_PATH, source_, mount_point_}, /*pipe_stdin=*/true, /*pipe_stderr=*/false);
  pid_ = c.pid;
  in_fd_ = c.in_fd;
  out_fd_ = c.out_fd;
  std::string first = read_reply(std::chrono::seconds(10));
  if (first != "ok pass") throw std::runtime_error("hangfs did not come up at " + mount_point_ + ": " + first);
  if (!wait_until([&] { return is_mounted(mount_point_); }, std::chrono::seconds(10))) {
    throw std::runtime_error("hangfs is not mounted at " + mount_point_);
  }
}

HungOrigin::~HungOrigin() {
  // Closing its stdin is "quit": hangfs releases every blocked call and unmounts.
  if (in_fd_ >= 0) ::close(in_fd_);
  bool exited = wait_until(
      [&] {
        int st = 0;
        return ::waitpid(pid_, &st, WNOHANG) == pid_;
      },
      std::chrono::seconds(10));
  if (!exited) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (is_mounted(mount_point_)) ::umount2(mount_point_.c_str(), MNT_DETACH);
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::string HungOrigin::read_reply(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = out_buf_.find('\n'); nl != std::string::npos) {
      std::string line = out_buf_.substr(0, nl);
      out_buf_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "[no reply from hangfs]";
    struct pollfd p = {out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) return "[hangfs exited]";
    out_buf_.append(buf, static_cast<size_t>(n));
  }
}

void HungOrigin::command(const std::string& mode) {
  std::string line = mode + "\n";
  if (::write(in_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    throw std::runtime_error("cannot talk to hangfs");
  }
  std::string reply = read_reply(std::chrono::seconds(5));
  if (reply != "ok " + mode) throw std::runtime_error("hangfs did not switch to " + mode + ": " + reply);
}

TimedCall timed_syscall(const std::string& op, const std::string& path, size_t length, uint64_t offset,
                        std::chrono::milliseconds kill_after) {
  auto r = run_program({TIMED_SYSCALL_PATH, op, path, std::to_string(length), std::to_string(offset)}, kill_after);
  TimedCall t;
  t.exit_code = r.exit_code;
  if (r.exit_code != 0) {
    t.exit_code = -1;
    t.ms = static_cast<double>(kill_after.count());
    t.err = -1;
    return t;
  }
  std::istringstream in(r.out);
  in >> t.ms >> t.err >> t.data;
  return t;
}

}  // namespace musicfs::test
