// cache-clear: drops a mount's cached content, or one origin's. Only the cache
// directory is touched; origins are never written.
#include <algorithm>

#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"
#include "util/suggest.h"

namespace musicfs {

CommandHandler cache_clear_handler() {
  return {"cache-clear", [](HandlerContext& ctx) {
            auto mount_arg = path_string_arg(ctx.args, "mount", false);
            if (!mount_arg) return Reply::failure(mount_arg.error());
            auto origin = string_arg(ctx.args, "origin", false);
            if (!origin) return Reply::failure(origin.error());
            auto m = ctx.daemon.mounts().resolve(*mount_arg);
            if (!m) return Reply::failure(m.error());
            MountPtr mount = *m;
            if (!origin->empty()) {
              std::vector<std::string> ids;
              {
                std::lock_guard lock(mount->catalog_mu);
                for (const auto& o : mount->catalog) ids.push_back(o.id);
              }
              if (std::find(ids.begin(), ids.end(), *origin) == ids.end()) {
                std::string msg = "no origin '" + *origin + "' in mount " + mount->config.mount_point;
                if (auto hint = closest_match(*origin, ids)) msg += " (did you mean '" + *hint + "'?)";
                return Reply::failure("not_found", msg);
              }
            }
            if (!mount->cache) {
              return Reply::failure("unsupported", "the content cache of " + mount->config.mount_point +
                                                       " is off (content_cache_gb = 0): nothing to clear");
            }
            CacheClearResult r = mount->cache->clear(mount->config.mount_point, *origin);
            mount->cache->flush();
            return Reply::success({{"mount", encode_path(mount->config.mount_point)},
                                   {"origin", origin->empty() ? nlohmann::json(nullptr) : nlohmann::json(*origin)},
                                   {"chunks", r.chunks},
                                   {"bytes", r.bytes}});
          }};
}

}  // namespace musicfs
