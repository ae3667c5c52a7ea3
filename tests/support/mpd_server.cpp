#include "support/mpd_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

namespace musicfs::test {

namespace {

constexpr const char* kMpd = "/usr/bin/mpd";
constexpr const char* kMpc = "/usr/bin/mpc";

std::string read_if_there(const std::string& path) { return path_exists(path) ? read_file(path) : ""; }

}  // namespace

MpdServer::MpdServer(const std::string& music_directory, const Options& options)
    : password_(options.password), socket_path_(options.socket_path.empty() ? dir_ / "socket" : options.socket_path) {
  if (::access(kMpd, X_OK) != 0) skip_test(std::string(kMpd) + " is not installed (Debian package mpd)");
  if (::access(kMpc, X_OK) != 0) skip_test(std::string(kMpc) + " is not installed (Debian package mpc)");
  port_ = free_loopback_port();
  std::ostringstream c;
  // No pid_file: the process is our child and is stopped by pid. auto_update off:
  // the test decides when MPD scans (`mpc update --wait`), and MPD's inotify watch
  // is not part of what is tested. zeroconf off: nothing is announced on the network.
  c << "music_directory \"" << music_directory << "\"\n"
    << "db_file \"" << (dir_ / "database") << "\"\n"
    << "state_file \"" << (dir_ / "state") << "\"\n"
    << "playlist_directory \"" << (dir_ / "playlists") << "\"\n"
    << "log_file \"" << (dir_ / "mpd.log") << "\"\n"
    << "bind_to_address \"127.0.0.1\"\n"
    << "port \"" << port_ << "\"\n"
    << "bind_to_address \"" << socket_path() << "\"\n"
    << "auto_update \"no\"\n"
    << "zeroconf_enabled \"no\"\n"
    << "audio_output {\n  type \"null\"\n  name \"null\"\n}\n";
  if (!password_.empty()) {
    c << "password \"" << password_ << "@read,add,control,admin\"\n"
      << "default_permissions \"read\"\n";
  }
  mkdirs(dir_ / "playlists");
  write_file(dir_ / "mpd.conf", c.str());
  pid_ = spawn_logged({kMpd, "--no-daemon", dir_ / "mpd.conf"}, dir_ / "stderr.log");
  if (!wait_accepting(pid_, port_)) {
    const std::string why = log();
    stop();
    throw std::runtime_error("mpd did not start on port " + std::to_string(port_) + ": " + why);
  }
}

MpdServer::~MpdServer() { stop(); }

CommandResult MpdServer::mpc(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  const std::string host = password_.empty() ? "127.0.0.1" : password_ + "@127.0.0.1";
  std::vector<std::string> argv = {kMpc, "--host", host, "--port", std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, timeout);
}

std::string MpdServer::log() const { return read_if_there(dir_ / "mpd.log") + read_if_there(dir_ / "stderr.log"); }

void MpdServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
}

}  // namespace musicfs::test
