// route-explain: runs the very decision a read makes (Federation::explain -> decide)
// and returns the whole record: every candidate, the choice, the rule.
#include "daemon.h"
#include "handlers/handler.h"
#include "handlers/json_views.h"
#include "util/virtual_path.h"

namespace musicfs {

namespace {
// The mount that holds an absolute host path, and the virtual path inside it.
Result<std::pair<MountPtr, std::string>> locate(MountTable& mounts, const std::string& host_path) {
  MountPtr best;
  for (const auto& m : mounts.list()) {
    const std::string& mp = m->config.mount_point;
    bool inside = host_path == mp || (host_path.rfind(mp, 0) == 0 && host_path[mp.size()] == '/');
    if (inside && (!best || mp.size() > best->config.mount_point.size())) best = m;
  }
  if (!best) return make_error(ErrorCode::kInvalidArgument, host_path + " is not inside any musicfs mount");
  std::string rest = host_path.substr(best->config.mount_point.size());
  return std::make_pair(best, rest.empty() ? std::string("/") : rest);
}
}  // namespace

CommandHandler route_explain_handler() {
  return {"route-explain", [](HandlerContext& ctx) {
            auto path = string_arg(ctx.args, "path");
            if (!path) return Reply::failure(path.error());
            auto mount_arg = string_arg(ctx.args, "mount", false);
            if (!mount_arg) return Reply::failure(mount_arg.error());
            MountPtr mount;
            std::string vpath;
            if (!mount_arg->empty()) {
              auto m = ctx.daemon.mounts().resolve(*mount_arg);
              if (!m) return Reply::failure(m.error());
              mount = *m;
              vpath = *path;
            } else {
              auto found = locate(ctx.daemon.mounts(), *path);
              if (!found) return Reply::failure(found.error());
              mount = found->first;
              vpath = found->second;
            }
            auto norm = normalize_virtual_path(vpath);
            if (!norm) return Reply::failure(norm.error());
            RouteDecision d = mount->federation->explain(*norm);
            if (!d.exists && *norm != "/") {
              return Reply::failure("not_found", *norm + " is not in the tree of " + mount->config.mount_point);
            }
            nlohmann::json j = decision_json(d);
            j["mount"] = mount->config.mount_point;
            // No content cache exists yet, so nothing is ever served from it.
            j["cached_bytes"] = 0;
            j["cache_enabled"] = false;
            if (d.is_directory || *norm == "/") {
              nlohmann::json contrib = nlohmann::json::array();
              for (OriginSlot s : mount->federation->tree().contributors(*norm)) {
                if (auto rt = mount->federation->registry().by_slot(s)) contrib.push_back(rt->config.id);
              }
              j["contributors"] = contrib;
            }
            return Reply::success(j);
          }};
}

}  // namespace musicfs
