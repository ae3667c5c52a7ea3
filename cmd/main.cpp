// musicfsctl: the one binary. Client subcommands talk to the daemon over its Unix
// socket; `musicfsctl daemon` is the daemon.
#include <CLI/CLI.hpp>
#include <iostream>

#include "command.h"
#include "client_reply_fields.h"
#include "output_usage_error.h"

using namespace musicfs::cli;

namespace {
int malformed_reply(const CLI::App& sub, const char* what) {
  std::cerr << "musicfsctl: the daemon sent a malformed reply (" << what << ")\n";
  // health keeps the Nagios meaning of its exit codes: 3 is UNKNOWN.
  return sub.get_name() == "health" ? kExitUnreachable : kExitFailed;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"musicfsctl - control the musicfs federated music filesystem"};
  app.set_version_flag("--version", std::string("musicfsctl ") + MUSICFS_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 the operation failed, 2 bad arguments or config, 3 no daemon answers\n"
      "(in time: --timeout), or its socket directory is not private.\n"
      "`musicfsctl health` follows the Nagios convention instead; see musicfsctl(1).");
  Globals g;
  app.add_option("--socket", g.socket, "Control socket (default $MUSICFS_SOCKET, else for root /run/musicfs/musicfsd.sock, "
                 "else $XDG_RUNTIME_DIR/musicfs/musicfsd.sock, else /tmp/musicfs-UID/musicfsd.sock)")
      ->envname("MUSICFS_SOCKET");
  app.add_flag("--json", g.json, "Print machine-readable JSON");
  const std::string timeout_help = "Give up on a daemon that does not answer within SECS (default " +
                                   std::to_string(static_cast<int>(kDefaultTimeoutSecs)) +
                                   "; 0 waits forever; a stream restarts it on each line)";
  app.add_option("--timeout", g.timeout_secs, timeout_help)
      ->envname("MUSICFS_TIMEOUT")
      ->check(CLI::NonNegativeNumber)
      ->type_name("SECS");
  app.add_option("--log-level", g.log_level, "Daemon log level: trace, debug, info, warn, error (default $MUSICFS_LOG or info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  std::vector<std::pair<CLI::App*, Runner>> runners;
  for (const auto& c : cli_commands()) {
    Runner r = c.attach(app, g);
    runners.emplace_back(app.get_subcommand(c.name), std::move(r));
  }
  // --json and --timeout are accepted after the subcommand too: `musicfsctl status --json`.
  std::function<void(CLI::App*)> add_json = [&](CLI::App* a) {
    a->add_flag("--json", g.json, "Print machine-readable JSON");
    a->add_option("--timeout", g.timeout_secs, timeout_help)->check(CLI::NonNegativeNumber)->type_name("SECS");
    for (CLI::App* child : a->get_subcommands({})) add_json(child);
  };
  for (auto& [sub, r] : runners) add_json(sub);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return report_parse_error(app, e, argc, argv);
  }
  for (auto& [sub, r] : runners) {
    if (!sub->parsed()) continue;
    try {
      return r();
    } catch (const MalformedReply& e) {
      return malformed_reply(*sub, e.what());
    } catch (const nlohmann::json::exception& e) {
      // A printer reading a field around client_reply_fields.h would be a bug; still one line,
      // never a core dump.
      return malformed_reply(*sub, e.what());
    }
  }
  return kExitUsage;
}
