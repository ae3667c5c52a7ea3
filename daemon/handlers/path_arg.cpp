#include "handlers/path_arg.h"
#include "protocol/path_encoding.h"

#include "util/virtual_path.h"

namespace musicfs {

namespace {
// The mount that holds an absolute host path, and the virtual path inside it.
Result<MountPath> locate(MountTable& mounts, const std::string& host_path) {
  MountPtr best;
  for (const auto& m : mounts.list()) {
    const std::string& mp = m->config.mount_point;
    bool inside = host_path == mp || (host_path.rfind(mp, 0) == 0 && host_path[mp.size()] == '/');
    if (inside && (!best || mp.size() > best->config.mount_point.size())) best = m;
  }
  if (!best) return make_error(ErrorCode::kInvalidArgument, host_path + " is not inside any musicfs mount");
  std::string rest = host_path.substr(best->config.mount_point.size());
  return MountPath{best, rest.empty() ? std::string("/") : rest};
}
}  // namespace

Result<MountPath> mount_path_arg(MountTable& mounts, const nlohmann::json& args, const std::string& path) {
  auto mount_arg = path_string_arg(args, "mount", false);
  if (!mount_arg) return mount_arg.take_error();
  MountPath out;
  if (!mount_arg->empty()) {
    auto m = mounts.resolve(*mount_arg);
    if (!m) return m.take_error();
    out = {*m, path};
  } else {
    auto found = locate(mounts, path);
    if (!found) return found.take_error();
    out = std::move(*found);
  }
  auto norm = normalize_virtual_path(out.vpath);
  if (!norm) return norm.take_error();
  out.vpath = *norm;
  return out;
}

}  // namespace musicfs
