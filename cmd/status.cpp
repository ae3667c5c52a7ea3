// musicfsctl status: the daemon, its mounts, and each mount's origins.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "util/virtual_path.h"

namespace musicfs::cli {

namespace {
std::string uptime(int64_t s) {
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}
}  // namespace

CliCommand status_command() {
  return {"status", [](CLI::App& app, Globals& g) -> Runner {
            app.add_subcommand("status", "Show the daemon, its mounts and their origins");
            return [&g]() -> int {
              auto out = call_daemon(g, "status");
              if (!out.reply || !out.reply->ok) return out.exit_code;
              const auto& r = out.reply->result;
              if (g.json) {
                print_json(r);
                return kExitOk;
              }
              std::cout << "daemon: pid " << r.value("pid", 0) << ", up " << uptime(r.value("uptime_secs", int64_t{0}))
                        << ", socket " << r.value("socket", "") << "\n";
              if (r["mounts"].empty()) std::cout << "no mounts\n";
              for (const auto& m : r["mounts"]) {
                std::cout << "\nmount " << m.value("mount_point", "") << " (config " << m.value("config", "")
                          << ", mounted " << fmt_age(m["mounted_at"]) << ")\n";
                Table t({"ORIGIN", "TYPE", "PRIORITY", "STATUS", "FAILURES", "FILES", "LOCATION"});
                for (const auto& o : m["origins"]) {
                  t.add({str_or(o["id"]), str_or(o["type"]), str_or(o["priority"]), str_or(o["status"]),
                         str_or(o["consecutive_failures"]), str_or(o["files"]), str_or(o["location"])});
                }
                t.print("  ");
                for (const auto& o : m["origins"]) {
                  if (o.value("skipped_long_paths", uint64_t{0}) == 0) continue;
                  std::cout << "  " << str_or(o["id"]) << " skipped: " << o.value("skipped_long_paths", uint64_t{0})
                            << " entries with paths of " << kMaxPathBytes << " bytes or more or names longer than "
                            << kMaxEntryNameBytes << " bytes\n";
                }
              }
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
