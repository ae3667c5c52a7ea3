#pragma once
// A real nginx for the http origin tests: its own nginx.conf, logs, temp paths and
// document root in a temporary directory, listening on a free port of 127.0.0.1, run
// as one foreground process (`daemon off; master_process off;`), so stopping,
// freezing (SIGSTOP) and thawing it is a signal to one pid. The destructor kills it,
// so a failing test leaves nothing running.
//
// The document root serves directory listings as JSON (`autoindex on;
// autoindex_format json;`), the format the http origin reads. Extra location blocks
// (e.g. one answering with broken JSON) can be passed to the constructor.
//
// Skips the test (exit 77) when /usr/sbin/nginx is not installed.
#include <string>

#include "support/test_env.h"

namespace musicfs::test {

class NginxServer {
 public:
  explicit NginxServer(const std::string& extra_locations = "");
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  int port() const { return port_; }
  // The document root: files written under it are served at url(rel).
  const std::string& root() const { return root_; }
  std::string url(const std::string& rel = "") const;
  // A [[origins]] table for an http origin on this server serving `rel` (a directory).
  std::string origin_toml(const std::string& id, int priority, const std::string& rel,
                          const std::string& extra_keys = "") const;
  std::string log() const;  // the error log

  void start();  // (again) on the same port; waits until it accepts connections
  void stop();   // SIGKILL, then reaps it
  void freeze(); // SIGSTOP
  void thaw();   // SIGCONT
  bool running() const { return pid_ > 0; }

 private:
  TempDir dir_;
  int port_ = 0;
  int pid_ = -1;
  bool frozen_ = false;
  std::string root_;
  std::string conf_;
  std::string error_log_;
};

}  // namespace musicfs::test
