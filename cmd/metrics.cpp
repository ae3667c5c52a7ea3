// musicfsctl metrics: the daemon's figures in the Prometheus text exposition format
// (the daemon renders it; this prints it as it came); --json prints the daemon's
// result: the text and the same families as structured values.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"

namespace musicfs::cli {

CliCommand metrics_command() {
  return {"metrics", [](CLI::App& app, Globals& g) -> Runner {
            app.add_subcommand("metrics", "Print the daemon's metrics in the Prometheus text format");
            return [&g]() -> int {
              auto out = call_daemon(g, "metrics");
              if (!out.reply || !out.reply->ok) return out.exit_code;
              const auto& r = out.reply->result;
              if (g.json) {
                print_json(r);
                return kExitOk;
              }
              std::cout << text(r, "text", "") << std::flush;
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
