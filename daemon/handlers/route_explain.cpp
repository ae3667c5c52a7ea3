// route-explain: runs the very decision a read makes (Federation::explain -> decide)
// and returns the whole record: every candidate, the choice, the rule.
#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"
#include "federation/serving.h"
#include "handlers/json_views.h"
#include "handlers/path_arg.h"

namespace musicfs {

CommandHandler route_explain_handler() {
  return {"route-explain", [](HandlerContext& ctx) {
            auto path = path_string_arg(ctx.args, "path");
            if (!path) return Reply::failure(path.error());
            auto where = mount_path_arg(ctx.daemon.mounts(), ctx.args, *path);
            if (!where) return Reply::failure(where.error());
            MountPtr mount = where->mount;
            const std::string& norm = where->vpath;
            RouteDecision d = mount->federation->explain(norm);
            if (!d.exists && norm != "/") {
              return Reply::failure("not_found", norm + " is not in the tree of " + mount->config.mount_point);
            }
            nlohmann::json j = decision_json(d);
            j["mount"] = encode_path(mount->config.mount_point);
            ServingPlan plan = plan_serving(d, mount->federation->cache(), mount->config.mount_point);
            if (!plan.rule_override.empty()) j["rule"] = plan.rule_override;
            j["served_from"] = plan.served_from;
            j["cached_bytes"] = plan.cached_bytes;
            j["cached_origin"] = plan.cached_bytes > 0 ? nlohmann::json(plan.origin) : nlohmann::json(nullptr);
            j["cache_enabled"] = plan.cache_enabled;
            if (d.is_directory || norm == "/") {
              nlohmann::json contrib = nlohmann::json::array();
              for (OriginSlot s : mount->federation->tree().contributors(norm)) {
                if (auto rt = mount->federation->registry().by_slot(s)) contrib.push_back(rt->config.id);
              }
              j["contributors"] = contrib;
            }
            return Reply::success(j);
          }};
}

}  // namespace musicfs
