// type = "mpd": MPD's protocol (https://mpd.readthedocs.io/en/latest/protocol.html)
// over `socket` (a Unix socket) or `host`/`port`: the greeting "OK MPD x.y.z", then
// `password` when password_file is set, then `update "DIR"` for each changed
// directory, relative to music_root (the mount path MPD's music_directory points at).
// MPD then rescans only those directories, with auto_update off or unable to see
// changes in a FUSE mount. The name lookup, connect, write and each reply are bounded
// by the attempt's deadline; the password is read from its file at each attempt and
// never logged.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "notify/notifier.h"
#include "util/host_resolver.h"
#include "util/unique_fd.h"

namespace musicfs {

namespace {

// Waits are cut into steps this long, so that a daemon that stops is not held up.
constexpr int64_t kStepMs = 100;

int step_ms(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, kStepMs));
}

Status wait_fd(int fd, short events, SteadyClock::time_point deadline, const std::atomic<bool>& cancelled,
               const std::string& what) {
  for (;;) {
    if (cancelled.load()) return make_error(ErrorCode::kUnavailable, what + ": the daemon is stopping");
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, step_ms(deadline));
    if (r > 0) return {};
    if (r == 0 && SteadyClock::now() >= deadline) return make_error(ErrorCode::kTimedOut, what + ": timed out");
    if (r < 0 && errno != EINTR) return Error::from_errno(errno, what);
  }
}

// Non-blocking connect bounded by the deadline.
Result<UniqueFd> connect_to(const sockaddr* addr, socklen_t len, int family, SteadyClock::time_point deadline,
                            const std::atomic<bool>& cancelled, const std::string& where) {
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Error::from_errno(errno, "socket");
  if (::connect(fd.get(), addr, len) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) return Error::from_errno(errno, "connect to " + where);
    if (auto s = wait_fd(fd.get(), POLLOUT, deadline, cancelled, "connect to " + where); !s) return s.error();
    int err = 0;
    socklen_t el = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) return Error::from_errno(err, "connect to " + where);
  }
  return fd;
}

// MPD arguments in double quotes: backslash and double quote escaped with a
// backslash. A newline cannot be carried at all (a request is one line).
std::optional<std::string> quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n' || c == '\r') return std::nullopt;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

class MpdConnection {
 public:
  MpdConnection(UniqueFd fd, SteadyClock::time_point deadline, const std::atomic<bool>& cancelled)
      : fd_(std::move(fd)), deadline_(deadline), cancelled_(cancelled) {}

  Status send(const std::string& line) {
    std::string data = line + "\n";
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (auto s = wait_fd(fd_.get(), POLLOUT, deadline_, cancelled_, "mpd: send"); !s) return s;
      } else {
        return Error::from_errno(errno, "mpd: send");
      }
    }
    return {};
  }

  Result<std::string> line() {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      if (buf_.size() > 64 * 1024) return make_error(ErrorCode::kProtocol, "mpd: reply line too long");
      char tmp[4096];
      ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
      if (n > 0) {
        buf_.append(tmp, static_cast<size_t>(n));
      } else if (n == 0) {
        return make_error(ErrorCode::kUnavailable, "mpd closed the connection");
      } else if (errno == EAGAIN || errno == EINTR) {
        if (auto s = wait_fd(fd_.get(), POLLIN, deadline_, cancelled_, "mpd: reply"); !s) return s.error();
      } else {
        return Error::from_errno(errno, "mpd: receive");
      }
    }
  }

  // Reads a command's reply up to its "OK" or "ACK ..." line; `what` names the
  // command in an error (never its arguments when they are a secret).
  Status reply(const std::string& what, std::string* last = nullptr) {
    for (;;) {
      auto l = line();
      if (!l) return l.error();
      if (*l == "OK") return {};
      if (l->rfind("ACK ", 0) == 0) return make_error(ErrorCode::kIo, "mpd refused " + what + ": " + *l);
      if (last != nullptr) *last = *l;
    }
  }

 private:
  UniqueFd fd_;
  SteadyClock::time_point deadline_;
  const std::atomic<bool>& cancelled_;
  std::string buf_;
};

class MpdNotifier : public Notifier {
 public:
  explicit MpdNotifier(const NotifyConfig& c)
      : socket_(c.string_setting("socket")),
        host_(c.string_setting("host", "127.0.0.1")),
        port_(c.int_setting("port", 6600)),
        password_file_(c.string_setting("password_file")),
        music_root_(c.string_setting("music_root", "/")) {}

  void cancel() override { cancelled_.store(true); }

  std::string describe() const override {
    return "mpd " + (socket_.empty() ? host_ + ":" + std::to_string(port_) : socket_);
  }

