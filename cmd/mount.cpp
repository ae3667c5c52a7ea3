// musicfsctl mount [-c FILE] [-o OPTIONS] [MOUNTPOINT]
// Checks the config, starts the daemon if none answers, asks it to mount, and returns
// once the mount serves requests. Without -c it mounts the default config file
// (default_config_path); the `musicfs` mount helper (mount_helper/main.cpp) runs this
// for mount(8).
#include <sys/stat.h>

#include <iostream>

#include "client.h"
#include "client_path_args.h"
#include "client_reply_fields.h"
#include "command.h"
#include "config/config.h"
#include "config/config_parser.h"
#include "client_mount_options.h"
#include "output.h"
#include "protocol/path_encoding.h"

namespace musicfs::cli {

namespace {
bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The daemon reads the config again (it is the one that mounts it); reading it here
// first means a bad file is reported before a daemon is started for nothing.
Status check_before_mount(const std::string& config_path, const std::string& mount_point) {
  auto config = parse_config_file(config_path);
  if (!config) return config.take_error();
  if (!mount_point.empty()) {
    config->mount_point = mount_point;
    config->mount_point_line = 0;
  }
  return check_mount_point(*config);
}
}  // namespace

CliCommand mount_command() {
  return {"mount", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("mount", "Mount the federated tree described by a config file");
            auto config = std::make_shared<std::string>();
            auto mount_point = std::make_shared<std::string>();
            auto options = std::make_shared<std::vector<std::string>>();
            sub->add_option("-c,--config", *config,
                            "Config file (musicfs.toml(5); default $XDG_CONFIG_HOME/musicfs/config.toml, else "
                            "~/.config/musicfs/config.toml, for root /etc/musicfs/config.toml)");
            sub->add_option("-o", *options,
                            "Mount options, comma-separated: allow_other, ro; fstab's own (defaults, noauto, _netdev, "
                            "nofail, x-*, ...) are ignored")
                ->type_name("OPTIONS")
                ->allow_extra_args(false);
            sub->add_option("mountpoint", *mount_point, "Mount here instead of the config's mount_point");
            return [config, mount_point, options, &g]() -> int {
              auto opts = parse_mount_options(*options);
              if (!opts) {
                std::cerr << "musicfsctl: " << opts.error().message << "\n";
                return kExitUsage;
              }
              std::string config_path = *config;
              if (config_path.empty()) {
                config_path = default_config_path();
                if (!exists(config_path)) {
                  std::cerr << "musicfsctl: no config file given and " << config_path
                            << " does not exist (see 'musicfsctl mount --help')\n";
                  return kExitUsage;
                }
              }
              config_path = absolute_path(config_path);
              const std::string mp = mount_point->empty() ? std::string() : absolute_path(*mount_point);
              if (auto s = check_before_mount(config_path, mp); !s) {
                std::cerr << "musicfsctl: " << s.error().message << "\n";
                return kExitUsage;
              }
              bool started = false;
              if (!daemon_answers(g)) {
                if (auto err = start_daemon_detached(g)) {
                  std::cerr << "musicfsctl: cannot start the daemon: " << *err << "\n";
                  return kExitFailed;
                }
                started = true;
              }
              nlohmann::json args = {{"config", encode_path(config_path)}};
              if (!mp.empty()) args["mount_point"] = encode_path(mp);
              // Only when asked: an absent key leaves the config file's value.
              if (opts->allow_other) args["allow_other"] = true;
              auto out = call_daemon(g, "mount", args);
              if (!out.reply || !out.reply->ok) {
                // A daemon this command started for a mount that failed would only be
                // left behind holding nothing; one that was already running stays.
                if (started) stop_daemon_if_idle(g);
                return out.exit_code;
              }
              const auto& r = out.reply->result;
              if (g.json) {
                print_json(r);
                return kExitOk;
              }
              const auto& origins = list(r, "origins");
              const uint64_t files = count(r, "files");
              std::cout << "mounted " << path_text(r, "mount_point", "") << ": " << origins.size() << " origin(s), "
                        << files << " files"
                        << (flag(r, "index_ready", true) ? "" : " indexed so far (indexing goes on in the background)")
                        << "\n";
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
