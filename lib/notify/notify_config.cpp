#include "notify/notify_config.h"

namespace musicfs {

std::string NotifyConfig::string_setting(const std::string& key, const std::string& fallback) const {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  return fallback;
}

int64_t NotifyConfig::int_setting(const std::string& key, int64_t fallback) const {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  return fallback;
}

}  // namespace musicfs
