#include "command.h"

#include <unistd.h>

#include "protocol/socket_path.h"

namespace musicfs::cli {

const std::vector<CliCommand>& cli_commands() {
  // One row per subcommand.
  static const std::vector<CliCommand> table = {
      mount_command(),
      unmount_command(),
      status_command(),
      events_command(),
      route_explain_command(),
      tags_command(),
      health_command(),
      origins_command(),
      cache_command(),
      config_command(),
      metrics_command(),
      daemon_command(),
      cli_spec_command(),
#ifdef MUSICFS_FAULT_INJECTION
      debug_fault_command(),
#endif
  };
  return table;
}

std::string Globals::socket_path() const {
  std::string p = resolve_socket_path(socket);
  // A detached daemon runs in "/", so a relative path must be made absolute here.
  if (!p.empty() && p.front() != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) != nullptr) p = std::string(cwd) + "/" + p;
  }
  return p;
}

}  // namespace musicfs::cli
