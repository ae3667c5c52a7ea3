#include <unistd.h>

#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"
#include "handlers/json_views.h"
#include "util/time_util.h"

namespace musicfs {

CommandHandler status_handler() {
  return {"status", [](HandlerContext& ctx) {
            nlohmann::json mounts = nlohmann::json::array();
            for (const auto& m : ctx.daemon.mounts().list()) mounts.push_back(mount_json(*m));
            int64_t started = ctx.daemon.started_at();
            return Reply::success({{"pid", ::getpid()},
                                   {"version", MUSICFS_VERSION},
                                   {"started_at", iso8601_utc(started)},
                                   {"uptime_secs", unix_now() - started},
                                   {"socket", encode_path(ctx.daemon.options().socket_path)},
                                   {"state_dir", encode_path(ctx.daemon.options().state_dir)},
                                   {"mounts", mounts}});
          }};
}

}  // namespace musicfs
