// musicfsctl status: the daemon, its mounts, and each mount's origins.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"
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
              std::cout << "daemon: pid " << integer(r, "pid") << ", up " << uptime(integer(r, "uptime_secs"))
                        << ", socket " << path_text(r, "socket", "") << "\n";
              const auto& mounts = list(r, "mounts");
              if (mounts.empty()) std::cout << "no mounts\n";
              for (const auto& m : mounts) {
                std::cout << "\nmount " << path_text(m, "mount_point", "") << " (config " << path_text(m, "config", "")
                          << ", mounted " << fmt_age(field(m, "mounted_at")) << ")\n";
                if (const auto& l = field(m, "layout"); !l.is_null()) {
                  std::cout << "  layout: " << text(l, "template") << "\n  tags: " << count(l, "tags_read")
                            << " of " << count(l, "audio_files") << " audio files read; " << count(l, "files_shown")
                            << " files shown\n";
                }
                Table t({"ORIGIN", "TYPE", "PRIORITY", "STATUS", "FAILURES", "FILES", "LOCATION"});
                for (const auto& o : list(m, "origins")) {
                  t.add({text(o, "id"), text(o, "type"), text(o, "priority"), text(o, "status"),
                         text(o, "consecutive_failures"), text(o, "files"), path_text(o, "location")});
                }
                t.print("  ");
                for (const auto& o : list(m, "origins")) {
                  const uint64_t skipped = count(o, "skipped_long_paths");
                  if (skipped == 0) continue;
                  std::cout << "  " << text(o, "id") << " skipped: " << skipped << " entries with paths of "
                            << kMaxPathBytes << " bytes or more or names longer than " << kMaxEntryNameBytes
                            << " bytes\n";
                }
              }
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
