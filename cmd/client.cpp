#include "client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <thread>
#include <variant>

#include "protocol/socket_path.h"
#include "util/unique_fd.h"

namespace musicfs::cli {

namespace {

using Clock = std::chrono::steady_clock;

// How long the client may still wait. No limit when `limit` is nullopt.
class Timer {
 public:
  explicit Timer(std::optional<Clock::duration> limit) : limit_(limit) { restart(); }
  void restart() {
    if (limit_) at_ = Clock::now() + *limit_;
  }
  bool passed() const { return limit_ && Clock::now() >= at_; }
  // For poll(): the time left, rounded up; -1 for no limit.
  int poll_ms() const {
    if (!limit_) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left + 1, 0, 1000 * 1000));
  }

 private:
  std::optional<Clock::duration> limit_;
  Clock::time_point at_{};
};

// Why an exchange with the daemon did not produce a reply.
struct Failure {
  std::string message;  // without "musicfsctl: "
  int exit_code = kExitUnreachable;
};

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

// The daemon's words go to a terminal: one line, no control characters.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

std::variant<UniqueFd, Failure> connect_socket(const std::string& path, const Timer& timer, double limit_secs) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Failure{"cannot connect to " + path + ": " + std::strerror(ENAMETOOLONG)};
  }
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Failure{std::string("socket: ") + std::strerror(errno)};
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    const int err = errno;
    if (err == EINTR) continue;
    if (err == ENOENT || err == ECONNREFUSED) {
      return Failure{"no daemon is running on " + path + " (start one with 'musicfsctl daemon' or 'musicfsctl mount')"};
    }
    // A Unix socket whose listen backlog is full says EAGAIN rather than blocking:
    // the daemon is alive but not accepting, so retry until the timeout.
    if (err != EAGAIN) return Failure{"cannot connect to " + path + ": " + std::strerror(err)};
    if (timer.passed()) {
      return Failure{"the daemon on " + path + " did not accept the connection within " + seconds_text(limit_secs) +
                     " s (--timeout)"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<Failure> send_all(int fd, const std::string& s, const std::string& path, const Timer& timer,
                                double limit_secs) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      if (::poll(&p, 1, timer.poll_ms()) == 0 || timer.passed()) {
        return Failure{"the daemon on " + path + " did not read the request within " + seconds_text(limit_secs) +
                       " s (--timeout)"};
      }
      continue;
    }
    return Failure{"the daemon on " + path + " closed the connection"};
  }
  return std::nullopt;
}

// One request, its streamed lines and its reply. Prints nothing.
std::variant<Reply, Failure> exchange(const std::string& path, const Request& req, std::optional<double> limit_secs,
                                      const std::function<void(const nlohmann::json&)>& on_stream) {
  if (auto s = check_private_socket_dir(path); !s) {
    return Failure{"refusing to use the socket " + path + ": " + s.error().message};
  }
  std::optional<Clock::duration> limit;
  if (limit_secs) limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*limit_secs));
  Timer timer(limit);
  const double shown = limit_secs.value_or(0);
  auto connected = connect_socket(path, timer, shown);
  if (auto* f = std::get_if<Failure>(&connected)) return std::move(*f);
  UniqueFd fd = std::move(std::get<UniqueFd>(connected));
  if (auto f = send_all(fd.get(), encode_request(req), path, timer, shown)) return std::move(*f);

  std::string buf;
  char chunk[65536];
  size_t scanned = 0;  // bytes of buf already searched for '\n'
  for (;;) {
    size_t nl;
    while ((nl = buf.find('\n', scanned)) == std::string::npos) {
      scanned = buf.size();
      if (buf.size() > kMaxReplyLineBytes) {
        return Failure{"the daemon sent a malformed reply (a line longer than " + std::to_string(kMaxReplyLineBytes) +
                           " bytes)",
                       kExitFailed};
      }
      struct pollfd p = {fd.get(), POLLIN, 0};
      int ready = ::poll(&p, 1, timer.poll_ms());
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0 || timer.passed()) {
        return Failure{"the daemon on " + path + " did not answer within " + seconds_text(shown) +
                       " s (see --timeout)"};
      }
      ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return Failure{"the daemon on " + path + " closed the connection without a reply"};
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::string_view line(buf.data(), nl);
    auto j = parse_reply_line(line);
    buf.erase(0, nl + 1);
    scanned = 0;
    if (!j) return Failure{j.error().message, kExitFailed};
    // Streamed lines ({"event": ...} from events --follow, {"progress": ...} from
    // cache prefetch, {"keepalive": true}) have no "ok"; the final line is the reply.
    if (j->is_object() && !j->contains("ok")) {
      timer.restart();
      if (on_stream) on_stream(*j);
      continue;
    }
    auto reply = reply_from_json(std::move(*j));
    if (!reply) return Failure{reply.error().message, kExitFailed};
    return std::move(*reply);
  }
}

}  // namespace

