#pragma once
// A real MPD (Music Player Daemon) for the tests that point a music player at a
// musicfs mount: its own mpd.conf, database, state and log files in a temporary
// directory, listening on a free port of 127.0.0.1, run in the foreground as one
// process (`mpd --no-daemon`). It plays to a "null" output, so no sound card is
// needed. The destructor kills it, so a failing test leaves nothing running.
//
// Skips the test (exit 77) when /usr/bin/mpd or /usr/bin/mpc is not installed.
#include <chrono>
#include <string>
#include <vector>

#include "support/test_env.h"

namespace musicfs::test {

class MpdServer {
 public:
  struct Options {
    // Set: clients without it may only read (default_permissions "read"); with it,
    // everything. mpc() passes it.
    std::string password;
    // Where MPD's Unix socket goes; empty: in the server's own directory.
    std::string socket_path;
  };
  // Starts MPD with `music_directory` as its library; waits until it accepts connections.
  explicit MpdServer(const std::string& music_directory) : MpdServer(music_directory, Options{}) {}
  MpdServer(const std::string& music_directory, const Options& options);
  ~MpdServer();
  MpdServer(const MpdServer&) = delete;
  MpdServer& operator=(const MpdServer&) = delete;

  int port() const { return port_; }
  // MPD also listens on this Unix socket, in the server's own directory.
  const std::string& socket_path() const { return socket_path_; }
  // mpc --host 127.0.0.1 --port PORT <args...>
  CommandResult mpc(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  std::string log() const;  // MPD's log file and its stderr

 private:
  void stop();
  TempDir dir_;
  int port_ = 0;
  int pid_ = -1;
  std::string password_;
  std::string socket_path_;
};

}  // namespace musicfs::test