  Status deliver(const std::vector<std::string>& dirs, SteadyClock::time_point deadline, std::string& detail) override {
    std::vector<std::string> uris;
    for (const auto& d : dirs) {
      if (auto u = relative_to_root(d)) uris.push_back(*u);
    }
    if (uris.empty()) {
      detail = "nothing below music_root " + music_root_;
      return {};
    }
    auto fd = connect(deadline);
    if (!fd) return fd.error();
    MpdConnection mpd(std::move(*fd), deadline, cancelled_);
    auto greeting = mpd.line();
    if (!greeting) return greeting.error();
    if (greeting->rfind("OK MPD ", 0) != 0) return make_error(ErrorCode::kProtocol, "not an MPD server: " + *greeting);
    if (!password_file_.empty()) {
      auto pw = read_password();
      if (!pw) return pw.error();
      auto q = quoted(*pw);
      if (!q) return make_error(ErrorCode::kConfig, "password_file " + password_file_ + " holds more than one line");
      if (auto s = mpd.send("password " + *q); !s) return s;
      if (auto s = mpd.reply("the password"); !s) return s;
    }
    size_t sent = 0;
    for (const auto& u : uris) {
      auto q = quoted(u);
      if (!q) continue;  // MPD cannot name it; it is found by the next full update
      std::string job;
      if (auto s = mpd.send(u.empty() ? std::string("update") : "update " + *q); !s) return s;
      if (auto s = mpd.reply("update", &job); !s) return s;
      ++sent;
    }
    (void)mpd.send("close");
    detail = std::to_string(sent) + " update(s) queued";
    return {};
  }

 private:
  // "" is the whole of MPD's library; nullopt: outside what MPD sees.
  std::optional<std::string> relative_to_root(const std::string& dir) const {
    if (music_root_ == "/") return dir == "/" ? std::string() : dir.substr(1);
    if (dir == music_root_) return std::string();
    if (dir.size() > music_root_.size() && dir.compare(0, music_root_.size(), music_root_) == 0 &&
        dir[music_root_.size()] == '/') {
      return dir.substr(music_root_.size() + 1);
    }
    // A change above the root (it was added, say) may hold all of MPD's library.
    if (music_root_.size() > dir.size() && music_root_.compare(0, dir.size(), dir) == 0 &&
        (dir == "/" || music_root_[dir.size()] == '/')) {
      return std::string();
    }
    return std::nullopt;
  }

  Result<std::string> read_password() const {
    std::ifstream in(password_file_, std::ios::binary);
    if (!in) return make_error(ErrorCode::kConfig, "password_file " + password_file_ + ": cannot read it");
    std::string pw;
    std::getline(in, pw);
    return pw;
  }

  Result<UniqueFd> connect(SteadyClock::time_point deadline) const {
    if (!socket_.empty()) {
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      if (socket_.size() >= sizeof a.sun_path) return make_error(ErrorCode::kConfig, "socket path too long: " + socket_);
      std::copy(socket_.begin(), socket_.end(), a.sun_path);
      return connect_to(reinterpret_cast<sockaddr*>(&a), sizeof a, AF_UNIX, deadline, cancelled_, socket_);
    }
    const std::string where = host_ + ":" + std::to_string(port_);
    auto addrs = resolve_host(host_, std::to_string(port_), deadline, &cancelled_);
    if (!addrs) return addrs.error();
    Result<UniqueFd> out = make_error(ErrorCode::kUnavailable, "no address for " + where);
    for (const auto& a : *addrs) {
      out = connect_to(a.sockaddr_ptr(), a.length, a.family, deadline, cancelled_, where);
      if (out) break;
    }
    return out;
  }

  const std::string socket_;
  const std::string host_;
  const int64_t port_;
  const std::string password_file_;
  const std::string music_root_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

NotifierTypeInfo mpd_notifier_type() {
  NotifierTypeInfo t;
  t.name = "mpd";
  t.summary = "asks MPD to update the changed directories";
  t.settings = {
      {"socket", SettingKind::kAbsolutePath, false, "MPD's Unix socket (instead of host and port)"},
      {"host", SettingKind::kString, false, "MPD's host (default 127.0.0.1)"},
      {"port", SettingKind::kInteger, false, "MPD's port (default 6600)", 1, 65535},
      {"password_file", SettingKind::kAbsolutePath, false, "a file whose first line is MPD's password", 0, 0, true},
      {"music_root", SettingKind::kString, false, "the mount path MPD's music_directory points at (default /)"},
      {"timeout_ms", SettingKind::kInteger, false, "how long one attempt may take (default 10000)", 100, 600'000},
  };
  t.check = [](const NotifyConfig& c) -> std::string {
    if (!c.string_setting("socket").empty() && (c.settings.count("host") || c.settings.count("port"))) {
      return "set either socket or host and port, not both";
    }
    const std::string root = c.string_setting("music_root", "/");
    if (root.empty() || root.front() != '/' || (root.size() > 1 && root.back() == '/')) {
      return "music_root '" + root + "' must be a path in the mount such as / or /Music";
    }
    return {};
  };
  t.create = [](const NotifyConfig& c) -> Result<NotifierPtr> { return NotifierPtr(new MpdNotifier(c)); };
  return t;
}

}  // namespace musicfs
