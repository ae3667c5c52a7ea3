#pragma once
// A real OpenSSH server for the sftp tests: its own host key, client keys, authorized_keys,
// known_hosts files and sshd_config in a temporary directory, listening on a free port
// of 127.0.0.1, run as a child (`sshd -D -e`). The destructor kills the listener and
// every session process it forked, so a failing test leaves nothing running.
//
// Skips the test (exit 77) when /usr/sbin/sshd or ssh-keygen is not installed.
#include <string>
#include <vector>

#include "support/test_env.h"

namespace musicfs::test {

class SshdServer {
 public:
  SshdServer();
  ~SshdServer();
  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& client_key() const { return client_key_; }     // in authorized_keys
  const std::string& stranger_key() const { return stranger_key_; } // not in authorized_keys
  const std::string& known_hosts() const { return known_hosts_; }   // holds the server's key
  const std::string& empty_known_hosts() const { return empty_known_hosts_; }
  const std::string& wrong_known_hosts() const { return wrong_known_hosts_; }  // another key for this host:port
  const std::string& host_fingerprint() const { return host_fingerprint_; }    // "SHA256:..."
  const TempDir& dir() const { return dir_; }
  std::string log() const;

  // A [[origins]] table for an sftp origin on this server.
  std::string origin_toml(const std::string& id, int priority, const std::string& remote_path,
                          const std::string& identity_file = "", const std::string& known_hosts = "") const;

  void start();  // (again) on the same port; waits until it accepts connections
  void stop();   // SIGKILL to the listener and all of its session processes
  void freeze(); // SIGSTOP to the listener and all of its session processes
  void thaw();   // SIGCONT to them
  bool running() const { return pid_ > 0; }
  // The listener and every process descended from it (session monitors and children).
  std::vector<int> processes() const;

 private:
  TempDir dir_;
  int port_ = 0;
  int pid_ = -1;
  std::string user_;
  std::string config_;
  std::string log_path_;
  std::string client_key_, stranger_key_;
  std::string known_hosts_, empty_known_hosts_, wrong_known_hosts_;
  std::string host_fingerprint_;
  std::vector<int> frozen_;
};

}  // namespace musicfs::test
