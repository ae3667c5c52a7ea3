#include "control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/time.h>

#include <algorithm>
#include <cstring>

#include "protocol/socket_path.h"

namespace musicfs {

bool Connection::write_line(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool Connection::peer_closed() const {
  struct pollfd p = {fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

Result<UniqueFd> listen_on_socket(const std::string& path, UniqueFd& lock_fd) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return make_error(ErrorCode::kInvalidArgument, "socket path too long: " + path);
  }
  if (auto s = ensure_private_socket_dir(path); !s) return s.take_error();
  // The lock, not the socket file, says whether a daemon is alive: a socket left by a
  // daemon killed with SIGKILL has no lock holder and is simply replaced.
  std::string lock_path = path + ".lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) return Error::from_errno(errno, "cannot open lock file " + lock_path);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return make_error(ErrorCode::kExists, "another musicfs daemon is already running on " + path);
  }
  ::unlink(path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::from_errno(errno, "socket");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  mode_t old = ::umask(0177);  // the socket is born 0600: no window where others may connect
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0) return Error::from_errno(errno, "cannot bind control socket " + path);
  ::chmod(path.c_str(), 0600);
  if (::listen(fd.get(), 64) != 0) return Error::from_errno(errno, "listen on " + path);
  lock_fd = std::move(lock);
  return fd;
}

namespace {
// A short error line written by the loop thread, which must never block on a client:
// a peer that does not read loses the line, not the loop.
void send_nonblocking(int fd, const Reply& reply) {
  std::string line = encode_reply(reply);
  (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

Reply busy_reply(const std::string& why) { return Reply::failure("busy", "the daemon is busy: " + why); }

bool peer_allowed(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && (cred.uid == ::getuid() || cred.uid == 0)) {
    return true;
  }
  spdlog::warn("refused a control connection from uid {}", cred.uid);
  return false;
}
}  // namespace

ControlServer::ControlServer(UniqueFd listen_fd, Dispatch dispatch, IsStream is_stream, ControlLimits limits)
    : listen_fd_(std::move(listen_fd)),
      dispatch_(std::move(dispatch)),
      is_stream_(std::move(is_stream)),
      limits_(limits),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      spare_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
  // The loop accepts until EAGAIN, so one readable event drains the backlog.
  int flags = ::fcntl(listen_fd_.get(), F_GETFL);
  if (flags >= 0) ::fcntl(listen_fd_.get(), F_SETFL, flags | O_NONBLOCK);
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  loop_thread_ = std::thread([this] { loop(); });
}

void ControlServer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
  if (loop_thread_.joinable()) loop_thread_.join();
  waiting_.clear();
  std::list<Worker> workers;
  {
    std::lock_guard lock(mu_);
    // Streams notice the shutdown (peer_closed) and end; replies fail fast.
    for (auto& w : workers_) {
      if (!w.done) ::shutdown(w.fd, SHUT_RDWR);
    }
    workers.swap(workers_);
    returned_.clear();
  }
  for (auto& w : workers) {
    if (w.thread.joinable()) w.thread.join();
  }
}

int ControlServer::poll_timeout_ms() const {
  auto now = Clock::now();
  auto next = now + std::chrono::seconds(1);
  for (const auto& w : waiting_) next = std::min(next, w.deadline);
  if (accept_paused_until_ > now) next = std::min(next, accept_paused_until_);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::max<int64_t>(ms, 0) + 1);  // +1: wake just after, not just before
}

void ControlServer::loop() {
  std::vector<struct pollfd> fds;
  std::vector<std::list<Waiting>::iterator> polled;
  for (;;) {
    reap_workers();
    const bool accepting = Clock::now() >= accept_paused_until_;
    fds.clear();
    polled.clear();
    fds.push_back({stop_fd_.get(), POLLIN, 0});
    fds.push_back({wake_fd_.get(), POLLIN, 0});
    fds.push_back({accepting ? listen_fd_.get() : -1, POLLIN, 0});
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
      fds.push_back({it->fd.get(), POLLIN, 0});
      polled.push_back(it);
    }
    if (::poll(fds.data(), fds.size(), poll_timeout_ms()) < 0 && errno != EINTR) {
      spdlog::error("control socket: poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents != 0) {
      uint64_t n;
      (void)!::read(wake_fd_.get(), &n, sizeof n);
    }
    const auto now = Clock::now();
    for (size_t i = 0; i < polled.size(); ++i) {
      auto it = polled[i];
      bool keep = true;
      if (fds[3 + i].revents != 0) {
        keep = read_waiting(*it);
      } else if (now >= it->deadline) {
        send_nonblocking(it->fd.get(), Reply::failure("timeout", "no complete request within " +
                                                                     std::to_string(limits_.request_timeout.count() / 1000) +
                                                                     " s; closing the connection"));
        keep = false;
      }
      if (!keep) waiting_.erase(it);
    }
    if (fds[2].revents & POLLIN) accept_ready();
  }
}

void ControlServer::reap_workers() {
  std::vector<Waiting> back;
  {
    std::lock_guard lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->done) {
        it->thread.join();  // it has finished: done is its last step
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    back.swap(returned_);
  }
  for (auto& w : back) {
    // A request that was pipelined behind the last one is handled now.
    if (take_lines(w)) waiting_.push_back(std::move(w));
  }
}

