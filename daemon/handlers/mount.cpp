#include "config/config_parser.h"
#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"
#include "handlers/json_views.h"

namespace musicfs {

CommandHandler mount_handler() {
  return {"mount", [](HandlerContext& ctx) {
            auto path = path_string_arg(ctx.args, "config");
            if (!path) return Reply::failure(path.error());
            auto override_mp = path_string_arg(ctx.args, "mount_point", false);
            if (!override_mp) return Reply::failure(override_mp.error());
            auto config = parse_config_file(*path);
            if (!config) return Reply::failure(config.error());
            if (!override_mp->empty()) {
              config->mount_point = *override_mp;
              config->mount_point_line = 0;  // given on the command line, not in the file
            }
            auto m = ctx.daemon.mounts().mount(std::move(*config));
            if (!m) return Reply::failure(m.error());
            nlohmann::json result = mount_json(**m);
            // Distinct paths indexed so far: a file two origins hold is one file of the
            // tree (the per-origin counts in "origins" count copies).
            result["files"] = (*m)->federation->tree_now().distinct_file_count();
            return Reply::success(std::move(result));
          }};
}

}  // namespace musicfs
