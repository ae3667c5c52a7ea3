// TEST BUILD ONLY: musicfsctl debug-fault ORIGIN MODE [ARG]
// Drives the fault-injecting decorator for the integration tests. Release builds
// do not contain it.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"

namespace musicfs::cli {

CliCommand debug_fault_command() {
  return {"debug-fault", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("debug-fault", "Test builds only: inject faults into an origin");
            sub->group("");
            auto origin = std::make_shared<std::string>();
            auto mode = std::make_shared<std::string>();
            auto arg = std::make_shared<int64_t>(0);
            auto data_only = std::make_shared<bool>(false);
            sub->add_option("origin", *origin)->required();
            sub->add_option("mode", *mode, "none, fail, hang, slow MS, fail-times N");
            sub->add_option("arg", *arg);
            sub->add_flag("--data-only", *data_only, "Leave health probes alone");
            return [=, &g]() -> int {
              nlohmann::json args = {{"origin", *origin}, {"mode", *mode}, {"arg", *arg}, {"affect_probe", !*data_only}};
              auto out = call_daemon(g, "debug-fault", args);
              if (!out.reply || !out.reply->ok) return out.exit_code;
              print_json(out.reply->result);
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