void ControlServer::accept_ready() {
  // Bounded, so a flood of connects cannot starve the connections already waiting.
  for (int i = 0; i < 64; ++i) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      admit(UniqueFd(fd));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    accept_when_out_of_fds(errno);
    return;
  }
}

void ControlServer::accept_when_out_of_fds(int err) {
  // The pending connection stays in the backlog, so the listening socket stays
  // readable: polling it again at once would spin a core. Give the spare descriptor
  // up to accept the client and tell it why, then pause accepting briefly.
  // Once a minute at most: descriptors come and go, and each failure is one client.
  const auto now = Clock::now();
  if (out_of_fds_logged_at_ == Clock::time_point{} || now - out_of_fds_logged_at_ >= std::chrono::minutes(1)) {
    spdlog::warn("control socket: cannot accept a connection: {}; refusing clients until descriptors are free",
                 std::strerror(err));
    out_of_fds_logged_at_ = now;
  }
  if ((err == EMFILE || err == ENFILE) && spare_fd_.valid()) {
    spare_fd_.reset();
    UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (fd.valid()) send_nonblocking(fd.get(), busy_reply("it has run out of file descriptors; try again later"));
    fd.reset();
    spare_fd_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  accept_paused_until_ = now + std::chrono::milliseconds(100);
}

void ControlServer::admit(UniqueFd fd) {
  if (!peer_allowed(fd.get())) {
    send_nonblocking(fd.get(), Reply::failure("permission", "this daemon serves only its own user"));
    return;
  }
  struct timeval tv {};
  tv.tv_sec = static_cast<time_t>(limits_.send_timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(limits_.send_timeout.count() % 1000 * 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (waiting_.size() >= limits_.max_waiting) {
    // The one nearest its deadline has waited longest: most likely a client that
    // will never speak. Closing it keeps room for clients that will.
    auto oldest = std::min_element(waiting_.begin(), waiting_.end(),
                                   [](const Waiting& a, const Waiting& b) { return a.deadline < b.deadline; });
    send_nonblocking(oldest->fd.get(), busy_reply("too many idle control connections; this one waited longest"));
    waiting_.erase(oldest);
  }
  waiting_.push_back({std::move(fd), std::string(), Clock::now() + limits_.request_timeout});
}

bool ControlServer::read_waiting(Waiting& w) {
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(w.fd.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return false;  // the peer closed, or the connection failed
    w.buf.append(chunk, static_cast<size_t>(n));
    if (w.buf.size() > kMaxLineBytes) break;
  }
  return take_lines(w);
}

bool ControlServer::take_lines(Waiting& w) {
  for (;;) {
    size_t nl = w.buf.find('\n');
    if (nl == std::string::npos) {
      if (w.buf.size() > kMaxLineBytes) {
        send_nonblocking(w.fd.get(), Reply::failure("protocol", "request line longer than " +
                                                                    std::to_string(kMaxLineBytes) + " bytes"));
        return false;  // cannot find the next line boundary reliably; drop the connection
      }
      return true;
    }
    std::string_view line(w.buf.data(), nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      w.buf.erase(0, nl + 1);
      continue;
    }
    auto req = decode_request(line);
    w.buf.erase(0, nl + 1);
    w.deadline = Clock::now() + limits_.request_timeout;
    if (!req) {
      send_nonblocking(w.fd.get(), Reply::failure(req.error()));
      continue;
    }
    bool stream = false;
    try {
      stream = is_stream_ && is_stream_(*req);
    } catch (const std::exception& ex) {
      // This runs on the loop thread: nothing may escape it. Treat it as a command.
      spdlog::error("classifying '{}' failed: {}", req->cmd, ex.what());
    }
    size_t running = 0;
    {
      std::lock_guard lock(mu_);
      for (const auto& k : workers_) running += !k.done && k.stream == stream ? 1 : 0;
    }
    const size_t limit = stream ? limits_.max_streams : limits_.max_commands;
    if (running >= limit) {
      send_nonblocking(w.fd.get(), busy_reply(std::to_string(running) + (stream ? " streams" : " requests") +
                                              " are already running; try again later"));
      continue;
    }
    start_worker(std::move(w), std::move(*req), stream);
    return false;
  }
}

void ControlServer::start_worker(Waiting w, Request req, bool stream) {
  std::lock_guard lock(mu_);
  workers_.push_back({w.fd.get(), stream, false, {}});
  Worker* worker = &workers_.back();
  worker->thread = std::thread([this, worker, w = std::move(w), req = std::move(req)]() mutable {
    Connection conn(w.fd.get());
    Reply reply;
    try {
      reply = dispatch_(req, conn);
    } catch (const std::exception& ex) {
      // A handler bug must not take the daemon down; report it and carry on.
      spdlog::error("handler for '{}' failed: {}", req.cmd, ex.what());
      reply = Reply::failure("internal", std::string("internal error: ") + ex.what());
    }
    bool sent = conn.write_line(encode_reply(reply));
    conn.run_after_reply();
    std::lock_guard l(mu_);
    if (sent && !stopping_) {
      w.deadline = Clock::now() + limits_.request_timeout;
      returned_.push_back(std::move(w));
      uint64_t one = 1;
      (void)!::write(wake_fd_.get(), &one, sizeof one);
    } else {
      w.fd.reset();
    }
    worker->done = true;
  });
}

}  // namespace musicfs
