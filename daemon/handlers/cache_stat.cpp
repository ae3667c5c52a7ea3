// cache-stat: the content cache does not exist in this version, so every cache
// counter is zero and "enabled" is false; the bytes fetched from each origin are real.
#include "daemon.h"
#include "handlers/handler.h"

namespace musicfs {

CommandHandler cache_stat_handler() {
  return {"cache-stat", [](HandlerContext& ctx) {
            nlohmann::json mounts = nlohmann::json::array();
            for (const auto& m : ctx.daemon.mounts().list()) {
              nlohmann::json per_origin = nlohmann::json::object();
              for (const auto& rt : *m->federation->origins()) per_origin[rt->config.id] = rt->bytes_read.load();
              mounts.push_back({{"mount_point", m->config.mount_point},
                                {"cache_dir", m->config.cache_dir},
                                {"enabled", false},
                                {"configured_capacity_bytes", m->config.cache.content_cache_gb << 30},
                                {"capacity_bytes", 0},
                                {"used_bytes", 0},
                                {"files", 0},
                                {"chunks", 0},
                                {"hits", 0},
                                {"misses", 0},
                                {"hit_bytes", 0},
                                {"miss_bytes", 0},
                                {"evictions", 0},
                                {"fetched_bytes_per_origin", per_origin}});
            }
            return Reply::success({{"mounts", mounts}});
          }};
}

}  // namespace musicfs