std::optional<double> call_timeout_secs(const Globals& g, bool long_running) {
  if (g.timeout_secs > 0) return g.timeout_secs;
  if (g.timeout_secs == 0 || long_running) return std::nullopt;
  return kDefaultTimeoutSecs;
}

int exit_code_for(const std::string& code) {
  if (code == "config" || code == "invalid_argument" || code == "protocol") return kExitUsage;
  return kExitFailed;
}

CallOutcome call_daemon(const Globals& g, const std::string& cmd, const nlohmann::json& args,
                        const CallOptions& options) {
  auto out = exchange(g.socket_path(), {cmd, args}, call_timeout_secs(g, options.long_running), options.on_stream);
  if (auto* f = std::get_if<Failure>(&out)) {
    std::cerr << "musicfsctl: " << one_line(f->message) << "\n";
    return {std::nullopt, f->exit_code};
  }
  Reply& reply = std::get<Reply>(out);
  if (!reply.ok) {
    std::cerr << "musicfsctl: " << one_line(reply.error_message) << "\n";
    int code = exit_code_for(reply.error_code);  // before the reply is moved out
    return {std::move(reply), code};
  }
  return {std::move(reply), kExitOk};
}

bool daemon_answers(const Globals& g) {
  auto out = exchange(g.socket_path(), {"ping", nlohmann::json::object()}, 2.0, nullptr);
  return std::holds_alternative<Reply>(out) && std::get<Reply>(out).ok;
}

void stop_daemon_if_idle(const Globals& g) {
  auto status = exchange(g.socket_path(), {"status", nlohmann::json::object()}, 5.0, nullptr);
  if (!std::holds_alternative<Reply>(status)) return;
  const Reply& r = std::get<Reply>(status);
  if (!r.ok || !r.result.is_object() || !r.result.contains("mounts") || !r.result["mounts"].is_array() ||
      !r.result["mounts"].empty()) {
    return;
  }
  (void)exchange(g.socket_path(), {"shutdown", nlohmann::json::object()}, 5.0, nullptr);
}

namespace {
// In the daemon-to-be, after fork: only 0-2 (/dev/null) and the ready pipe, as fd 3,
// survive into exec. Whatever the caller had open (a pipe to `| cat`, a terminal, a
// lock) must not be held by a daemon that outlives it. Async-signal-safe calls only.
void keep_only_std_and(int ready_fd) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
  }
  ::dup2(ready_fd, 3);  // dup2 leaves the copy without FD_CLOEXEC: it survives exec
  if (::syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
    // Kernels before 5.9: every descriptor up to the limit.
    long max = ::sysconf(_SC_OPEN_MAX);
    for (long fd = 4; fd < (max > 0 ? max : 1024); ++fd) ::close(static_cast<int>(fd));
  }
}
}  // namespace

std::optional<std::string> start_daemon_detached(const Globals& g) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::string socket = g.socket_path();
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<std::string> args = {"musicfsctl", "--socket", socket};
  if (!g.log_level.empty()) {
    args.push_back("--log-level");
    args.push_back(g.log_level);
  }
  args.insert(args.end(), {"daemon", "--detached", "--ready-fd", "3"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    ::close(pipefd[0]);
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the daemon is reparented, never our zombie
    (void)!::chdir("/");
    int ready = pipefd[1];
    if (ready <= 3) {
      // Keep it clear of 0-3, which keep_only_std_and overwrites.
      ready = ::fcntl(pipefd[1], F_DUPFD_CLOEXEC, 10);
      if (ready < 0) ::_exit(127);
    }
    keep_only_std_and(ready);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string answer;
  struct pollfd p = {pipefd[0], POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::poll(&p, 1, 100) > 0) {
      char buf[1024];
      ssize_t n = ::read(pipefd[0], buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
      if (answer.find('\n') != std::string::npos) break;
    }
  }
  ::close(pipefd[0]);
  if (answer.rfind("ok", 0) == 0) return std::nullopt;
  // Another client may have started a daemon at the same moment: that one is fine too.
  if (daemon_answers(g)) return std::nullopt;
  if (answer.rfind("error: ", 0) == 0) {
    answer = answer.substr(7);
    while (!answer.empty() && answer.back() == '\n') answer.pop_back();
    return one_line(answer);
  }
  return std::string("the daemon did not report ready in time");
}

}  // namespace musicfs::cli
