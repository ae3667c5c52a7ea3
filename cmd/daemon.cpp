// musicfsctl daemon [-c FILE]...  run the daemon in the foreground (systemd, tests)
// musicfsctl daemon stop  ask the running daemon to unmount everything and exit
#include <iostream>

#include "client.h"
#include "client_path_args.h"
#include "command.h"
#include "config/config.h"
#include "daemon.h"
#include "output.h"
#include "client_reply_fields.h"
#include "util/logging.h"

namespace musicfs::cli {

CliCommand daemon_command() {
  return {"daemon", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("daemon", "Run the musicfs daemon in the foreground (or: daemon stop)");
            auto opts = std::make_shared<DaemonOptions>();
            auto state_dir = std::make_shared<std::string>();
            sub->add_option("--state-dir", *state_dir,
                            "Directory for the log and state (default $MUSICFS_STATE_DIR, else $XDG_STATE_HOME/musicfs, "
                            "else for root /var/lib/musicfs, else ~/.local/state/musicfs)");
            sub->add_option("-c,--config", opts->config_files,
                            "Mount this config file at start (repeatable); SIGHUP reads it again")
                ->allow_extra_args(false)  // one FILE per -c: `daemon -c a.toml stop` is not two files
                ->check(CLI::Validator(CLI::ExistingFile).description(""))
                ->type_name("FILE");
            sub->add_option("--log-file", opts->log_file, "Log to FILE instead of stderr (reopened on SIGHUP)")
                ->type_name("FILE");
            sub->add_flag("--detached", opts->detached, "Log to STATE_DIR/musicfsd.log (used by 'mount')")->group("");
            sub->add_option("--ready-fd", opts->ready_fd, "Report readiness on this fd")->group("");
            auto* stop = sub->add_subcommand("stop", "Stop the running daemon: unmount everything and exit");
            return [sub, stop, opts, state_dir, &g]() -> int {
              if (stop->parsed()) {
                auto out = call_daemon(g, "shutdown");
                if (!out.reply || !out.reply->ok) return out.exit_code;
                if (g.json) {
                  print_json(out.reply->result);
                } else {
                  std::cout << "daemon (pid " << integer(out.reply->result, "pid") << ") is stopping\n";
                }
                return kExitOk;
              }
              (void)sub;
              opts->socket_path = g.socket_path();
              // The daemon runs in "/" once detached, and reads these again on SIGHUP.
              for (auto& f : opts->config_files) f = absolute_path(f);
              if (!opts->log_file.empty()) opts->log_file = absolute_path(opts->log_file);
              if (!state_dir->empty()) {
                opts->state_dir = *state_dir;
              } else if (const char* env = std::getenv("MUSICFS_STATE_DIR"); env != nullptr && *env == '/') {
                opts->state_dir = env;
              } else {
                opts->state_dir = default_state_dir();
              }
              opts->log_level = resolve_log_level(g.log_level.empty() ? std::nullopt : std::optional(g.log_level));
              return run_daemon(*opts);
            };
          }};
}

}  // namespace musicfs::cli
