// musicfsctl cache stat
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"

namespace musicfs::cli {

CliCommand cache_command() {
  return {"cache", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("cache", "Inspect the content cache");
            sub->require_subcommand(1);
            sub->add_subcommand("stat", "Capacity, use, hits and misses, bytes fetched per origin");
            return [&g]() -> int {
              auto out = call_daemon(g, "cache-stat");
              if (!out.reply || !out.reply->ok) return out.exit_code;
              if (g.json) {
                print_json(out.reply->result);
                return kExitOk;
              }
              for (const auto& m : out.reply->result["mounts"]) {
                std::cout << "mount " << str_or(m["mount_point"]) << ": content cache "
                          << (m.value("enabled", false) ? "enabled" : "not enabled in this version")
                          << " (configured " << fmt_bytes(m.value("configured_capacity_bytes", uint64_t{0})) << " at "
                          << str_or(m["cache_dir"]) << ")\n"
                          << "  used " << fmt_bytes(m.value("used_bytes", uint64_t{0})) << ", files "
                          << m.value("files", 0) << ", chunks " << m.value("chunks", 0) << ", hits " << m.value("hits", 0)
                          << ", misses " << m.value("misses", 0) << ", evictions " << m.value("evictions", 0) << "\n";
                Table t({"ORIGIN", "FETCHED"});
                for (const auto& [id, bytes] : m["fetched_bytes_per_origin"].items()) t.add({id, fmt_bytes(bytes.get<uint64_t>())});
                t.print("  ");
              }
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
