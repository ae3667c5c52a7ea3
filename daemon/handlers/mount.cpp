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
            // -o allow_other (musicfsctl mount, fstab): for this mount only; the file keeps its value.
            bool allow_other_override = false;
            if (auto it = ctx.args.find("allow_other"); it != ctx.args.end()) {
              if (!it->is_boolean()) {
                return Reply::failure(make_error(ErrorCode::kInvalidArgument, "argument 'allow_other' must be a boolean"));
              }
              allow_other_override = it->get<bool>();
            }
            auto config = parse_config_file(*path);
            if (!config) return Reply::failure(config.error());
            if (allow_other_override) apply_allow_other_option(*config);
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
