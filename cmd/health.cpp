// musicfsctl health [--check] [--origin ID]
// Exit status follows the Nagios plugin convention so a cron job can act on it:
// 0 all healthy; 1 some origin degraded/unhealthy but every mount still has a healthy
// origin; 2 some mount has no healthy origin; 3 the daemon cannot be reached.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"

namespace musicfs::cli {

CliCommand health_command() {
  return {"health", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("health", "Show each origin's health; the exit code summarises it");
            auto check = std::make_shared<bool>(false);
            auto origin = std::make_shared<std::string>();
            sub->add_flag("--check", *check, "Probe now and wait for the result before reporting");
            sub->add_option("--origin", *origin, "Only this origin");
            return [check, origin, &g]() -> int {
              nlohmann::json args = {{"check", *check}};
              if (!origin->empty()) args["origin"] = *origin;
              auto out = call_daemon(g, "health", args);
              if (!out.reply) return kExitUnreachable;
              if (!out.reply->ok) return out.exit_code;
              const auto& r = out.reply->result;
              int code = kExitOk;
              for (const auto& o : r["origins"]) {
                if (o.value("status", "") != "healthy") code = 1;
              }
              for (const auto& m : r["mounts"]) {
                if (m.value("origins", 0) > 0 && m.value("healthy_origins", 0) == 0) code = 2;
              }
              if (g.json) {
                print_json(r);
                return code;
              }
              Table t({"MOUNT", "ORIGIN", "STATUS", "FAILURES", "LAST_CHECK", "P50_MS", "P99_MS", "LAST_ERROR"});
              for (const auto& o : r["origins"]) {
                t.add({str_or(o["mount"]), str_or(o["id"]), str_or(o["status"]), str_or(o["consecutive_failures"]),
                       fmt_age(o["last_check"]), fmt_ms(o["latency_p50_ms"]), fmt_ms(o["latency_p99_ms"]),
                       str_or(o["last_error"])});
              }
              t.print();
              return code;
            };
          }};
}

}  // namespace musicfs::cli
