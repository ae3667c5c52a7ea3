#include "client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <thread>

#include "util/unique_fd.h"

namespace musicfs::cli {

namespace {

std::optional<UniqueFd> connect_socket(const std::string& path, int* err) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    *err = ENAMETOOLONG;
    return std::nullopt;
  }
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *err = errno;
    return std::nullopt;
  }
  return fd;
}

bool send_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int exit_code_for(const std::string& code) {
  if (code == "config" || code == "invalid_argument" || code == "protocol") return kExitUsage;
  return kExitFailed;
}

CallOutcome call_daemon(const Globals& g, const std::string& cmd, const nlohmann::json& args,
                        const std::function<void(const nlohmann::json&)>& on_stream) {
  std::string path = g.socket_path();
  int err = 0;
  auto fd = connect_socket(path, &err);
  if (!fd) {
    if (err == ENOENT || err == ECONNREFUSED) {
      std::cerr << "musicfsctl: no daemon is running on " << path
                << " (start one with 'musicfsctl daemon' or 'musicfsctl mount')\n";
    } else {
      std::cerr << "musicfsctl: cannot connect to " << path << ": " << std::strerror(err) << "\n";
    }
    return {std::nullopt, kExitUnreachable};
  }
  if (!send_all(fd->get(), encode_request({cmd, args}))) {
    std::cerr << "musicfsctl: the daemon on " << path << " closed the connection\n";
    return {std::nullopt, kExitUnreachable};
  }
  std::string buf;
  char chunk[65536];
  for (;;) {
    size_t nl;
    while ((nl = buf.find('\n')) == std::string::npos) {
      ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::cerr << "musicfsctl: the daemon on " << path << " closed the connection without a reply\n";
        return {std::nullopt, kExitUnreachable};
      }
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 1);
    // Streamed lines ({"event": ...} from events --follow, {"progress": ...} from
    // cache prefetch) have no "ok"; the final line is the reply.
    if (on_stream) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && !j.contains("ok")) {
        on_stream(j);
        continue;
      }
    }
    auto reply = decode_reply(line);
    if (!reply) {
      std::cerr << "musicfsctl: " << reply.error().message << "\n";
      return {std::nullopt, kExitFailed};
    }
    if (!reply->ok) {
      std::cerr << "musicfsctl: " << reply->error_message << "\n";
      int code = exit_code_for(reply->error_code);  // before the reply is moved out
      return {std::move(*reply), code};
    }
    return {std::move(*reply), kExitOk};
  }
}

bool daemon_answers(const Globals& g) {
  int err = 0;
  auto fd = connect_socket(g.socket_path(), &err);
  if (!fd) return false;
  if (!send_all(fd->get(), encode_request({"ping", nlohmann::json::object()}))) return false;
  struct pollfd p = {fd->get(), POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) return false;
  char c[512];
  return ::recv(fd->get(), c, sizeof c, 0) > 0;
}

std::optional<std::string> start_daemon_detached(const Globals& g) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::string socket = g.socket_path();
  pid_t pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    ::close(pipefd[0]);
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the daemon is reparented, never our zombie
    (void)!::chdir("/");
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    int ready = ::fcntl(pipefd[1], F_DUPFD, 10);  // without CLOEXEC: it must survive exec
    std::string ready_s = std::to_string(ready);
    std::vector<std::string> args = {"musicfsctl", "--socket", socket};
    if (!g.log_level.empty()) {
      args.push_back("--log-level");
      args.push_back(g.log_level);
    }
    args.insert(args.end(), {"daemon", "--detached", "--ready-fd", ready_s});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
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
    return answer;
  }
  return std::string("the daemon did not report ready in time");
}

}  // namespace musicfs::cli
