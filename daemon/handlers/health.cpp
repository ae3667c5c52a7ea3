// health: each origin's status, failures, last check and latency, optionally after
// a forced probe (check=true) that this call waits for.
#include "daemon.h"
#include "handlers/handler.h"
#include "handlers/json_views.h"

namespace musicfs {

CommandHandler health_handler() {
  return {"health", [](HandlerContext& ctx) {
            auto only = string_arg(ctx.args, "origin", false);
            if (!only) return Reply::failure(only.error());
            bool check = ctx.args.value("check", false);
            auto mounts = ctx.daemon.mounts().list();
            bool found = only->empty();
            for (const auto& m : mounts) {
              if (!only->empty() && !m->federation->registry().get(*only)) continue;
              found = true;
              if (check) m->federation->check_now(*only);
            }
            if (!found) return Reply::failure("not_found", "no origin '" + *only + "' in any mount");
            nlohmann::json origins = nlohmann::json::array();
            nlohmann::json mount_rows = nlohmann::json::array();
            for (const auto& m : mounts) {
              size_t healthy = 0, total = 0;
              for (const auto& rt : *m->federation->origins()) {
                ++total;
                if (rt->status.load() == HealthStatus::kHealthy) ++healthy;
                if (!only->empty() && rt->config.id != *only) continue;
                nlohmann::json o = origin_json(*rt, m->federation->tree());
                o["mount"] = m->config.mount_point;
                origins.push_back(o);
              }
              mount_rows.push_back({{"mount_point", m->config.mount_point},
                                    {"origins", total},
                                    {"healthy_origins", healthy}});
            }
            return Reply::success({{"origins", origins}, {"mounts", mount_rows}});
          }};
}

}  // namespace musicfs
