// cache-stat: the content cache's counters per mount, and the bytes fetched from each
// origin. Mounts that share a cache_dir share one cache, so they report the same
// cache figures (hits and misses count since the daemon started).
#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"

namespace musicfs {

CommandHandler cache_stat_handler() {
  return {"cache-stat", [](HandlerContext& ctx) {
            nlohmann::json mounts = nlohmann::json::array();
            for (const auto& m : ctx.daemon.mounts().list()) {
              nlohmann::json per_origin = nlohmann::json::object();
              for (const auto origin_list = m->federation->origins(); const auto& rt : *origin_list) per_origin[rt->config.id] = rt->bytes_read.load();
              CacheStats s;
              if (m->cache) s = m->cache->stats();
              mounts.push_back({{"mount_point", encode_path(m->config.mount_point)},
                                {"cache_dir", encode_path(m->cache ? m->cache->dir() : m->config.cache_dir)},
                                {"enabled", m->cache != nullptr},
                                {"configured_capacity_bytes", m->config.cache.content_cache_bytes()},
                                {"capacity_bytes", s.capacity_bytes},
                                {"capped_by_disk", s.capped_by_disk},
                                {"used_bytes", s.used_bytes},
                                {"files", s.files},
                                {"chunks", s.chunks},
                                {"hits", s.hits},
                                {"misses", s.misses},
                                {"hit_bytes", s.hit_bytes},
                                {"miss_bytes", s.miss_bytes},
                                {"evictions", s.evictions},
                                {"evicted_bytes", s.evicted_bytes},
                                {"corrupt_chunks", s.corrupt_chunks},
                                {"dropped_writes", s.dropped_writes},
                                {"pending_bytes", s.pending_bytes},
                                {"fetched_bytes_per_origin", per_origin}});
            }
            return Reply::success({{"mounts", mounts}});
          }};
}

}  // namespace musicfs
