#pragma once
// Accepts connections on the control socket and answers one request per line with
// one reply per line. Only peers with the daemon's own uid (or root) are served
// (SO_PEERCRED).
//
// One loop thread owns every connection that is waiting for its next request: it
// reads them without blocking, so a client that connects and sends nothing (or half
// a line) costs a descriptor, not a thread, and is closed with a `timeout` error
// once its deadline passes. A complete request goes to a thread of its own, in one
// of two bounded pools: commands, and streams (events --follow, cache prefetch), so
// that long-lived streams never take the slots that commands need. A request that
// finds its pool full, or a connection beyond the waiting limit, gets a `busy` error
// reply, never a silent close. A malformed, oversized or unknown request gets an
// error reply and never takes the daemon down.
#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

struct ControlLimits {
  size_t max_commands = 64;   // requests being handled at once
  size_t max_streams = 32;    // streams open at once, apart from the commands
  size_t max_waiting = 128;   // connections waiting for a request; beyond, the oldest goes
  // A complete request line must arrive within this of connecting or of the last reply.
  std::chrono::milliseconds request_timeout{10000};
  // A reply the peer does not read for this long ends the connection (SO_SNDTIMEO).
  std::chrono::milliseconds send_timeout{10000};
};

class ControlServer {
 public:
  using Dispatch = std::function<Reply(const Request&, Connection&)>;
  // True for a request that holds its connection for long: it runs in the stream pool.
  using IsStream = std::function<bool(const Request&)>;

  ControlServer(UniqueFd listen_fd, Dispatch dispatch, IsStream is_stream, ControlLimits limits = {});
  ~ControlServer();
  void start();
  void stop();  // stops accepting and closes every connection

 private:
  using Clock = std::chrono::steady_clock;
  // A connection between requests. Owned by the loop thread only.
  struct Waiting {
    UniqueFd fd;
    std::string buf;  // bytes after the last complete line
    Clock::time_point deadline;
  };
  // A connection whose request runs on its own thread.
  struct Worker {
    int fd = -1;  // for stop(): shut down while the thread owns it
    bool stream = false;
    bool done = false;
    std::thread thread;
  };

  void loop();
  void accept_ready();
  void accept_when_out_of_fds(int err);
  void admit(UniqueFd fd);
  // Reads what has arrived; false when the connection is finished (closed or handed on).
  bool read_waiting(Waiting& w);
  // Handles complete lines in w.buf; false when the connection went to a worker.
  bool take_lines(Waiting& w);
  void start_worker(Waiting w, Request req, bool stream);
  void reap_workers();
  int poll_timeout_ms() const;

  UniqueFd listen_fd_;
  Dispatch dispatch_;
  IsStream is_stream_;
  ControlLimits limits_;
  UniqueFd stop_fd_;
  UniqueFd wake_fd_;   // a worker handed a connection back
  UniqueFd spare_fd_;  // given up to accept (and refuse) a client when out of descriptors
  std::thread loop_thread_;
  std::list<Waiting> waiting_;  // loop thread only
  Clock::time_point accept_paused_until_{};
  Clock::time_point out_of_fds_logged_at_{};

  // Lock order: mu_ only; never held across I/O other than close/shutdown.
  std::mutex mu_;
  std::list<Worker> workers_;
  std::vector<Waiting> returned_;  // connections back from workers, for the loop
  bool stopping_ = false;
};

// Creates, binds and listens on the socket (mode 0600). `lock_fd` receives the lock
// that proves this daemon owns the socket; a second daemon fails here.
Result<UniqueFd> listen_on_socket(const std::string& path, UniqueFd& lock_fd);

}  // namespace musicfs
