#include "notify/notifier.h"

namespace musicfs {

const std::vector<NotifierTypeInfo>& notifier_types() {
  // One row per type: a new notifier is its own file and one line here.
  static const std::vector<NotifierTypeInfo> types = {
      exec_notifier_type(),
      mpd_notifier_type(),
      subsonic_notifier_type(),
      jellyfin_notifier_type(),
      plex_notifier_type(),
  };
  return types;
}

const NotifierTypeInfo* find_notifier_type(const std::string& name) {
  for (const auto& t : notifier_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> notifier_type_names() {
  std::vector<std::string> out;
  for (const auto& t : notifier_types()) out.push_back(t.name);
  return out;
}

}  // namespace musicfs
