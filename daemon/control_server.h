#pragma once
// Accepts connections on the control socket and answers one request per line with
// one reply per line. Each connection has its own thread; a malformed, oversized or
// unknown request gets an error reply and never takes the daemon down. Only peers
// with the daemon's own uid (or root) are served (SO_PEERCRED).
#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "protocol/protocol.h"
#include "util/unique_fd.h"

namespace musicfs {

// A client connection as a handler sees it: streaming handlers (events --follow)
// write extra lines before their final reply.
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  bool write_line(const std::string& line);  // line must end in '\n'
  // True when the peer has closed its end (used to end a stream).
  bool peer_closed() const;
  int fd() const { return fd_; }
  // Runs once the handler's reply has been written (e.g. stopping the daemon, which
  // must not race the reply that confirms it).
  void after_reply(std::function<void()> fn) { after_reply_ = std::move(fn); }
  void run_after_reply() {
    if (after_reply_) std::exchange(after_reply_, nullptr)();
  }

 private:
  int fd_;
  std::function<void()> after_reply_;
};

class ControlServer {
 public:
  using Dispatch = std::function<Reply(const Request&, Connection&)>;

  ControlServer(UniqueFd listen_fd, Dispatch dispatch);
  ~ControlServer();
  void start();
  void stop();  // stops accepting and closes every connection

 private:
  void accept_loop();
  void serve(int fd);

  UniqueFd listen_fd_;
  Dispatch dispatch_;
  UniqueFd stop_fd_;
  std::thread acceptor_;
  std::mutex mu_;
  struct Client {
    int fd;
    std::thread thread;
    bool done = false;
  };
  std::list<Client> clients_;
  std::atomic<bool> stopping_{false};
};

// Creates, binds and listens on the socket (mode 0600). `lock_fd` receives the lock
// that proves this daemon owns the socket; a second daemon fails here.
Result<UniqueFd> listen_on_socket(const std::string& path, UniqueFd& lock_fd);

}  // namespace musicfs
