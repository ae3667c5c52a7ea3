#include "origins/ssh_session.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

namespace musicfs {

namespace {

// Teardown talks to the server too (channel close, disconnect); it gets its own bound.
constexpr auto kTeardownBound = std::chrono::seconds(2);

std::string where_of(const SshParams& p) { return p.user + "@" + p.host + ":" + std::to_string(p.port); }

}  // namespace

std::string server_key_fingerprint(ssh_session s) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK || key == nullptr) return {};
  unsigned char* hash = nullptr;
  size_t len = 0;
  std::string out;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == SSH_OK) {
    char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
    if (text != nullptr) {
      out = text;
      ssh_string_free_char(text);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return out;
}

// ---- watchdog ----

SshWatchdog::SshWatchdog() : thread_([this] { run(); }) {}

SshWatchdog::~SshWatchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SshWatchdog::arm(SshSession* s, Deadline d) {
  {
    std::lock_guard lock(mu_);
    armed_[s] = d;
  }
  cv_.notify_all();
}

void SshWatchdog::disarm(SshSession* s) {
  std::lock_guard lock(mu_);
  armed_.erase(s);
}

void SshWatchdog::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (armed_.empty()) {
      cv_.wait(lock);
      continue;
    }
    Deadline earliest = Deadline::max();
    for (const auto& [s, d] : armed_) earliest = std::min(earliest, d);
    if (earliest > SteadyClock::now()) {
      cv_.wait_until(lock, earliest);
      continue;
    }
    const auto now = SteadyClock::now();
    for (auto it = armed_.begin(); it != armed_.end();) {
      if (it->second <= now) {
        it->first->interrupt();
        it = armed_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

// ---- session ----

SshSession::SshSession(const SshParams& params, SshWatchdog& watchdog)
    : params_(params), watchdog_(watchdog), ssh_(ssh_new()) {}

SshSession::~SshSession() {
  if (ssh_ == nullptr) return;
  {
    Guard guard(*this, SteadyClock::now() + kTeardownBound);
    if (!broken_) close_file();
    if (sftp_ != nullptr) sftp_free(sftp_);
    if (connected_ && !broken_ && !interrupted_) ssh_disconnect(ssh_);
  }
  ssh_free(ssh_);
}

void SshSession::interrupt() {
  interrupted_ = true;
  socket_t fd = ssh_get_fd(ssh_);
  if (fd != SSH_INVALID_SOCKET) ::shutdown(fd, SHUT_RDWR);
}

void SshSession::set_timeout(Deadline d) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(d - SteadyClock::now()).count();
  left = std::max<int64_t>(left, 1000);
  long secs = static_cast<long>(left / 1000000);
  long usecs = static_cast<long>(left % 1000000);
  ssh_options_set(ssh_, SSH_OPTIONS_TIMEOUT, &secs);
  ssh_options_set(ssh_, SSH_OPTIONS_TIMEOUT_USEC, &usecs);
}

SshSession::Guard::Guard(SshSession& s, Deadline d) : s_(s) {
  // Stale status codes must not be mistaken for the outcome of the next call.
  if (s_.sftp_ != nullptr) s_.sftp_->errnum = SSH_FX_OK;
  rearm(d);
}

void SshSession::Guard::rearm(Deadline d) {
  if (s_.ssh_ != nullptr) s_.set_timeout(d);
  s_.watchdog_.arm(&s_, d);
}

SshSession::Guard::~Guard() { s_.watchdog_.disarm(&s_); }

Status SshSession::open(Deadline deadline) {
  const std::string where = where_of(params_);
  const std::string ctx = "origin " + params_.origin_id + ": ";
  if (ssh_ == nullptr) return make_error(ErrorCode::kInternal, ctx + "cannot allocate an SSH session");
  Guard guard(*this, deadline);
  unsigned int port = static_cast<unsigned int>(params_.port);
  bool no = false;
  ssh_options_set(ssh_, SSH_OPTIONS_HOST, params_.host.c_str());
  ssh_options_set(ssh_, SSH_OPTIONS_PORT, &port);
  ssh_options_set(ssh_, SSH_OPTIONS_USER, params_.user.c_str());
  // Only the configured known_hosts decides trust; ~/.ssh/config is not consulted, so
  // the daemon behaves the same whoever's environment started it.
  ssh_options_set(ssh_, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(ssh_, SSH_OPTIONS_KNOWNHOSTS, params_.known_hosts.c_str());
  ssh_options_set(ssh_, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  // Read requests go out in bursts of small packets; with Nagle's algorithm each burst
  // after the first waits for the server's (delayed) ACK, and the pipe runs dry.
  int nodelay = 1;
  ssh_options_set(ssh_, SSH_OPTIONS_NODELAY, &nodelay);
  // AES-GCM first: with AES-NI it is the cheapest cipher, and bulk reads are CPU-bound.
  const char* ciphers = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr";
  ssh_options_set(ssh_, SSH_OPTIONS_CIPHERS_C_S, ciphers);
  ssh_options_set(ssh_, SSH_OPTIONS_CIPHERS_S_C, ciphers);

  if (ssh_connect(ssh_) != SSH_OK) {
    if (interrupted_) return make_error(ErrorCode::kTimedOut, ctx + "connect to " + where + ": no answer before the deadline");
    return make_error(ErrorCode::kUnavailable, ctx + "connect to " + where + ": " + ssh_get_error(ssh_));
  }
  connected_ = true;
  if (Status s = verify_host_key(where); !s) return s;
  if (Status s = authenticate(where); !s) return s;

  sftp_ = sftp_new(ssh_);
  if (sftp_ == nullptr || sftp_init(sftp_) != SSH_OK) {
    if (interrupted_) return make_error(ErrorCode::kTimedOut, ctx + "start SFTP on " + where + ": no answer before the deadline");
    return make_error(ErrorCode::kUnavailable, ctx + "start SFTP on " + where + ": " + ssh_get_error(ssh_));
  }
  return {};
}

Status SshSession::verify_host_key(const std::string& where) {
  const std::string ctx = "origin " + params_.origin_id + ": ";
  const std::string hostport = params_.host + ":" + std::to_string(params_.port);
  const std::string fp = server_key_fingerprint(ssh_);
  switch (ssh_session_is_known_server(ssh_)) {
    case SSH_KNOWN_HOSTS_OK:
      return {};
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      return make_error(ErrorCode::kPermission,
                        ctx + "host key of " + hostport + " CHANGED (server offers " + fp + ", not the key in " +
                            params_.known_hosts + "); refusing to connect (possible man-in-the-middle)");
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      return make_error(ErrorCode::kPermission,
                        ctx + "host key of " + hostport + " (" + fp + ") is unknown: not in " + params_.known_hosts +
                            "; refusing to connect (verify the fingerprint, then add the key to that file)");
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      break;
  }
  return make_error(ErrorCode::kIo, ctx + "cannot check the host key of " + where + " against " + params_.known_hosts +
                                        ": " + ssh_get_error(ssh_));
}

Status SshSession::authenticate(const std::string& where) {
  const std::string ctx = "origin " + params_.origin_id + ": ";
  int rc = SSH_AUTH_ERROR;
  std::string how;
  if (!params_.identity_file.empty()) {
    how = "the key in " + params_.identity_file;
    ssh_key key = nullptr;
    // No passphrase callback: a daemon has no one to ask, and a passphrase must never
    // sit in a config file. Protected keys belong in the ssh-agent.
    if (ssh_pki_import_privkey_file(params_.identity_file.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK) {
      return make_error(ErrorCode::kPermission, ctx + "cannot load identity_file " + params_.identity_file +
                                                    " (missing, unreadable, not a private key, or passphrase-protected: "
                                                    "use the ssh-agent for those)");
    }
    rc = ssh_userauth_publickey(ssh_, nullptr, key);
    ssh_key_free(key);
  } else {
    const char* sock = std::getenv("SSH_AUTH_SOCK");
    if (sock == nullptr || *sock == '\0') {
      return make_error(ErrorCode::kPermission,
                        ctx + "no identity_file is set and no ssh-agent is reachable (SSH_AUTH_SOCK is unset)");
    }
    how = "the ssh-agent's keys";
    rc = ssh_userauth_agent(ssh_, nullptr);
  }
  if (rc == SSH_AUTH_SUCCESS) return {};
  if (interrupted_) return make_error(ErrorCode::kTimedOut, ctx + "authenticate to " + where + ": no answer before the deadline");
  if (rc == SSH_AUTH_ERROR) {
    return make_error(ErrorCode::kUnavailable, ctx + "authenticate to " + where + ": " + ssh_get_error(ssh_));
  }
  return make_error(ErrorCode::kPermission, ctx + where + " refused public-key authentication with " + how);
}

Error SshSession::last_error(const std::string& context) {
  if (interrupted_) {
    broken_ = true;
    return make_error(ErrorCode::kTimedOut, context + ": no answer from " + where_of(params_) + " before the deadline");
  }
  const int fx = sftp_ != nullptr ? sftp_get_error(sftp_) : SSH_FX_OK;
  const bool channel_gone = sftp_ == nullptr || sftp_->channel == nullptr || ssh_channel_is_open(sftp_->channel) == 0;
  if (ssh_is_connected(ssh_) == 0 || ssh_get_error_code(ssh_) == SSH_FATAL || channel_gone ||
      fx == SSH_FX_NO_CONNECTION || fx == SSH_FX_CONNECTION_LOST) {
    broken_ = true;
    return make_error(ErrorCode::kUnavailable,
                      context + ": connection to " + where_of(params_) + " lost: " + ssh_get_error(ssh_));
  }
  switch (fx) {
    case SSH_FX_NO_SUCH_FILE:
    case SSH_FX_NO_SUCH_PATH:
      return make_error(ErrorCode::kNotFound, context + ": no such file on the server", ENOENT);
    case SSH_FX_PERMISSION_DENIED:
      return make_error(ErrorCode::kPermission, context + ": permission denied by the server", EACCES);
    default:
      break;
  }
  return make_error(ErrorCode::kIo, context + ": SFTP error " + std::to_string(fx) + " (" + ssh_get_error(ssh_) + ")", EIO);
}

sftp_file SshSession::file_for(uint64_t owner, const std::string& remote_path) {
  if (file_ != nullptr && file_owner_ == owner) return file_;
  close_file();
  file_ = sftp_open(sftp_, remote_path.c_str(), O_RDONLY, 0);
  if (file_ != nullptr) file_owner_ = owner;
  return file_;
}

void SshSession::drain_pending() {
  std::vector<char> scratch;
  while (!pending_.empty() && !broken_) {
    PendingRead r = pending_.front();
    pending_.pop_front();
    scratch.resize(r.len);
    sftp_seek64(file_, r.off);  // clears libssh's sticky EOF flag, see sftp_origin.cpp
    if (sftp_async_read(file_, scratch.data(), r.len, r.id) < 0) broken_ = true;
  }
  pending_.clear();
}

void SshSession::close_file() {
  if (file_ != nullptr) drain_pending();
  if (file_ != nullptr && !broken_) sftp_close(file_);
  file_ = nullptr;
  file_owner_ = 0;
}

// ---- pool ----

SshPool::SshPool(SshParams params, size_t max_sessions) : params_(std::move(params)), max_(std::max<size_t>(max_sessions, 1)) {
  static std::once_flag once;
  std::call_once(once, [] { ssh_init(); });
}

SshPool::~SshPool() {
  std::vector<std::unique_ptr<SshSession>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
  }
  idle.clear();  // sessions end before the watchdog does
}

SshPool::Lease::~Lease() {
  if (s_ && pool_ != nullptr) pool_->release(std::move(s_));
}

Result<SshPool::Lease> SshPool::acquire(Deadline deadline, uint64_t owner) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      // Prefer the session that already holds this file open; else the most recently used.
      auto it = idle_.end() - 1;
      if (owner != 0) {
        auto hit = std::find_if(idle_.begin(), idle_.end(), [&](const auto& s) { return s->file_owner() == owner; });
        if (hit != idle_.end()) it = hit;
      }
      std::unique_ptr<SshSession> s = std::move(*it);
      idle_.erase(it);
      return Lease(this, std::move(s), true);
    }
    if (total_ < max_) {
      ++total_;
      lock.unlock();
      auto s = std::make_unique<SshSession>(params_, watchdog_);
      Status opened = s->open(deadline);
      if (!opened) {
        s.reset();
        lock.lock();
        --total_;
        cv_.notify_one();
        return opened.take_error();
      }
      return Lease(this, std::move(s), false);
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && total_ >= max_) {
      return make_error(ErrorCode::kTimedOut, "origin " + params_.origin_id + ": all " + std::to_string(max_) +
                                                  " SFTP sessions stayed busy until the deadline");
    }
  }
}

void SshPool::release(std::unique_ptr<SshSession> s) {
  if (s->broken()) {
    s.reset();  // outside the lock: teardown may talk to the server
    std::lock_guard lock(mu_);
    --total_;
  } else {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(s));
  }
  cv_.notify_one();
}

}  // namespace musicfs
