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

ControlServer::ControlServer(UniqueFd listen_fd, Dispatch dispatch)
    : listen_fd_(std::move(listen_fd)), dispatch_(std::move(dispatch)), stop_fd_(::eventfd(0, EFD_CLOEXEC)) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  acceptor_ = std::thread([this] { accept_loop(); });
}

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  std::list<Client> clients;
  {
    std::lock_guard lock(mu_);
    for (auto& c : clients_) ::shutdown(c.fd, SHUT_RDWR);
    clients.swap(clients_);
  }
  for (auto& c : clients) {
    if (c.thread.joinable()) c.thread.join();
  }
}

void ControlServer::accept_loop() {
  constexpr size_t kMaxClients = 64;
  struct pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
  while (!stopping_.load()) {
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) break;
    {
      // Join the threads of finished connections.
      std::lock_guard lock(mu_);
      for (auto it = clients_.begin(); it != clients_.end();) {
        if (it->done) {
          it->thread.join();
          it = clients_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != ::getuid() && cred.uid != 0)) {
      spdlog::warn("refused a control connection from uid {}", cred.uid);
      Connection(fd).write_line(encode_reply(Reply::failure("permission", "this daemon serves only its own user")));
      ::close(fd);
      continue;
    }
    std::lock_guard lock(mu_);
    if (clients_.size() >= kMaxClients) {
      Connection(fd).write_line(encode_reply(Reply::failure("unavailable", "too many control connections")));
      ::close(fd);
      continue;
    }
    clients_.push_back({fd, {}, false});
    Client* c = &clients_.back();
    c->thread = std::thread([this, c] {
      serve(c->fd);
      std::lock_guard l(mu_);
      ::close(c->fd);
      c->done = true;
    });
  }
}

void ControlServer::serve(int fd) {
  Connection conn(fd);
  std::string buf;
  char chunk[64 * 1024];
  for (;;) {
    size_t nl;
    while ((nl = buf.find('\n')) == std::string::npos) {
      if (buf.size() > kMaxLineBytes) {
        conn.write_line(encode_reply(Reply::failure(
            "protocol", "request line longer than " + std::to_string(kMaxLineBytes) + " bytes")));
        return;  // cannot find the next line boundary reliably; drop the connection
      }
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    Reply reply;
    auto req = decode_request(line);
    if (!req) {
      reply = Reply::failure(req.error());
    } else {
      try {
        reply = dispatch_(*req, conn);
      } catch (const std::exception& ex) {
        // A handler bug must not take the daemon down; report it and carry on.
        spdlog::error("handler for '{}' failed: {}", req->cmd, ex.what());
        reply = Reply::failure("internal", std::string("internal error: ") + ex.what());
      }
    }
    bool sent = conn.write_line(encode_reply(reply));
    conn.run_after_reply();
    if (!sent) return;
  }
}

}  // namespace musicfs
