#pragma once
// The daemon: control socket, mounts, event log, and the main loop that waits for
// SIGTERM/SIGINT or a stop request, reaps mounts unmounted from outside, and on the
// way out unmounts everything cleanly.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control_server.h"
#include "federation/event_log.h"
#include "metrics_textfile.h"
#include "mount_table.h"
#include "service_notifier.h"

namespace musicfs {

struct DaemonOptions {
  std::string socket_path;
  std::string state_dir;
  std::string log_level;
  bool detached = false;  // started by `musicfsctl mount`: log to a file
  int ready_fd = -1;      // pipe to tell the starting client "ready" or why not
  // `daemon -c FILE`: mounted at start (READY=1 waits for them), read again on SIGHUP.
  std::vector<std::string> config_files;
  // Log here instead of stderr (reopened on SIGHUP, for logrotate); a detached daemon
  // logs to STATE_DIR/musicfsd.log.
  std::string log_file;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();
  // Runs until stopped; returns the process exit code.
  int run();
  void request_stop();

  const DaemonOptions& options() const { return options_; }
  MountTable& mounts() { return *mounts_; }
  EventLog& events() { return events_; }
  int64_t started_at() const { return started_at_; }
  StateStore* store() { return store_.get(); }

 private:
  Reply dispatch(const Request& req, Connection& conn);
  // True for a request that streams for long (the control server's stream pool).
  bool is_stream(const Request& req) const;
  void report_ready(const std::string& error);
  void prune_history();
  // Mounts every `-c` file; the first that fails is the error (the daemon then exits).
  Status mount_config_files();
  // SIGHUP: reopens the log file and applies each `-c` file again.
  void reload();
  // "2 mount(s), 3 of 4 origin(s) healthy": the STATUS= line for the service manager.
  std::string status_line() const;
  // Starts and stops the [metrics] textfile writers to match the mounts' configs.
  void sync_textfiles();

  DaemonOptions options_;
  int64_t started_at_ = 0;
  EventLog events_;
  std::unique_ptr<StateStore> store_;  // outlives mounts_: federations write to it
  int64_t last_prune_ = 0;
  std::unique_ptr<MountTable> mounts_;
  std::unique_ptr<ControlServer> server_;
  // One writer per distinct [metrics] textfile path (several mounts may name the same
  // one); destroyed before mounts_, whose figures they render. Main thread only.
  std::map<std::string, std::unique_ptr<MetricsTextfile>> textfiles_;
  UniqueFd lock_fd_;
  UniqueFd stop_fd_;
  ServiceNotifier notifier_;
};

// `musicfsctl daemon`: sets up logging and runs a Daemon in this process.
int run_daemon(DaemonOptions options);

// Where a daemon with these options logs (empty: stderr).
std::string log_file_of(const DaemonOptions& options);

}  // namespace musicfs
