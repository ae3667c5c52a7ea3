#pragma once
// The "path" argument of commands that name a file in a mount (route-explain, cache
// prefetch): an absolute host path inside a mount, or a virtual path with "mount".
#include <string>

#include "handlers/handler.h"
#include "mount_table.h"

namespace musicfs {

struct MountPath {
  MountPtr mount;
  std::string vpath;  // normalized virtual path
};

Result<MountPath> mount_path_arg(MountTable& mounts, const nlohmann::json& args, const std::string& path);

}  // namespace musicfs
