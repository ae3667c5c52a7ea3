#include "config/config.h"

#include <unistd.h>

#include <cstdlib>

#include "origins/origin_types.h"

namespace musicfs {

std::string OriginConfig::string_setting(const std::string& key, const std::string& fallback) const {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  return fallback;
}

int64_t OriginConfig::int_setting(const std::string& key, int64_t fallback) const {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  return fallback;
}

bool OriginConfig::bool_setting(const std::string& key, bool fallback) const {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  if (auto* v = std::get_if<bool>(&it->second)) return *v;
  return fallback;
}

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
std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') return h;
  return "/tmp/musicfs-" + std::to_string(getuid());
}
std::string xdg_dir(const char* var, const char* fallback_under_home) {
  if (const char* v = std::getenv(var); v != nullptr && *v == '/') return v;
  return home_dir() + "/" + fallback_under_home;
}
}  // namespace

std::string default_cache_dir() { return xdg_dir("XDG_CACHE_HOME", ".cache") + "/musicfs"; }
std::string default_state_dir() { return xdg_dir("XDG_STATE_HOME", ".local/state") + "/musicfs"; }

}  // namespace musicfs
