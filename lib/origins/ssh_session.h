#pragma once
// Authenticated SFTP sessions for the sftp origin type: one RAII session (an SSH
// connection with its SFTP channel), a watchdog that bounds every blocking libssh call
// by its deadline, and a small pool of sessions reused across calls.
//
// Why a watchdog: libssh's SFTP calls block in the session's poll loop, and only the
// connect honours SSH_OPTIONS_TIMEOUT reliably. A frozen server (SIGSTOP) would hold the
// calling thread forever. The watchdog shuts the socket down at the deadline, which
// makes the blocked call fail at once; the session is then discarded and the next
// call reconnects.
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "util/time_util.h"

namespace musicfs {

struct SshParams {
  std::string origin_id;
  std::string host;
  int port = 22;
  std::string user;
  std::string identity_file;  // empty: use the ssh-agent
  std::string known_hosts;
};

class SshSession;

// Interrupts sessions whose armed deadline has passed. One thread per pool.
class SshWatchdog {
 public:
  SshWatchdog();
  ~SshWatchdog();
  SshWatchdog(const SshWatchdog&) = delete;
  SshWatchdog& operator=(const SshWatchdog&) = delete;

  void arm(SshSession* s, Deadline d);
  void disarm(SshSession* s);

 private:
  void run();
  std::mutex mu_;  // guards armed_ and stop_; held while interrupting, so a disarmed session is never touched
  std::condition_variable cv_;
  std::map<SshSession*, Deadline> armed_;
  bool stop_ = false;
  std::thread thread_;
};

// One SSH connection with an initialised SFTP channel. Not thread-safe: one user at a time.
class SshSession {
 public:
  SshSession(const SshParams& params, SshWatchdog& watchdog);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // Connects, verifies the host key, authenticates and starts SFTP, all before `deadline`.
  Status open(Deadline deadline);

  ssh_session ssh() { return ssh_; }
  sftp_session sftp() { return sftp_; }

  // Bounds the blocking calls that follow by `deadline`, until the guard goes away.
  class Guard {
   public:
    Guard(SshSession& s, Deadline d);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    void rearm(Deadline d);

   private:
    SshSession& s_;
  };

  // Turns the failure of the last libssh/sftp call into an Error, and marks the session
  // broken when the connection is gone (or was interrupted by the watchdog).
  Error last_error(const std::string& context);
  bool broken() const { return broken_; }
  void mark_broken() { broken_ = true; }

  // An open remote file cached on the session for the OriginFile `owner` (a sequence of
  // reads of one open file reuses its SFTP handle). Returns nullptr with last_error set.
  sftp_file file_for(uint64_t owner, const std::string& remote_path);
  void close_file();

  // Read requests sent ahead on the cached file (sequential readahead) whose replies
  // have not been collected. Whoever closes the file first reads and drops them, so a
  // reply is never taken for another request's.
  struct PendingRead {
    uint64_t off;
    uint32_t len;
    uint32_t id;
  };
  std::deque<PendingRead>& pending() { return pending_; }
  void drain_pending();
  uint64_t file_owner() const { return file_owner_; }

 private:
  friend class SshWatchdog;
  void interrupt();  // called by the watchdog with its lock held
  void set_timeout(Deadline d);
  Status verify_host_key(const std::string& where);
  Status authenticate(const std::string& where);

  const SshParams& params_;
  SshWatchdog& watchdog_;
  ssh_session ssh_ = nullptr;
  sftp_session sftp_ = nullptr;
  bool connected_ = false;
  bool broken_ = false;
  std::atomic<bool> interrupted_{false};
  sftp_file file_ = nullptr;
  uint64_t file_owner_ = 0;
  std::deque<PendingRead> pending_;
};

// Up to `max_sessions` authenticated sessions, created on demand and reused.
class SshPool {
 public:
  SshPool(SshParams params, size_t max_sessions);
  ~SshPool();
  SshPool(const SshPool&) = delete;
  SshPool& operator=(const SshPool&) = delete;

  class Lease {
   public:
    Lease(SshPool* pool, std::unique_ptr<SshSession> s, bool reused)
        : pool_(pool), s_(std::move(s)), reused_(reused) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    SshSession& operator*() { return *s_; }
    SshSession* operator->() { return s_.get(); }
    // True when the session was idle in the pool: a failure may be a connection that
    // died while it waited, worth one retry on a fresh one.
    bool reused() const { return reused_; }

   private:
    SshPool* pool_;
    std::unique_ptr<SshSession> s_;
    bool reused_;
  };

  // An idle session (preferring the one holding `owner`'s open file), a new one while
  // fewer than max_sessions exist, or else waits for one until `deadline`.
  Result<Lease> acquire(Deadline deadline, uint64_t owner = 0);
  const SshParams& params() const { return params_; }

 private:
  void release(std::unique_ptr<SshSession> s);

  const SshParams params_;
  const size_t max_;
  SshWatchdog watchdog_;  // declared before the sessions so it outlives them
  std::mutex mu_;         // guards idle_ and total_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SshSession>> idle_;
  size_t total_ = 0;
};

// "SHA256:..." of the server's host key, or an empty string.
std::string server_key_fingerprint(ssh_session s);

}  // namespace musicfs
