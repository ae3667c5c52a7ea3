#include "config/config.h"

#include "origins/origin_types.h"

namespace musicfs {

int64_t HealthConfig::threshold_for(const std::string& origin_type) const {
  if (auto it = per_origin_thresholds.find(origin_type); it != per_origin_thresholds.end()) {
    return it->second;
  }
  const OriginTypeInfo* info = find_origin_type(origin_type);
  if (info != nullptr && !info->remote) return 1;
  return unhealthy_threshold;
}

const OriginConfig* Config::find_origin(const std::string& id) const {
  for (const auto& o : origins) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

namespace {
std::string home_dir(const PathEnv& env) {
  if (std::string h = env.absolute("HOME"); !h.empty()) return h;
  return "/tmp/musicfs-" + std::to_string(env.uid);
}
// $VAR/musicfs when VAR is set, else for root `system_dir`, else ~/under_home/musicfs.
std::string xdg_dir(const PathEnv& env, const char* var, const char* system_dir, const char* under_home) {
  if (std::string v = env.absolute(var); !v.empty()) return v + "/musicfs";
  if (env.root()) return system_dir;
  return home_dir(env) + "/" + under_home + "/musicfs";
}
}  // namespace

std::string default_cache_dir(const PathEnv& env) {
  return xdg_dir(env, "XDG_CACHE_HOME", "/var/cache/musicfs", ".cache");
}
std::string default_state_dir(const PathEnv& env) {
  return xdg_dir(env, "XDG_STATE_HOME", "/var/lib/musicfs", ".local/state");
}
std::string default_config_path(const PathEnv& env) {
  return xdg_dir(env, "XDG_CONFIG_HOME", "/etc/musicfs", ".config") + "/config.toml";
}

}  // namespace musicfs
