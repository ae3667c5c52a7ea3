// musicfsctl mount [-c FILE] [-o OPTIONS] [MOUNTPOINT]
// Starts the daemon if none answers, asks it to mount, and returns once the mount
// serves requests. Without -c it mounts the default config file (default_config_path);
// the `musicfs` mount helper (mount_helper_main.cpp) runs this for mount(8).
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <iostream>

#include "client.h"
#include "client_reply_fields.h"
#include "command.h"
#include "config/config.h"
#include "mount_options.h"
#include "output.h"
#include "protocol/path_encoding.h"

namespace musicfs::cli {

namespace {
std::string absolute(const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) != nullptr) return buf;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return p;
  return std::string(cwd) + "/" + p;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
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
              if (!daemon_answers(g)) {
                if (auto err = start_daemon_detached(g)) {
                  std::cerr << "musicfsctl: cannot start the daemon: " << *err << "\n";
                  return kExitFailed;
                }
              }
              nlohmann::json args = {{"config", encode_path(absolute(config_path))}};
              if (!mount_point->empty()) args["mount_point"] = encode_path(absolute(*mount_point));
              // Only when asked: an absent key leaves the config file's value.
              if (opts->allow_other) args["allow_other"] = true;
              auto out = call_daemon(g, "mount", args);
              if (!out.reply || !out.reply->ok) return out.exit_code;
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
