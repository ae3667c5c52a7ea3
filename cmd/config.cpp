// musicfsctl config check [FILE]   (FILE: default_config_path(), as for `mount`)
// Reads and validates a config file here, in the client: no daemon is needed or
// started, and nothing is mounted. Every problem is named, not only the first.
#include <iostream>

#include "command.h"
#include "config/config.h"
#include "config/config_parser.h"
#include "output.h"

namespace musicfs::cli {

namespace {
// Problems a mount would hit beyond the file's own syntax and values: the mount point
// must be a directory and no local origin may overlap it. Only when the file names a
// mount point (it may come from the command line at mount time instead).
void add_mount_point_problems(ConfigCheck& check) {
  if (!check.config || check.config->mount_point.empty()) return;
  if (auto s = check_mount_point(*check.config); !s) {
    check.problems.push_back({check.config->mount_point_line, s.error()});
    check.config.reset();
  }
}

int check_command(const std::string& path, const Globals& g) {
  ConfigCheck check = check_config_file(path);
  add_mount_point_problems(check);
  if (g.json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : check.problems) problems.push_back({{"line", p.line}, {"message", p.error.message}});
    nlohmann::json out = {{"file", path}, {"ok", check.problems.empty()}, {"problems", problems}};
    if (check.config) {
      out["mount_point"] = check.config->mount_point;
      out["origins"] = check.config->origins.size();
    }
    print_json(out);
  } else if (check.config) {
    std::cout << path << ": ok (" << check.config->origins.size() << " origin(s)"
              << (check.config->mount_point.empty() ? ", no mount_point: give MOUNTPOINT to mount"
                                                   : ", mount point " + check.config->mount_point)
              << ")\n";
  } else {
    for (const auto& p : check.problems) std::cerr << p.error.message << "\n";
  }
  return check.problems.empty() ? kExitOk : kExitUsage;
}
}  // namespace

CliCommand config_command() {
  return {"config", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("config", "Check a config file without a daemon");
            sub->require_subcommand(1);
            auto* check = sub->add_subcommand(
                "check", "Parse and validate a config file; print every problem as FILE:LINE: KEY: message");
            auto file = std::make_shared<std::string>();
            check->add_option("file", *file,
                              "Config file (musicfs.toml(5); default, as for mount: $XDG_CONFIG_HOME/musicfs/config.toml, "
                              "else ~/.config/musicfs/config.toml, for root /etc/musicfs/config.toml)");
            return [file, &g]() -> int { return check_command(file->empty() ? default_config_path() : *file, g); };
          }};
}

}  // namespace musicfs::cli
