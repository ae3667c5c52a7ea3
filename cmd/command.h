#pragma once
// A musicfsctl subcommand: one file in cmd/ that binds CLI11 options to a request,
// calls the daemon and prints the reply. All of them are attached in main.cpp from
// the table in common.cpp.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace musicfs::cli {

// Documented exit codes (musicfsctl(1), EXIT STATUS).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the daemon refused or the operation failed
  kExitUsage = 2,        // bad arguments, a bad config file, a value that does not parse
  kExitUnreachable = 3,  // no daemon answers on the socket (or not in time, or not a private one)
};

// Seconds the client waits for the daemon by default (--timeout, $MUSICFS_TIMEOUT).
constexpr double kDefaultTimeoutSecs = 30;

struct Globals {
  std::string socket;  // resolved lazily: see socket_path()
  bool json = false;
  std::string log_level;
  double timeout_secs = -1;  // --timeout; < 0: not given (kDefaultTimeoutSecs); 0: no limit
  std::string socket_path() const;
};

using Runner = std::function<int()>;

struct CliCommand {
  std::string name;
  std::function<Runner(CLI::App& app, Globals& globals)> attach;
};

const std::vector<CliCommand>& cli_commands();

CliCommand daemon_command();
CliCommand mount_command();
CliCommand unmount_command();
CliCommand status_command();
CliCommand events_command();
CliCommand route_explain_command();
CliCommand tags_command();
CliCommand health_command();
CliCommand origins_command();
CliCommand cache_command();
CliCommand config_command();
CliCommand metrics_command();
CliCommand debug_fault_command();
CliCommand cli_spec_command();

}  // namespace musicfs::cli
