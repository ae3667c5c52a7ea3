#include "util/path_env.h"

#include <unistd.h>

#include <cstdlib>

namespace musicfs {

PathEnv PathEnv::process() {
  PathEnv env;
  env.uid = ::getuid();
  for (const char* name :
       {"MUSICFS_SOCKET", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "HOME"}) {
    if (const char* v = std::getenv(name); v != nullptr) env.vars[name] = v;
  }
  return env;
}

std::string PathEnv::get(const std::string& name) const {
  auto it = vars.find(name);
  return it == vars.end() ? std::string() : it->second;
}

std::string PathEnv::absolute(const std::string& name) const {
  std::string v = get(name);
  return !v.empty() && v.front() == '/' ? v : std::string();
}

}  // namespace musicfs
