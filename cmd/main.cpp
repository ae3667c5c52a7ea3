// musicfsctl: the one binary. Client subcommands talk to the daemon over its Unix
// socket; `musicfsctl daemon` is the daemon.
#include <CLI/CLI.hpp>
#include <iostream>

#include "command.h"

using namespace musicfs::cli;

int main(int argc, char** argv) {
  CLI::App app{"musicfsctl - control the musicfs federated music filesystem"};
  app.set_version_flag("--version", std::string("musicfsctl ") + MUSICFS_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 the operation failed, 2 bad arguments or config, 3 no daemon answers.\n"
      "`musicfsctl health` follows the Nagios convention instead; see musicfsctl(1).");
  Globals g;
  app.add_option("--socket", g.socket, "Control socket (default $MUSICFS_SOCKET, else $XDG_RUNTIME_DIR/musicfs/musicfsd.sock)")
      ->envname("MUSICFS_SOCKET");
  app.add_flag("--json", g.json, "Print machine-readable JSON");
  app.add_option("--log-level", g.log_level, "Daemon log level: trace, debug, info, warn, error (default $MUSICFS_LOG or info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  std::vector<std::pair<CLI::App*, Runner>> runners;
  for (const auto& c : cli_commands()) {
    Runner r = c.attach(app, g);
    runners.emplace_back(app.get_subcommand(c.name), std::move(r));
  }
  // --json is accepted after the subcommand too: `musicfsctl status --json`.
  std::function<void(CLI::App*)> add_json = [&](CLI::App* a) {
    a->add_flag("--json", g.json, "Print machine-readable JSON");
    for (CLI::App* child : a->get_subcommands({})) add_json(child);
  };
  for (auto& [sub, r] : runners) add_json(sub);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  for (auto& [sub, r] : runners) {
    if (sub->parsed()) return r();
  }
  return kExitUsage;
}
