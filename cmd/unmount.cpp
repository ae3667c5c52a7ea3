// musicfsctl unmount MOUNTPOINT
#include <climits>
#include <cstdlib>
#include <iostream>

#include "client.h"
#include "protocol/path_encoding.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"

namespace musicfs::cli {

CliCommand unmount_command() {
  return {"unmount", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("unmount", "Unmount a musicfs mount point");
            auto mp = std::make_shared<std::string>();
            sub->add_option("mountpoint", *mp, "The mount point")->required();
            return [mp, &g]() -> int {
              std::string path = *mp;
              char buf[PATH_MAX];
              if (::realpath(path.c_str(), buf) != nullptr) path = buf;
              auto out = call_daemon(g, "unmount", {{"mount_point", encode_path(path)}});
              if (!out.reply || !out.reply->ok) return out.exit_code;
              if (g.json) {
                print_json(out.reply->result);
              } else {
                std::cout << "unmounted " << path << "\n";
              }
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
